"""Two DynamoDB behaviours of moto's server that differ from AWS in ways that break the local stack
(dev tooling: nothing here runs on AWS). Checked against moto 5.2.

1. **A rolled-back TransactWriteItems cuts the table's stream.** moto backs every table of a
   transaction up with ``copy.deepcopy`` before applying it, and when one of its conditions fails
   it puts the copies in place of the tables. A copy has a copy of the stream, so every shard
   iterator a consumer already holds (the stream driver's, as Lambda's event source mapping)
   keeps reading the old stream, which never gets another record: after one conflict on the
   events table, no change of that deployment reached its partners again. On AWS a cancelled
   transaction writes nothing and the stream goes on. :func:`install` gives the restored table the
   stream it had, without the records of the cancelled transaction's partial writes.
2. **Requests run side by side on the server's threads without isolation.** The backup, the
   partial writes and the restore of a transaction are not atomic, so a write another request
   made in between is lost with the restore, and a read in between sees a transaction's partial
   writes; a read serialising an item while an UpdateItem changes it can fail. On AWS, a
   transaction is all or nothing to every other request. :func:`install` serves one DynamoDB
   request at a time (the server's other services still run side by side).

``tests/unit/test_devstack_moto_fixes.py`` shows both on a moto server.
"""

from __future__ import annotations

import threading
from typing import Any

#: One DynamoDB request at a time in the moto server (re-entrant: moto's handlers call each other).
REQUEST_LOCK = threading.RLock()

_installed: dict[str, Any] = {}


def install() -> None:
    """Install both fixes in this process (idempotent); call it in the moto server process before
    it serves, after :func:`devstack.moto_speed.install` (this wraps the request handler that one
    may have replaced). :func:`uninstall` restores what was there."""
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    original_call = DynamoHandler.call_action
    original_transact = DynamoDBBackend.transact_write_items

    def call_action(self: Any) -> Any:
        with REQUEST_LOCK:
            return original_call(self)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with REQUEST_LOCK:
            streams = {
                name: (table.stream_shard, len(table.stream_shard.items))
                for name, table in self.tables.items()
                if getattr(table, "stream_shard", None) is not None
            }
            try:
                return original_transact(self, transact_items)
            except Exception:
                keep_streams(self.tables, streams)
                raise

    setattr(DynamoHandler, "call_action", call_action)  # noqa: B010 - a patch, on purpose
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010
    _installed.update(call=original_call, transact=original_transact, call_patch=call_action)


def keep_streams(tables: dict[str, Any], streams: dict[str, tuple[Any, int]]) -> None:
    """After moto rolled a transaction back: each table of ``tables`` (name → moto ``Table``) that
    moto replaced by its backup gets back its stream ``streams[name]`` (the ``StreamShard`` and
    its record count before the transaction), without the records written since (a cancelled
    transaction writes nothing)."""
    for name, (shard, count) in streams.items():
        table = tables.get(name)
        if table is None or table.stream_shard is shard:
            continue
        del shard.items[count:]
        shard.table = table
        table.stream_shard = shard


def uninstall() -> None:
    """Restore moto's own handler and transactions (no-op when not installed). Uninstall in the
    reverse order of installing: this puts back the handler it found."""
    if not _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    if DynamoHandler.call_action is _installed["call_patch"]:
        setattr(DynamoHandler, "call_action", _installed["call"])  # noqa: B010
    setattr(DynamoDBBackend, "transact_write_items", _installed["transact"])  # noqa: B010
    _installed.clear()
