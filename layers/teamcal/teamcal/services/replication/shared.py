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
    """The partner whose change this state of ``record`` (a stream image's plain item) is:
    ``syncApplied`` at this version (:func:`applied_sync_of`)."""
    return applied_sync_of(record.get("syncApplied"), int(record.get("version") or 0))


def applied_sync_of(applied: Mapping[str, Any] | None, version: int) -> int | None:
    """The synchronization of a stored ``syncApplied`` ``{synchronizationId, version}`` when it
    names this ``version`` of the event (a partner's change, not to be sent back), else None."""
    if applied and int(applied.get("version") or -1) == version:
        return int(applied["synchronizationId"])
    return None


def event_or_none(ctx: SyncContext, event_id: int) -> EventRecord | None:
    """The stored event ``event_id``, or None when it is gone."""
    try:
        return ctx.events.get(event_id)
    except NotFoundError:
        return None
