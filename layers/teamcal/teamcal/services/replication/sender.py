"""Replication sender: the sync-queue consumer that signs and POSTs each change to its partner, with
backoff and per-group order (see :mod:`teamcal.services.replication`).

Messages are decoded with Powertools' :class:`SQSRecord`, but the batch loop is our own, not
Powertools' ``SqsFifoPartialProcessor`` (checked against aws-lambda-powertools 3.37), because it
would lose three behaviours:

* the group's backoff for the messages behind a failed one: with ``skip_group_on_error`` the
  processor reports them failed without calling the record handler, so they cannot be delayed
  (``ChangeMessageVisibility``) by the failed message's backoff; they would come back after the
  queue's visibility timeout, each time spending one of the receives before the dead-letter queue;
  without it, the first failure fails every later message of the batch, of every group;
* "partner down": one partner that did not answer delays its messages in every other group of the
  batch without another call (state across records and groups, decided before each call);
* a batch in which every message waits (a partner down) is a normal answer here; the processor's
  ``process_partial_response`` raises ``BatchProcessingError`` for it unless told otherwise.

The time budget (hand back the rest of the batch, delayed, before the function's timeout) would
fit in a record handler; the first point alone rules the processor out.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from teamcal.access import may_send_to_partner, partner_reach
from teamcal.errors import RetryableError, UnauthorizedError
from teamcal.ids import now_ms
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.event_record import EventRecord
from teamcal.models.origin import Origin
from teamcal.models.sources import SourceRecord
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.observability import logger, metrics
from teamcal.partners.errors import PartnerAddressError, PartnerHttpError, PartnerProtocolError, PartnerUnreachableError
from teamcal.services.replication.shared import applied_sync_of, event_or_none
from teamcal.services.sync_context import SyncContext, partner_url, signing_secret
from teamcal.storage.sync_queue import SyncQueue

#: The longest a failed message waits before its next attempt (seconds).
MAX_BACKOFF_SECONDS = 900


def _ref(event_id: int, origin: Origin, target_sync: int) -> dict[str, Any]:
    """How the partner of ``target_sync`` names our event ``event_id`` of ``origin``: by its own
    id when it is the home."""
    if origin.came_through(target_sync):
        return {"home": "receiver", "id": int(origin.event_id or 0)}
    return {"home": "sender", "id": int(event_id)}


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


def _source(ctx: SyncContext, source_id: int, cache: dict[int, SourceRecord | None]) -> SourceRecord | None:
    if source_id not in cache:
        cache[source_id] = ctx.config.sources.get(source_id)
    return cache[source_id]


def _replicated_fields(record: EventRecord) -> dict[str, Any]:
    """The event body of an upsert (the partner protocol's wire names)."""
    fields: dict[str, Any] = {
        "summary": record.summary,
        "description": record.description,
        "userKeys": list(record.user_keys),
        "allDay": bool(record.all_day),
        "timeZone": str(record.time_zone or "UTC"),
        "recurrence": record.recurrence,
        "rdate": list(record.rdate),
        "exdate": list(record.exdate),
        "recurrenceId": record.recurrence_id,
    }
    if fields["allDay"]:
        fields.update(allDayStart=record.all_day_start, allDayEnd=record.all_day_end)
    else:
        fields.update(startDate=record.start_date, endDate=record.end_date)
    return fields


def _delete_change(
    body: Mapping[str, Any], event_id: int, origin: Origin, kind: str, version: int, updated: int, target: int
) -> dict[str, Any]:
    """The delete of our event ``event_id``; ``updated`` and ``version`` are the delete's own."""
    return {
        "changeId": f"ev{event_id}v{version}d",
        "mappingId": int(body["mappingId"]),
        "op": "delete",
        "ref": _ref(event_id, origin, target),
        "kind": kind,
        "version": version,
        "updated": updated,
    }


def _upsert_change(
    ctx: SyncContext, body: Mapping[str, Any], record: EventRecord, type_key: str, target: int
) -> dict[str, Any] | None:
    change: dict[str, Any] = {
        "changeId": f"ev{record.id}v{record.version}u",
        "mappingId": int(body["mappingId"]),
        "op": "upsert",
        "ref": _ref(record.id, record.came_from, target),
        "kind": record.kind,
        "eventType": type_key,
        "version": record.version,
        "updated": record.updated,
        "created": record.created or record.updated,
        "event": _replicated_fields(record),
    }
    if record.kind == "child":
        parent = event_or_none(ctx, int(record.parent_id or 0))
        if parent is None:
            return None
        change["parentRef"] = _ref(parent.id, parent.came_from, target)
    return change


def _change_for(
    ctx: SyncContext,
    body: Mapping[str, Any],
    sync: SynchronizationRecord,
    mapping: CalendarMappingRecord,
    sources: dict[int, SourceRecord | None],
) -> dict[str, Any] | None:
    """The change to send for one queue message, or None when there is nothing to send. An event
    outside the mapping or the synchronization's reach, or a private Google one
    (:mod:`teamcal.access`, rules 10 and 12), is sent as a delete: gone for the partner."""
    target = int(sync.id)
    if body["op"] == "delete":
        origin = Origin.of({"origin": body.get("origin")})
        version, updated = int(body.get("version") or 1), int(body.get("updated") or 0)
        kind = str(body.get("kind") or "single")
        return _delete_change(body, int(body["eventId"]), origin, kind, version, updated, target)
    record = event_or_none(ctx, int(body["eventId"]))
    if record is None:
        return None  # deleted since: its delete message follows
    if applied_sync_of(record.sync_applied, record.version) == target:
        return None  # this state came from that partner
    source = _source(ctx, record.event_type_config_id, sources)
    type_key = source.event_type_key if source else None
    reach = partner_reach(sync)
    if (
        type_key is None
        or record.calendar_id != mapping.local_calendar_id
        or not reach.covers(record.calendar_id, type_key)
        or not mapping.wants_type(type_key)
        or not may_send_to_partner(record, source)
    ):
        # it left the mapping or our scope: gone for them
        version, updated = record.version + 1, max(record.updated + 1, now_ms())
        return _delete_change(body, record.id, record.came_from, record.kind, version, updated, target)
    return _upsert_change(ctx, body, record, type_key, target)


class Outcome(enum.Enum):
    """What became of one queue message (other than a retry)."""

    SENT = "sent"
    SKIPPED = "skipped"
    DROPPED = "dropped"


@dataclasses.dataclass(frozen=True)
class Sent:
    """The outcome of one message, and why it was dropped."""

    outcome: Outcome
    reason: str = ""


def send_message(ctx: SyncContext, body: Mapping[str, Any], sources: dict[int, SourceRecord | None]) -> Sent:
    """Send one queue message's change to the partner; returns the outcome (sent, skipped, or
    dropped with the reason: retrying cannot help).

    Raises:
        _Retry: the change must be retried later.
    """
    sync = ctx.invitations.get(int(body["synchronizationId"]))
    if sync is None or sync.status != "ACTIVE":
        return Sent(Outcome.DROPPED, "the synchronization is not ACTIVE")
    mapping = ctx.invitations.mapping(int(sync.id), int(body["mappingId"]))
    if mapping is None or not mapping.pushes:
        return Sent(Outcome.DROPPED, "the mapping is gone or does not push")
    change = _change_for(ctx, body, sync, mapping, sources)
    if change is None:
        return Sent(Outcome.SKIPPED)
    route = f"/partner/v1/synchronization/{sync.partner_synchronization_id}/events"
    try:
        ctx.client.call(partner_url(ctx, sync), "POST", route, change, key=signing_secret(ctx, sync, "key"))
    except PartnerUnreachableError as e:
        raise _Retry(e.message, partner_down=True) from e
    except PartnerHttpError as e:
        if e.transient:
            raise _Retry(e.message, partner_down=True) from e
        return Sent(Outcome.DROPPED, e.message)
    except (PartnerProtocolError, PartnerAddressError, UnauthorizedError) as e:
        return Sent(Outcome.DROPPED, e.message)
    return Sent(Outcome.SENT)


def deliver(
    ctx: SyncContext,
    queue: SyncQueue,
    records: Iterable[Mapping[str, Any]],
    retry_base: int,
    seconds_left: Callable[[], float] | None = None,
) -> list[str]:
    """Send a batch of sync-queue messages (Lambda's SQS event records, in queue order, decoded
    with Powertools' :class:`SQSRecord`).

    Returns the ``messageId`` of every message to retry (Lambda's ReportBatchItemFailures, a
    partial batch response); each of those was delayed by its backoff. See the module docstring
    for the retry rules. A message that fails in any other way (an unexpected error) is that
    message's failure alone: it is retried with backoff, later messages of its FIFO group wait
    behind it, and every other group goes on. ``seconds_left`` is the invocation's remaining
    time: once it could not cover one more slow partner call, the rest of the batch is handed
    back for a retry in ``retry_base`` seconds (never a function timeout that would make the
    whole batch wait out the queue's visibility timeout).
    """
    failed: list[str] = []
    waiting_groups: dict[str, int] = {}
    down: dict[int, int] = {}
    sources: dict[int, SourceRecord | None] = {}
    needed = 2 * ctx.client.timeout_seconds + 5
    for raw in records:
        record = SQSRecord(dict(raw))
        if seconds_left is not None and seconds_left() < needed:
            queue.delay(record.receipt_handle, retry_base)
            failed.append(record.message_id)
            continue
        group = str(record.attributes.message_group_id or "")
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            body = json.loads(record.body or "")
            sync_id = int(body["synchronizationId"])
        except (ValueError, KeyError, TypeError):
            logger.error("sender: a malformed message was dropped", extra={"messageId": record.message_id})
            continue
        wait = waiting_groups.get(group) or down.get(sync_id)
        if wait is None:
            wait = _send_one(ctx, body, sources, sync_id, backoff_seconds(receives, retry_base), down)
        if wait is None:
            continue
        waiting_groups[group] = wait
        queue.delay(record.receipt_handle, wait)
        failed.append(record.message_id)
    return failed


def _send_one(
    ctx: SyncContext,
    body: Mapping[str, Any],
    sources: dict[int, SourceRecord | None],
    sync_id: int,
    backoff: int,
    down: dict[int, int],
) -> int | None:
    """Send one message; None when it is done with, else the seconds it waits before a retry
    (``down`` learns a partner that did not answer)."""
    try:
        sent = send_message(ctx, body, sources)
    except _Retry as e:
        if e.partner_down:
            down[sync_id] = backoff
        reason = e.reason
    except RetryableError as e:
        reason = e.message
    except Exception as e:  # noqa: BLE001 - one bad message must never fail the other messages of the batch
        logger.exception(
            "sender: a change failed", extra={"synchronizationId": sync_id, "eventId": body.get("eventId")}
        )
        metrics.add_metric(name="SyncChangeFailed", unit="Count", value=1)
        reason = f"{type(e).__name__}: {e}"[:300]
    else:
        if sent.outcome is Outcome.DROPPED:
            logger.warning("sender: change dropped", extra={"synchronizationId": sync_id, "reason": sent.reason})
            metrics.add_metric(name="SyncChangeDropped", unit="Count", value=1)
        elif sent.outcome is Outcome.SENT:
            metrics.add_metric(name="SyncChangeSent", unit="Count", value=1)
        return None
    logger.warning(
        "sender: change will be retried", extra={"synchronizationId": sync_id, "reason": reason, "inSeconds": backoff}
    )
    return backoff
