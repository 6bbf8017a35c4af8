"""Replication receiver: applies a partner's change to the mapped local calendar, once per
``changeId``, under the conflict rule (see :mod:`teamcal.services.replication`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from teamcal.access import PartnerReach, PartnerRefusal, is_active, partner_reach, partner_write_refusal
from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
)
from teamcal.ids import external_id
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord
from teamcal.models.origin import Origin
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.observability import logger, metrics
from teamcal.partners.protocol import ChangeOutcome, ChangeResult, EventChange, EventRef
from teamcal.services.events import JIRA_BACKED, calendar_zone
from teamcal.services.replication.shared import event_or_none
from teamcal.services.sync_context import SyncContext

_CHILD_CHUNK = 10
_TIME_KEYS = ("allDayStart", "allDayEnd", "startDate", "endDate")


def _get_or_none(ctx: SyncContext, event_id: int) -> EventRecord | None:
    return event_or_none(ctx, event_id)


def _local_id(calendar_id: int, sync_id: int, ref: EventRef) -> int:
    if ref.home == "receiver":
        return ref.id
    return external_id(calendar_id, f"partner:{sync_id}", str(ref.id))


def _normalise(record: EventRecord, default_zone: str, kind: str) -> EventRecord:
    """Validate the time and recurrence fields of a replica (RecurrenceError → 400) and set
    ``kind``, ``seriesEnd`` and ``overrides`` as :mod:`teamcal.storage.events` expects."""
    if kind == "child":
        return record.as_child().normalized(default_zone)
    return record.replaced(drop=("kind",)).normalized(default_zone)  # single or master: the series decides


def _pick_source(ctx: SyncContext, calendar: CalendarRecord, type_key: str) -> int:
    order = {sid: i for i, sid in enumerate(calendar.source_ids)}
    usable = sorted(
        (
            s
            for s in ctx.config.sources.get_many(calendar.source_ids)
            if s.active and s.event_type_key not in JIRA_BACKED
        ),
        key=lambda s: order.get(s.id, 0),
    )
    same = [s for s in usable if s.event_type_key == type_key]
    chosen = (same or usable)[:1]
    if not chosen:
        raise ConflictError(f"calendar {calendar.id} has no source that can hold events")
    return chosen[0].id


@dataclasses.dataclass(frozen=True)
class _State:
    """Our state a partner's change is weighed against: a stored event, or its tombstone."""

    event_id: int
    updated: int
    version: int

    @classmethod
    def of(cls, record: EventRecord) -> _State:
        return cls(record.id, record.updated, record.version)

    @classmethod
    def of_tombstone(cls, event_id: int, tomb: Mapping[str, Any]) -> _State:
        return cls(event_id, int(tomb.get("updated") or 0), int(tomb.get("version") or 0))


def _newer(change: EventChange, ours: _State) -> int:
    """1 if the change is newer than ``ours``, 0 if the same, -1 if older (``updated``, then ``version``)."""
    mine = (ours.updated, ours.version)
    theirs = (change.updated, change.version)
    return (theirs > mine) - (theirs < mine)


def _log_loser(sync_id: int, change: EventChange, ours: _State) -> ChangeResult:
    logger.info(
        "replication conflict: the partner's change lost to ours",
        extra={
            "synchronizationId": sync_id,
            "eventId": ours.event_id,
            "changeId": change.change_id,
            "op": change.op,
            "theirs": {"updated": change.updated, "version": change.version},
            "ours": {"updated": ours.updated, "version": ours.version},
        },
    )
    metrics.add_metric(name="SyncConflictLost", unit="Count", value=1)
    return ChangeResult(result=ChangeOutcome.STALE, eventId=ours.event_id)


def _stamped(record: EventRecord, sync_id: int) -> EventRecord:
    return record.replaced({"syncApplied": {"synchronizationId": sync_id, "version": record.version}})


def _with_override(master: EventRecord, rid: str, child: EventRecord | None, sync_id: int) -> EventRecord:
    return _stamped(master.with_override(rid, child), sync_id)


@dataclasses.dataclass(frozen=True)
class _Target:
    """Where a change lands: our synchronization, mapping and calendar."""

    sync_id: int
    mapping: CalendarMappingRecord
    calendar: CalendarRecord
    reach: PartnerReach


def _target(ctx: SyncContext, sync: SynchronizationRecord, change: EventChange) -> _Target:
    sync_id = int(sync.id)
    mapping = ctx.invitations.mapping(sync_id, change.mapping_id)
    if mapping is None:
        raise NotFoundError(f"mapping {change.mapping_id} not found")
    calendar = ctx.config.calendars.get(mapping.local_calendar_id)
    if not is_active(calendar):
        raise ConflictError("the mapped calendar no longer exists")
    assert calendar is not None
    return _Target(sync_id, mapping, calendar, partner_reach(sync))


