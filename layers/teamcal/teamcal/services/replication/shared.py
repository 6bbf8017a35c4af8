"""What the replication outbox, sender and receiver share: which mappings push, which partner a
stored state came from, reading an event that may be gone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from teamcal.errors import NotFoundError

if TYPE_CHECKING:  # annotations only: the outbox imports this module without the models (cold start)
    from teamcal.models.event_record import EventRecord
    from teamcal.services.sync_context import SyncContext

#: The mapping directions that send our changes to the partner.
PUSHES = ("PUSH", "BOTH")


def applied_sync(record: Mapping[str, Any]) -> int | None:
    """The partner whose change this state of ``record`` is (``syncApplied`` at this version)."""
    applied = record.get("syncApplied") or {}
    if applied and int(applied.get("version") or -1) == int(record.get("version") or 0):
        return int(applied["synchronizationId"])
    return None


def event_or_none(ctx: SyncContext, event_id: int) -> EventRecord | None:
    """The stored event ``event_id``, or None when it is gone."""
    try:
        return ctx.events.get(event_id)
    except NotFoundError:
        return None
