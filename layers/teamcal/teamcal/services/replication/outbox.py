"""Replication outbox: the events stream consumer that queues one message per change and pushing
mapping (see :mod:`teamcal.services.replication`)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBStreamEvent

from teamcal.errors import RetryableError
from teamcal.ids import now_ms
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.observability import logger
from teamcal.services.replication.shared import PUSHES, applied_sync
from teamcal.storage.dynamo import plain
from teamcal.storage.invitations import InvitationRepository
from teamcal.storage.sync_queue import SyncQueue


def _root(record: Mapping[str, Any]) -> int:
    return int(record.get("parentId") or record["id"])


@dataclasses.dataclass(frozen=True)
class OutboxMessage:
    """One message for the sync queue: FIFO group, deduplication id, JSON body."""

    group: str
    dedup: str
    body: dict[str, Any]


def _pushing(mappings: Iterable[CalendarMappingRecord], skip_sync: int | None) -> list[CalendarMappingRecord]:
    return [m for m in mappings if m.direction in PUSHES and m.synchronization_id != skip_sync]


def _message(record_id: str, mapping: CalendarMappingRecord, op: str, image: Mapping[str, Any]) -> OutboxMessage:
    """A message about ``image``; for a delete, ``image`` carries the delete's ``updated`` and
    ``version`` (its tombstone's)."""
    sync_id, mapping_id = mapping.synchronization_id, mapping.id
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
    invitations: InvitationRepository, record: DynamoDBRecord, cache: dict[int, list[CalendarMappingRecord]]
) -> list[OutboxMessage]:
    """The sync-queue messages of one DynamoDB stream record (Powertools' data class over
    Lambda's stream event shape; its images' ``Decimal`` numbers become ``int``/``float`` here,
    through :func:`teamcal.storage.dynamo.plain`). ``cache`` holds the mappings per calendar for
    the batch. Records of other items than an event's main item give none."""
    data = record.dynamodb
    if data is None or data.keys.get("sk") != "EV":
        return []
    new = plain(data.new_image) if data.new_image else None
    old = plain(data.old_image) if data.old_image else None
    record_id = str(record.event_id or data.sequence_number)

    def mappings(calendar_id: int) -> list[CalendarMappingRecord]:
        if calendar_id not in cache:
            cache[calendar_id] = invitations.mappings_of_calendar(calendar_id)
        return cache[calendar_id]

    out: list[OutboxMessage] = []
    if new is not None and "id" in new and "calendarId" in new:
        origin = applied_sync(new)
        out += [_message(record_id, m, "upsert", new) for m in _pushing(mappings(int(new["calendarId"])), origin)]
        if old is not None and "calendarId" in old and int(old["calendarId"]) != int(new["calendarId"]):
            moved = {**old, "version": new.get("version"), "updated": new.get("updated")}
            out += [_message(record_id, m, "delete", moved) for m in _pushing(mappings(int(old["calendarId"])), origin)]
    elif new is None and old is not None and "id" in old and "calendarId" in old:
        targets = _pushing(mappings(int(old["calendarId"])), None)
        deleted, origin = _removed(invitations, old, bool(targets))
        out += [_message(record_id, m, "delete", deleted) for m in targets if m.synchronization_id != origin]
    return out


def publish(invitations: InvitationRepository, queue: SyncQueue, event: DynamoDBStreamEvent) -> str | None:
    """Queue the messages of a batch of stream records, in order.

    Returns the ``SequenceNumber`` of the first record that could not be fully queued (the stream
    retries from it: Lambda's ReportBatchItemFailures), or None when all were.
    """
    cache: dict[int, list[CalendarMappingRecord]] = {}
    for record in event.records:
        try:
            for message in messages_for(invitations, record, cache):
                queue.send(message.group, message.dedup, message.body)
        except RetryableError as e:
            logger.warning("outbox: queueing failed, the stream will retry", extra={"reason": e.message})
            return str(record.dynamodb.sequence_number if record.dynamodb else None)
    return None