def _refuse(target: _Target, change: EventChange, refusal: PartnerRefusal, *, creating: bool) -> ChangeResult:
    """Log and count a refused partner write (:mod:`teamcal.access`, rule 13); never applied.

    Raises:
        ForbiddenError: always, but for a new event of a type not replicated here (``skipped``).
    """
    logger.warning(
        "replication: a partner change was refused",
        extra={
            "synchronizationId": target.sync_id,
            "mappingId": change.mapping_id,
            "changeId": change.change_id,
            "op": change.op,
            "ref": change.ref.model_dump(by_alias=True),
            "reason": refusal.name,
        },
    )
    metrics.add_metric(name="SyncChangeRefused", unit="Count", value=1)
    if refusal is PartnerRefusal.TYPE_OUT_OF_SCOPE and creating:
        return ChangeResult(result=ChangeOutcome.SKIPPED)
    raise ForbiddenError(refusal.value)


def _type_of(ctx: SyncContext, event: EventRecord) -> str | None:
    source = ctx.config.sources.get(event.event_type_config_id)
    return source.event_type_key if source else None


def apply_change(ctx: SyncContext, sync: SynchronizationRecord, change: EventChange) -> ChangeResult:
    """Apply one partner change to the mapped local calendar (see the module docstring).

    Raises:
        NotFoundError: unknown mapping. ForbiddenError: refused by the access gate (rule 13: the
        mapping does not take changes, its calendar left our reach, the event is not this
        partner's to change, a type outside the scope). ConflictError: the calendar is gone or has no source.
        InvalidInputError: the event's fields are not a valid event. RetryableError: a race with
        another writer, or an exception whose master has not arrived yet (the sender retries).
    """
    target = _target(ctx, sync, change)
    if ctx.invitations.has_receipt(target.sync_id, change.change_id):
        return ChangeResult(result=ChangeOutcome.DUPLICATE)
    local_id = _local_id(target.calendar.id, target.sync_id, change.ref)
    stored = _get_or_none(ctx, local_id)
    if stored is not None and stored.calendar_id != target.calendar.id:
        raise NotFoundError(f"event {change.ref.id} is not in the mapped calendar")
    refusal = partner_write_refusal(
        target.sync_id,
        target.reach,
        target.mapping,
        stored,
        _type_of(ctx, stored) if stored is not None else None,
        change.event_type if change.op != "delete" else None,
    )
    if refusal is not None:
        return _refuse(target, change, refusal, creating=stored is None)
    if change.op == "delete":
        return _apply_delete(ctx, target, change, stored)
    return _apply_upsert(ctx, target, change, local_id, stored)


def _commit(ctx: SyncContext, target: _Target, change: EventChange, **writes: Any) -> bool:
    """One events transaction; False when it lost to the same change applied concurrently.

    Raises:
        RetryableError: it lost to another writer (the sender retries with the newest state).
    """
    try:
        ctx.events.commit(**writes)
    except ConflictError as e:
        if ctx.invitations.has_receipt(target.sync_id, change.change_id):
            return False
        raise RetryableError("the event changed while the partner's change was applied; retry") from e
    return True


def _wanted_type(target: _Target, type_key: str) -> bool:
    return target.reach.covers_type(type_key) and target.mapping.wants_type(type_key)


def _apply_upsert(
    ctx: SyncContext, target: _Target, change: EventChange, local_id: int, stored: EventRecord | None
) -> ChangeResult:
    assert change.event is not None
    assert change.event_type is not None
    if not _wanted_type(target, change.event_type):
        return ChangeResult(result=ChangeOutcome.SKIPPED)
    tomb = ctx.invitations.tombstone(local_id) if stored is None else None
    if tomb is not None and _newer(change, _State.of_tombstone(local_id, tomb)) <= 0:
        return _log_loser(target.sync_id, change, _State.of_tombstone(local_id, tomb))  # deleted here after it was made
    if stored is None and tomb is None and change.ref.home == "receiver":
        return ChangeResult(result=ChangeOutcome.ABSENT)  # not ours (any more): never create an id a partner picks
    if stored is not None:
        order = _newer(change, _State.of(stored))
        if order == 0:
            return ChangeResult(result=ChangeOutcome.DUPLICATE, eventId=local_id)
        if order < 0:
            return _log_loser(target.sync_id, change, _State.of(stored))
        if (stored.kind == "child") != (change.kind == "child"):
            raise InvalidInputError.for_field("kind", "an exception cannot become a plain event, nor the reverse")
    master: EventRecord | None = None
    if change.kind == "child":
        assert change.parent_ref is not None
        master = _get_or_none(ctx, _local_id(target.calendar.id, target.sync_id, change.parent_ref))
        if master is None or master.kind != "master" or master.calendar_id != target.calendar.id:
            raise RetryableError("the master of this exception has not arrived yet")
        source_id = master.event_type_config_id
    elif stored is not None:
        source_id = stored.event_type_config_id
    else:
        source_id = _pick_source(ctx, target.calendar, change.event_type)
    record = _replica(target, change, local_id, stored, source_id, master)
    create, replace, delete = _placement(ctx, target.sync_id, record, stored, master)
    applied = _commit(
        ctx,
        target,
        change,
        create=create,
        replace=replace,
        delete=delete,
        conditions=[
            ctx.config.sources.active_condition(source_id),
            ctx.invitations.receipt_action(target.sync_id, change.change_id, local_id),
            *([ctx.invitations.drop_tombstone_action(local_id)] if tomb is not None else []),
            *[_tomb(ctx, d, change, target.sync_id) for d in delete],
        ],
    )
    return ChangeResult(result=ChangeOutcome.APPLIED if applied else ChangeOutcome.DUPLICATE, eventId=local_id)


