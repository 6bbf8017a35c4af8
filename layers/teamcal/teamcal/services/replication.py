"""Event replication between partner deployments: outbox, sender, receiver.

The transactional outbox is the events table's own stream (NEW_AND_OLD_IMAGES): every committed
change of an event's main item (``sk = "EV"``) is a stream record, so no change can be written
without being published, and nothing is published that was not written.

1. **Outbox** (:func:`publish`, the stream consumer): for each record, the mappings of the event's
   calendar (one Query) that push to the partner each get a message on the FIFO sync queue:
   ``MessageGroupId = "<syncId>-<series root id>"`` (a master, its exceptions and a single event
   are each one group: per-event order, and an exception never overtakes its master), and a
   deduplication id from the stream record's id (a re-delivered record is sent once). A change
   that came FROM a partner (see loop-freedom) is not queued for that partner.
2. **Sender** (:func:`deliver`, the queue consumer): re-reads the event (the newest state is
   sent; a message whose event has gone sends nothing, the delete message follows), re-checks
   the synchronization (ACTIVE), the mapping and our scope (editable any time: an event that left
   it is sent as a delete), signs and POSTs the change. Outcomes: 2xx done; 4xx (but 408/429) or a
   refused answer: dropped and logged (retrying cannot help); no answer, 5xx, 408, 429: retried —
   the message's visibility is set to ``base * 2**(receives-1)`` seconds, at most 15 minutes,
   and every later message of the same group in the batch waits too (order), as does every later
   message for the same partner in the batch (it is down: do not wait out one timeout per
   message). With 100 receives before the dead-letter queue and 14 days' retention, a partner
   down for a day loses nothing.
3. **Receiver** (:func:`apply_change`, behind the signed webhook): applies the change to the
   mapped local calendar, once per ``changeId`` (a receipt item written in the same transaction
   as the event), under the conflict rule: the newer ``updated`` wins, ``version`` breaks a tie;
   the losing change is logged and answered ``stale``.

Identity and loop-freedom: an event replicated here gets the id
``teamcal.ids.external_id(calendar_id, "partner:<syncId>", originEventId)`` (a re-delivery finds
the same event: never a duplicate) and ``origin = {synchronizationId, eventId}`` (its home
deployment's id). Every write the receiver makes stamps ``syncApplied = {synchronizationId,
version}``; the outbox sees ``syncApplied.version == version`` and does not send that change
back to that partner (a later local edit bumps ``version`` and is sent). A change to a replica
names the event by its home (``ref.home = "receiver"``), so it lands on the original, not on a
copy of a copy.

Deletes and tombstones: every delete of an event that matters to a partner leaves a tombstone
(:mod:`teamcal.storage.invitations`) with the delete's ``updated`` and ``version``: written by the
receiver in the delete's own transaction (naming the partner, so the outbox does not send the
REMOVE back), or by the outbox for a local delete (its time is the outbox's clock, just after the
delete: the stream's own timestamp has one-second precision). A change that arrives for a deleted
event is judged against its tombstone by the same conflict rule: an older one is ``stale``, a
newer one re-creates the event (so both sides converge on the newer of "deleted" and "edited").

Replica fields: the CCJ event fields of :class:`teamcal.partners.protocol.ReplicatedEvent`;
``reporter`` is ``partner:<syncId>``; ``updated`` is the partner's (so the conflict rule compares
like with like) and ``version`` is ``max(ours + 1, theirs)``. Bookkeeping writes (a master's
``overrides`` when an exception arrives) bump ``version`` but keep ``updated``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
    UnauthorizedError,
)
from teamcal.ids import external_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.observability import logger, metrics
from teamcal.partners.errors import PartnerAddressError, PartnerHttpError, PartnerProtocolError, PartnerUnreachableError
from teamcal.partners.protocol import ChangeResult, EventChange, EventRef, Scope
from teamcal.services.events import JIRA_BACKED, calendar_zone, normalize_record
from teamcal.services.sync_context import SyncContext, partner_url, scope_of, signing_secret
from teamcal.storage.dynamo import deserialize
from teamcal.storage.invitations import InvitationRepository
from teamcal.storage.sync_queue import SyncQueue

#: The longest a failed message waits before its next attempt (seconds).
MAX_BACKOFF_SECONDS = 900
_CHILD_CHUNK = 10
_PUSHES = ("PUSH", "BOTH")
_TIME_KEYS = ("allDayStart", "allDayEnd", "startDate", "endDate")


# ============================================================================ shared helpers
def _applied_sync(record: Mapping[str, Any]) -> int | None:
    """The partner whose change this state of ``record`` is (``syncApplied`` at this version)."""
    applied = record.get("syncApplied") or {}
    if applied and int(applied.get("version") or -1) == int(record.get("version") or 0):
        return int(applied["synchronizationId"])
    return None


def _ref(record: Mapping[str, Any], target_sync: int) -> dict[str, Any]:
    """How the partner of ``target_sync`` names ``record``: by its own id when it is the home."""
    origin = record.get("origin") or {}
    if origin and int(origin.get("synchronizationId") or 0) == target_sync:
        return {"home": "receiver", "id": int(origin["eventId"])}
    return {"home": "sender", "id": int(record["id"])}


def _root(record: Mapping[str, Any]) -> int:
    return int(record.get("parentId") or record["id"])


# ============================================================================ outbox
@dataclasses.dataclass(frozen=True)
class OutboxMessage:
    """One message for the sync queue: FIFO group, deduplication id, JSON body."""

    group: str
    dedup: str
    body: dict[str, Any]


def _pushing(mappings: Iterable[Mapping[str, Any]], skip_sync: int | None) -> list[Mapping[str, Any]]:
    return [m for m in mappings if m.get("direction") in _PUSHES and int(m["synchronizationId"]) != skip_sync]


def _message(record_id: str, mapping: Mapping[str, Any], op: str, image: Mapping[str, Any]) -> OutboxMessage:
    """A message about ``image``; for a delete, ``image`` carries the delete's ``updated`` and
    ``version`` (its tombstone's)."""
    sync_id, mapping_id = int(mapping["synchronizationId"]), int(mapping["id"])
    body = {
        "v": 1,
        "synchronizationId": sync_id,
        "mappingId": mapping_id,
        "op": op,
        "eventId": int(image["id"]),
        "calendarId": int(image["calendarId"]),
        "kind": str(image.get("kind") or "single"),
        "parentId": image.get("parentId"),
        "version": int(image.get("version") or 1),
        "updated": int(image.get("updated") or 0),
        "origin": image.get("origin"),
    }
    dedup = hashlib.sha256(f"{record_id}|{sync_id}|{mapping_id}|{op}".encode()).hexdigest()
    return OutboxMessage(group=f"{sync_id}-{_root(image)}", dedup=dedup, body=body)


def _removed(
    invitations: InvitationRepository, old: Mapping[str, Any], pushing: bool
) -> tuple[dict[str, Any], int | None]:
    """The delete of ``old`` as sent (its ``updated``/``version``), and the partner it came from.

    A delete applied for a partner has a tombstone naming it (written with the delete). A local
    delete gets its tombstone here, when it matters to a partner: its time is now (the stream's
    own timestamp has one-second precision), a little after the delete, never before it.
    """
    tomb = invitations.tombstone(int(old["id"]))
    if tomb is None or int(tomb.get("deletedVersion") or -1) != int(old.get("version") or 0):
        if not pushing:
            return dict(old), None
        tomb = invitations.put_tombstone(
            int(old["id"]),
            updated=max(int(old.get("updated") or 0) + 1, now_ms()),
            version=int(old.get("version") or 0) + 1,
            deleted_version=int(old.get("version") or 0),
        )
    applied_by = tomb.get("appliedBy")
    deleted = {**old, "updated": int(tomb["updated"]), "version": int(tomb["version"])}
    return deleted, int(applied_by) if applied_by is not None else None


def messages_for(
    invitations: InvitationRepository, record: Mapping[str, Any], cache: dict[int, list[dict[str, Any]]]
) -> list[OutboxMessage]:
    """The sync-queue messages of one DynamoDB stream record (Lambda's stream event shape);
    ``cache`` holds the mappings per calendar for the batch. Records of other items than an
    event's main item give none."""
    data = record.get("dynamodb") or {}
    if ((data.get("Keys") or {}).get("sk") or {}).get("S") != "EV":
        return []
    new = deserialize(data["NewImage"]) if data.get("NewImage") else None
    old = deserialize(data["OldImage"]) if data.get("OldImage") else None
    record_id = str(record.get("eventID") or data.get("SequenceNumber"))

    def mappings(calendar_id: int) -> list[dict[str, Any]]:
        if calendar_id not in cache:
            cache[calendar_id] = invitations.mappings_of_calendar(calendar_id)
        return cache[calendar_id]

    out: list[OutboxMessage] = []
    if new is not None and "id" in new and "calendarId" in new:
        origin = _applied_sync(new)
        out += [_message(record_id, m, "upsert", new) for m in _pushing(mappings(int(new["calendarId"])), origin)]
        if old is not None and "calendarId" in old and int(old["calendarId"]) != int(new["calendarId"]):
            moved = {**old, "version": new.get("version"), "updated": new.get("updated")}
            out += [_message(record_id, m, "delete", moved) for m in _pushing(mappings(int(old["calendarId"])), origin)]
    elif new is None and old is not None and "id" in old and "calendarId" in old:
        targets = _pushing(mappings(int(old["calendarId"])), None)
        deleted, origin = _removed(invitations, old, bool(targets))
        out += [_message(record_id, m, "delete", deleted) for m in targets if int(m["synchronizationId"]) != origin]
    return out


def publish(invitations: InvitationRepository, queue: SyncQueue, records: Iterable[Mapping[str, Any]]) -> str | None:
    """Queue the messages of a batch of stream records, in order.

    Returns the ``SequenceNumber`` of the first record that could not be fully queued (the stream
    retries from it: Lambda's ReportBatchItemFailures), or None when all were.
    """
    cache: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        try:
            for message in messages_for(invitations, record, cache):
                queue.send(message.group, message.dedup, message.body)
        except RetryableError as e:
            logger.warning("outbox: queueing failed, the stream will retry", extra={"reason": e.message})
            return str((record.get("dynamodb") or {}).get("SequenceNumber"))
    return None


# ============================================================================ sender
class _Retry(Exception):
    """Internal: this message must be retried later; ``partner_down`` stops the partner's others."""

    def __init__(self, reason: str, partner_down: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partner_down = partner_down


def backoff_seconds(receive_count: int, base: int) -> int:
    """The delay before attempt ``receive_count + 1``: ``base * 2**(receive_count-1)``, at most
    :data:`MAX_BACKOFF_SECONDS`."""
    return int(min(MAX_BACKOFF_SECONDS, base * 2 ** max(min(receive_count, 20) - 1, 0)))


def _event_or_none(ctx: SyncContext, event_id: int) -> dict[str, Any] | None:
    try:
        return ctx.events.get(event_id)
    except NotFoundError:
        return None


def _type_key(ctx: SyncContext, source_id: int, cache: dict[int, str | None]) -> str | None:
    if source_id not in cache:
        source = ctx.config.sources.get(source_id)
        cache[source_id] = str(source["eventTypeKey"]) if source else None
    return cache[source_id]


def _replicated_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": record.get("summary"),
        "description": record.get("description"),
        "userKeys": list(record.get("userKeys") or []),
        "allDay": bool(record.get("allDay")),
        "timeZone": str(record.get("timeZone") or "UTC"),
        "recurrence": record.get("recurrence"),
        "rdate": list(record.get("rdate") or []),
        "exdate": list(record.get("exdate") or []),
        "recurrenceId": record.get("recurrenceId"),
    }
    if fields["allDay"]:
        fields.update(allDayStart=record.get("allDayStart"), allDayEnd=record.get("allDayEnd"))
    else:
        fields.update(startDate=record.get("startDate"), endDate=record.get("endDate"))
    return fields


def _delete_change(body: Mapping[str, Any], image: Mapping[str, Any], target: int) -> dict[str, Any]:
    """The delete of ``image``, whose ``updated`` and ``version`` are the delete's own."""
    version, updated = int(image.get("version") or 1), int(image.get("updated") or 0)
    return {
        "changeId": f"ev{image['id']}v{version}d",
        "mappingId": int(body["mappingId"]),
        "op": "delete",
        "ref": _ref(image, target),
        "kind": str(image.get("kind") or "single"),
        "version": version,
        "updated": updated,
    }


def _upsert_change(
    ctx: SyncContext, body: Mapping[str, Any], record: Mapping[str, Any], type_key: str, target: int
) -> dict[str, Any] | None:
    change: dict[str, Any] = {
        "changeId": f"ev{record['id']}v{record['version']}u",
        "mappingId": int(body["mappingId"]),
        "op": "upsert",
        "ref": _ref(record, target),
        "kind": str(record.get("kind") or "single"),
        "eventType": type_key,
        "version": int(record["version"]),
        "updated": int(record["updated"]),
        "created": int(record.get("created") or record["updated"]),
        "event": _replicated_fields(record),
    }
    if record.get("kind") == "child":
        parent = _event_or_none(ctx, int(record["parentId"]))
        if parent is None:
            return None
        change["parentRef"] = _ref(parent, target)
    return change


def _change_for(
    ctx: SyncContext,
    body: Mapping[str, Any],
    sync: Mapping[str, Any],
    mapping: Mapping[str, Any],
    types: dict[int, str | None],
) -> dict[str, Any] | None:
    """The change to send for one queue message, or None when there is nothing to send."""
    target = int(sync["id"])
    if body["op"] == "delete":
        image = {
            "id": body["eventId"],
            "kind": body.get("kind"),
            "version": body.get("version"),
            "updated": body.get("updated"),
            "origin": body.get("origin"),
        }
        return _delete_change(body, image, target)
    record = _event_or_none(ctx, int(body["eventId"]))
    if record is None:
        return None  # deleted since: its delete message follows
    if _applied_sync(record) == target:
        return None  # this state came from that partner
    type_key = _type_key(ctx, int(record["eventTypeConfigId"]), types)
    scope = scope_of(sync)
    wanted = set(mapping.get("eventTypes") or [])
    if (
        type_key is None
        or int(record["calendarId"]) != int(mapping["localCalendarId"])
        or not scope.covers(int(record["calendarId"]), type_key)
        or (wanted and type_key not in wanted)
    ):
        gone = {**record, "version": int(record["version"]) + 1, "updated": max(int(record["updated"]) + 1, now_ms())}
        return _delete_change(body, gone, target)  # it left the mapping or our scope: gone for them
    return _upsert_change(ctx, body, record, type_key, target)


def send_message(ctx: SyncContext, body: Mapping[str, Any], types: dict[int, str | None]) -> str:
    """Send one queue message's change to the partner; returns the outcome (``sent``, ``skipped``,
    or why it was ``dropped``).

    Raises:
        _Retry: the change must be retried later.
    """
    sync = ctx.invitations.get(int(body["synchronizationId"]))
    if sync is None or sync["status"] != "ACTIVE":
        return "dropped: the synchronization is not ACTIVE"
    mapping = ctx.invitations.mapping(int(sync["id"]), int(body["mappingId"]))
    if mapping is None or mapping.get("direction") not in _PUSHES:
        return "dropped: the mapping is gone or does not push"
    change = _change_for(ctx, body, sync, mapping, types)
    if change is None:
        return "skipped"
    route = f"/partner/v1/synchronization/{sync['partnerSynchronizationId']}/events"
    try:
        ctx.client.call(partner_url(ctx, sync), "POST", route, change, key=signing_secret(ctx, sync, "key"))
    except PartnerUnreachableError as e:
        raise _Retry(e.message, partner_down=True) from e
    except PartnerHttpError as e:
        if e.transient:
            raise _Retry(e.message, partner_down=True) from e
        return f"dropped: {e.message}"
    except (PartnerProtocolError, PartnerAddressError, UnauthorizedError) as e:
        return f"dropped: {e.message}"
    return "sent"


def deliver(
    ctx: SyncContext,
    queue: SyncQueue,
    records: Iterable[Mapping[str, Any]],
    retry_base: int,
    seconds_left: Callable[[], float] | None = None,
) -> list[str]:
    """Send a batch of sync-queue messages (Lambda's SQS event records, in queue order).

    Returns the ``messageId`` of every message to retry (Lambda's ReportBatchItemFailures); each
    of those was delayed by its backoff. See the module docstring for the retry rules.
    ``seconds_left`` is the invocation's remaining time: once it could not cover one more slow
    partner call, the rest of the batch is handed back for a retry in ``retry_base`` seconds (never
    a function timeout that would make the whole batch wait out the queue's visibility timeout).
    """
    failed: list[str] = []
    waiting_groups: dict[str, int] = {}
    down: dict[int, int] = {}
    types: dict[int, str | None] = {}
    needed = 2 * ctx.client.timeout_seconds + 5
    for record in records:
        if seconds_left is not None and seconds_left() < needed:
            queue.delay(str(record.get("receiptHandle")), retry_base)
            failed.append(str(record.get("messageId")))
            continue
        attributes = record.get("attributes") or {}
        group = str(attributes.get("MessageGroupId") or "")
        receives = int(attributes.get("ApproximateReceiveCount") or 1)
        try:
            body = json.loads(record.get("body") or "")
            sync_id = int(body["synchronizationId"])
        except (ValueError, KeyError, TypeError):
            logger.error("sender: a malformed message was dropped", extra={"messageId": record.get("messageId")})
            continue
        wait = waiting_groups.get(group) or down.get(sync_id)
        if wait is None:
            try:
                outcome = send_message(ctx, body, types)
            except _Retry as e:
                wait = backoff_seconds(receives, retry_base)
                if e.partner_down:
                    down[sync_id] = wait
                logger.warning(
                    "sender: change will be retried",
                    extra={"synchronizationId": sync_id, "reason": e.reason, "inSeconds": wait},
                )
            except RetryableError as e:
                wait = backoff_seconds(receives, retry_base)
                logger.warning(
                    "sender: change will be retried",
                    extra={"synchronizationId": sync_id, "reason": e.message, "inSeconds": wait},
                )
            else:
                if outcome.startswith("dropped"):
                    logger.warning("sender: change dropped", extra={"synchronizationId": sync_id, "reason": outcome})
                    metrics.add_metric(name="SyncChangeDropped", unit="Count", value=1)
                elif outcome == "sent":
                    metrics.add_metric(name="SyncChangeSent", unit="Count", value=1)
                continue
        waiting_groups[group] = wait
        queue.delay(str(record.get("receiptHandle")), wait)
        failed.append(str(record.get("messageId")))
    return failed


# ============================================================================ receiver
def _get_or_none(ctx: SyncContext, event_id: int) -> dict[str, Any] | None:
    return _event_or_none(ctx, event_id)


def _local_id(calendar_id: int, sync_id: int, ref: EventRef) -> int:
    if ref.home == "receiver":
        return ref.id
    return external_id(calendar_id, f"partner:{sync_id}", str(ref.id))


def _normalise(record: dict[str, Any], default_zone: str, kind: str) -> dict[str, Any]:
    """Validate the time and recurrence fields of a replica (RecurrenceError → 400) and set
    ``kind``, ``seriesEnd`` and ``overrides`` as :mod:`teamcal.storage.events` expects."""
    if kind == "child":
        record.update(kind="child", recurrence=None, exdate=[], rdate=[])
    else:
        record.pop("kind", None)  # single or master: the series decides
    normalize_record(record, default_zone)
    if kind == "child":
        record.pop("seriesEnd", None)
        record.pop("overrides", None)
    return record


def _pick_source(ctx: SyncContext, calendar: CalendarRecord, type_key: str) -> int:
    order = {sid: i for i, sid in enumerate(calendar.source_ids)}
    usable = sorted(
        (
            s
            for s in ctx.config.sources.get_many(calendar.source_ids)
            if s.get("status", "ACTIVE") == "ACTIVE" and str(s["eventTypeKey"]) not in JIRA_BACKED
        ),
        key=lambda s: order.get(int(s["id"]), 0),
    )
    same = [s for s in usable if str(s["eventTypeKey"]) == type_key]
    chosen = (same or usable)[:1]
    if not chosen:
        raise ConflictError(f"calendar {calendar.id} has no source that can hold events")
    return int(chosen[0]["id"])


def _newer(change: EventChange, stored: Mapping[str, Any]) -> int:
    """1 if the change is newer than ``stored``, 0 if the same, -1 if older (``updated``, then ``version``)."""
    mine = (int(stored.get("updated") or 0), int(stored.get("version") or 0))
    theirs = (change.updated, change.version)
    return (theirs > mine) - (theirs < mine)


def _log_loser(sync_id: int, change: EventChange, stored: Mapping[str, Any]) -> ChangeResult:
    logger.info(
        "replication conflict: the partner's change lost to ours",
        extra={
            "synchronizationId": sync_id,
            "eventId": stored["id"],
            "changeId": change.change_id,
            "op": change.op,
            "theirs": {"updated": change.updated, "version": change.version},
            "ours": {"updated": stored.get("updated"), "version": stored.get("version")},
        },
    )
    metrics.add_metric(name="SyncConflictLost", unit="Count", value=1)
    return ChangeResult(result="stale", eventId=int(stored["id"]))


def _stamped(record: dict[str, Any], sync_id: int) -> dict[str, Any]:
    record["syncApplied"] = {"synchronizationId": sync_id, "version": int(record["version"])}
    return record


def _with_override(
    master: Mapping[str, Any], rid: str, child: Mapping[str, Any] | None, sync_id: int
) -> dict[str, Any]:
    overrides = dict(master.get("overrides") or {})
    if child is None:
        overrides.pop(rid, None)
    else:
        overrides[rid] = {
            "id": int(child["id"]),
            "startDate": int(child["startDate"]),
            "endDate": int(child["endDate"]),
            "allDay": bool(child["allDay"]),
        }
    return _stamped({**master, "overrides": overrides, "version": int(master["version"]) + 1}, sync_id)


@dataclasses.dataclass(frozen=True)
class _Target:
    """Where a change lands: our synchronization, mapping and calendar."""

    sync_id: int
    mapping: Mapping[str, Any]
    calendar: CalendarRecord
    scope: Scope


def _target(ctx: SyncContext, sync: Mapping[str, Any], change: EventChange) -> _Target:
    sync_id = int(sync["id"])
    mapping = ctx.invitations.mapping(sync_id, change.mapping_id)
    if mapping is None:
        raise NotFoundError(f"mapping {change.mapping_id} not found")
    if mapping.get("direction") == "PUSH":
        raise ForbiddenError("this mapping does not take changes from the partner")
    raw = ctx.config.calendars.get(int(mapping["localCalendarId"]))
    calendar = CalendarRecord.model_validate(raw) if raw else None
    if calendar is None or calendar.status != "ACTIVE":
        raise ConflictError("the mapped calendar no longer exists")
    scope = scope_of(sync)
    if not scope.covers_calendar(calendar.id):
        raise ForbiddenError("the mapped calendar is outside this synchronization's scope")
    return _Target(sync_id, mapping, calendar, scope)


def apply_change(ctx: SyncContext, sync: Mapping[str, Any], change: EventChange) -> ChangeResult:
    """Apply one partner change to the mapped local calendar (see the module docstring).

    Raises:
        NotFoundError: unknown mapping. ForbiddenError: the mapping does not take changes, or
        its calendar left our scope. ConflictError: the calendar is gone or has no source.
        InvalidInputError: the event's fields are not a valid event. RetryableError: a race with
        another writer, or an exception whose master has not arrived yet (the sender retries).
    """
    target = _target(ctx, sync, change)
    if ctx.invitations.has_receipt(target.sync_id, change.change_id):
        return ChangeResult(result="duplicate")
    local_id = _local_id(target.calendar.id, target.sync_id, change.ref)
    stored = _get_or_none(ctx, local_id)
    if stored is not None and int(stored["calendarId"]) != target.calendar.id:
        raise NotFoundError(f"event {change.ref.id} is not in the mapped calendar")
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
    wanted = set(target.mapping.get("eventTypes") or [])
    return target.scope.covers_type(type_key) and (not wanted or type_key in wanted)


def _apply_upsert(
    ctx: SyncContext, target: _Target, change: EventChange, local_id: int, stored: dict[str, Any] | None
) -> ChangeResult:
    assert change.event is not None
    assert change.event_type is not None
    if not _wanted_type(target, change.event_type):
        return ChangeResult(result="skipped")
    tomb = ctx.invitations.tombstone(local_id) if stored is None else None
    if tomb is not None and _newer(change, tomb) <= 0:
        return _log_loser(target.sync_id, change, {**tomb, "id": local_id})  # deleted here after it was made
    if stored is None and tomb is None and change.ref.home == "receiver":
        return ChangeResult(result="absent")  # not ours (any more): never create an id a partner picks
    if stored is not None:
        order = _newer(change, stored)
        if order == 0:
            return ChangeResult(result="duplicate", eventId=local_id)
        if order < 0:
            return _log_loser(target.sync_id, change, stored)
        if (stored["kind"] == "child") != (change.kind == "child"):
            raise InvalidInputError.for_field("kind", "an exception cannot become a plain event, nor the reverse")
    master: dict[str, Any] | None = None
    if change.kind == "child":
        assert change.parent_ref is not None
        master = _get_or_none(ctx, _local_id(target.calendar.id, target.sync_id, change.parent_ref))
        if master is None or master["kind"] != "master" or int(master["calendarId"]) != target.calendar.id:
            raise RetryableError("the master of this exception has not arrived yet")
        source_id = int(master["eventTypeConfigId"])
    elif stored is not None:
        source_id = int(stored["eventTypeConfigId"])
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
    return ChangeResult(result="applied" if applied else "duplicate", eventId=local_id)


def _replica(
    target: _Target,
    change: EventChange,
    local_id: int,
    stored: Mapping[str, Any] | None,
    source_id: int,
    master: Mapping[str, Any] | None,
) -> dict[str, Any]:
    assert change.event is not None
    event = change.event.model_dump(by_alias=True)
    record: dict[str, Any] = {
        **{k: v for k, v in event.items() if k not in _TIME_KEYS and k != "allDay"},
        "allDay": change.event.all_day,
        "id": local_id,
        "calendarId": target.calendar.id,
        "eventTypeConfigId": source_id,
        "reporter": (stored or {}).get("reporter") or f"partner:{target.sync_id}",
        "parentId": int(master["id"]) if master is not None else None,
        "recurrenceId": change.event.recurrence_id if master is not None else None,
        "version": max(int(stored["version"]) + 1, change.version) if stored else change.version,
        "created": int((stored or {}).get("created") or change.created or change.updated),
        "updated": change.updated,
    }
    keys = ("allDayStart", "allDayEnd") if change.event.all_day else ("startDate", "endDate")
    record.update({k: event.get(k) for k in keys})
    origin = (stored or {}).get("origin")
    if stored is None and change.ref.home == "sender":
        origin = {"synchronizationId": target.sync_id, "eventId": change.ref.id}
    if origin:
        record["origin"] = origin
    _normalise(record, calendar_zone(target.calendar), change.kind)
    if record["kind"] == "master":
        record["overrides"] = dict((stored or {}).get("overrides") or {})
    return _stamped(record, target.sync_id)


def _placement(
    ctx: SyncContext,
    sync_id: int,
    record: dict[str, Any],
    stored: dict[str, Any] | None,
    master: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]]]:
    """The writes of an upsert: the replica, its master's ``overrides``, dropped exceptions."""
    create = [record] if stored is None else []
    replace: list[tuple[dict[str, Any], dict[str, Any]]] = [] if stored is None else [(stored, record)]
    delete: list[dict[str, Any]] = []
    if master is not None:
        rid = str(record["recurrenceId"])
        if stored is not None and stored.get("parentId") not in (None, master["id"]):
            old_parent = _get_or_none(ctx, int(stored["parentId"]))
            if old_parent is not None:
                replace.append((old_parent, _with_override(old_parent, str(stored["recurrenceId"]), None, sync_id)))
        replace.append((master, _with_override(master, rid, record, sync_id)))
    elif stored is not None and stored["kind"] == "master" and record["kind"] != "master":
        delete = ctx.events.children(int(stored["id"]))  # the series is gone: so are its exceptions
        if len(delete) > _CHILD_CHUNK:
            raise InvalidInputError.for_field("recurrence", "too many exceptions to drop with the series at once")
    return create, replace, delete


