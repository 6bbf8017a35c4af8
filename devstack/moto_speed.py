"""Faster DynamoDB reads for the local stack's moto server (dev tooling: nothing here runs on AWS).

Where a large search's time went on the local stack (300 masters, 3,000 singles, one 91-day
``POST /event/search``, measured with cProfile in moto 5.2): about 70 % in moto's generic response
serializer, which walks every attribute value of every item against botocore's shape model
(``moto.core.serialize``), and most of the rest in moto's Query comparing ``DynamoType`` keys
(``cast_value`` builds a ``Decimal`` or a copy for each comparison) while it scans every item of
the table for each Query. teamcal's own reads are the same few Queries as on AWS.

:func:`install` changes two things inside the moto process only, without changing any answer:

* the answers of the item-carrying reads (Query, Scan, GetItem, BatchGetItem) are written with
  ``json.dumps`` (binary values base64-encoded, as the AWS JSON protocol does) instead of the
  shape-walking serializer;
* a Query on the table's own key reads only the items of its partition, not every item of the
  table, and sorts by a plain key.

Answers are byte-for-byte what boto3 parses from moto's own serializer
(``tests/unit/test_devstack_moto_speed.py`` compares them on every attribute type).
"""

from __future__ import annotations

import base64
import inspect
import json
from decimal import Decimal
from typing import Any

#: The DynamoDB operations whose answers carry items (the ones worth a faster serializer).
ITEM_READS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})

_installed: dict[str, Any] = {}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dump_result(result: Any) -> str:
    """A DynamoDB read's result (plain dicts, attribute values in their wire form, ``bytes`` for
    binary) as the body of an AWS JSON 1.0 answer."""
    return json.dumps(result, default=_json_default, separators=(",", ":"))


def install() -> None:
    """Install both speed-ups in this process (idempotent). Call it in the moto server process
    before it serves; :func:`uninstall` restores moto's own code (tests)."""
    if _installed:
        return
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    original_result = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in ITEM_READS:
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, dump_result(self.result)
        return original_result(self, context)

    signature = inspect.signature(Table.query)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        candidates = _candidates(self, hash_key, arguments.get("index_name"), arguments.get("hash_key_conditions"))
        target: Any = self if candidates is None else _PartitionView(self, candidates)
        return original_query(target, hash_key, *args, **kwargs)

    original_query = Table.query
    setattr(DynamoResult, "execute_result", execute_result)  # noqa: B010 - a patch, on purpose
    setattr(Table, "query", query)  # noqa: B010
    _installed.update(result=original_result, query=original_query)


def uninstall() -> None:
    """Restore moto's own serializer and Query (no-op when not installed)."""
    if not _installed:
        return
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    setattr(DynamoResult, "execute_result", _installed["result"])  # noqa: B010
    setattr(Table, "query", _installed["query"])  # noqa: B010
    _installed.clear()


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
    """The only items a Query can return, or None to let moto look at every item.

    On the table's key: the items of the partition (moto's own dict). On an index: the items whose
    index hash attributes hold exactly the queried strings (other key types are left to moto,
    whose equality is numeric for numbers).
    """
    if index_name is None:
        if hash_key is None or not table.range_key_attr:
            return None
        partition = table.items.get(hash_key)
        return list(partition.values()) if partition else []
    wanted = [(name, v.type, v.value) for name, v in conditions or () if v.type == "S"]
    if not wanted or len(wanted) != len(conditions):
        return None
    out = []
    for item in table.all_items():
        attrs = getattr(item, "attrs", None)
        if attrs is None:
            continue
        for name, kind, raw in wanted:
            found = attrs.get(name)
            if found is None or found.type != kind or found.value != raw:
                break
        else:
            out.append(item)
    return out


class _PartitionView:
    """The table as moto's Query sees it, except that ``all_items`` is one partition's items."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)