def _replica(
    target: _Target,
    change: EventChange,
    local_id: int,
    stored: EventRecord | None,
    source_id: int,
    master: EventRecord | None,
) -> EventRecord:
    assert change.event is not None
    event = change.event.model_dump(by_alias=True)
    record: dict[str, Any] = {
        **{k: v for k, v in event.items() if k not in _TIME_KEYS and k != "allDay"},
        "allDay": change.event.all_day,
        "id": local_id,
        "calendarId": target.calendar.id,
        "eventTypeConfigId": source_id,
        "reporter": (stored.reporter if stored is not None else None) or f"partner:{target.sync_id}",
        "parentId": master.id if master is not None else None,
        "recurrenceId": change.event.recurrence_id if master is not None else None,
        "version": max(stored.version + 1, change.version) if stored is not None else change.version,
        "created": int((stored.created if stored is not None else None) or change.created or change.updated),
        "updated": change.updated,
    }
    keys = ("allDayStart", "allDayEnd") if change.event.all_day else ("startDate", "endDate")
    record.update({k: event.get(k) for k in keys})
    origin = stored.came_from if stored is not None else Origin.of({})
    if stored is None and change.ref.home == "sender":
        origin = Origin.partner(target.sync_id, change.ref.id)
    if origin.stored() is not None:
        record["origin"] = origin.stored()
    replica = _normalise(EventRecord.from_item(record), calendar_zone(target.calendar), change.kind)
    if replica.kind == "master":
        replica = replica.replaced({"overrides": dict(stored.overrides) if stored is not None else {}})
    return _stamped(replica, target.sync_id)


def _placement(
    ctx: SyncContext,
    sync_id: int,
    record: EventRecord,
    stored: EventRecord | None,
    master: EventRecord | None,
) -> tuple[list[EventRecord], list[tuple[EventRecord, EventRecord]], list[EventRecord]]:
    """The writes of an upsert: the replica, its master's ``overrides``, dropped exceptions."""
    create = [record] if stored is None else []
    replace: list[tuple[EventRecord, EventRecord]] = [] if stored is None else [(stored, record)]
    delete: list[EventRecord] = []
    if master is not None:
        rid = str(record.recurrence_id)
        if stored is not None and stored.parent_id not in (None, master.id):
            old_parent = _get_or_none(ctx, int(stored.parent_id or 0))
            if old_parent is not None:
                replace.append((old_parent, _with_override(old_parent, str(stored.recurrence_id), None, sync_id)))
        replace.append((master, _with_override(master, rid, record, sync_id)))
    elif stored is not None and stored.kind == "master" and record.kind != "master":
        delete = ctx.events.children(stored.id)  # the series is gone: so are its exceptions
        if len(delete) > _CHILD_CHUNK:
            raise InvalidInputError.for_field("recurrence", "too many exceptions to drop with the series at once")
    return create, replace, delete


def _apply_delete(ctx: SyncContext, target: _Target, change: EventChange, stored: EventRecord | None) -> ChangeResult:
    if stored is None:
        return ChangeResult(result=ChangeOutcome.ABSENT)
    if _newer(change, _State.of(stored)) < 0:
        return _log_loser(target.sync_id, change, _State.of(stored))
    sync_id, event_id = target.sync_id, stored.id
    receipt = ctx.invitations.receipt_action(sync_id, change.change_id, event_id)
    replace: list[tuple[EventRecord, EventRecord]] = []
    if stored.kind == "master":
        children = ctx.events.children(event_id)
        for start in range(0, len(children), _CHILD_CHUNK):
            chunk = children[start : start + _CHILD_CHUNK]
            _commit(ctx, target, change, delete=chunk, conditions=[_tomb(ctx, c, change, sync_id) for c in chunk])
        stored = ctx.events.get(event_id) if children else stored
    elif stored.kind == "child":
        parent = _get_or_none(ctx, int(stored.parent_id or 0))
        if parent is not None:
            replace.append((parent, _with_override(parent, str(stored.recurrence_id), None, sync_id)))
    applied = _commit(
        ctx, target, change, delete=[stored], replace=replace, conditions=[_tomb(ctx, stored, change, sync_id), receipt]
    )
    return ChangeResult(result=ChangeOutcome.APPLIED if applied else ChangeOutcome.DUPLICATE, eventId=event_id)


def _tomb(ctx: SyncContext, deleted: EventRecord, change: EventChange, sync_id: int) -> dict[str, Any]:
    """The tombstone of an event deleted for a partner's change (in the same transaction)."""
    return ctx.invitations.tombstone_action(
        deleted.id,
        updated=change.updated,
        version=change.version,
        deleted_version=deleted.version,
        applied_by=sync_id,
    )