def _apply_delete(
    ctx: SyncContext, target: _Target, change: EventChange, stored: dict[str, Any] | None
) -> ChangeResult:
    if stored is None:
        return ChangeResult(result="absent")
    if _newer(change, stored) < 0:
        return _log_loser(target.sync_id, change, stored)
    sync_id, event_id = target.sync_id, int(stored["id"])
    receipt = ctx.invitations.receipt_action(sync_id, change.change_id, event_id)
    replace: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if stored["kind"] == "master":
        children = ctx.events.children(event_id)
        for start in range(0, len(children), _CHILD_CHUNK):
            chunk = children[start : start + _CHILD_CHUNK]
            _commit(ctx, target, change, delete=chunk, conditions=[_tomb(ctx, c, change, sync_id) for c in chunk])
        stored = ctx.events.get(event_id) if children else stored
    elif stored["kind"] == "child":
        parent = _get_or_none(ctx, int(stored["parentId"]))
        if parent is not None:
            replace.append((parent, _with_override(parent, str(stored["recurrenceId"]), None, sync_id)))
    applied = _commit(
        ctx, target, change, delete=[stored], replace=replace, conditions=[_tomb(ctx, stored, change, sync_id), receipt]
    )
    return ChangeResult(result="applied" if applied else "duplicate", eventId=event_id)


def _tomb(ctx: SyncContext, deleted: Mapping[str, Any], change: EventChange, sync_id: int) -> dict[str, Any]:
    """The tombstone of an event deleted for a partner's change (in the same transaction)."""
    return ctx.invitations.tombstone_action(
        int(deleted["id"]),
        updated=change.updated,
        version=change.version,
        deleted_version=int(deleted["version"]),
        applied_by=sync_id,
    )
