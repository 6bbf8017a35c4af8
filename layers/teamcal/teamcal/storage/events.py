"""Events table repository: events, recurring masters, exceptions, and the time index.

Search must cost O(events in the window + active recurring masters) reads, with no Scan, and must
find long events that start before the window. Item shapes (table keys ``pk``/``sk``; ``gsi1``
ALL projection; ``gsi2`` KEYS_ONLY):

* the event itself (every kind): ``pk = "EV#<id>"``, ``sk = "EV"``, all attributes, and
  ``gsi2pk = "SRC#<sourceId>"``, ``gsi2sk = "<id>#EV"`` (every item of a source, for cascades).

  - a recurring master also has ``gsi1pk = "CAL#<calendarId>#M"``,
    ``gsi1sk = "<seriesEnd>#<id>"`` where ``seriesEnd`` is the end of its last occurrence (epoch
    ms, or the far future for an unbounded rule): the masters that can reach a window are one Query
    with ``gsi1sk >= <windowStart>``; masters whose series is over are never read.
  - an exception (child) also has ``gsi1pk = "EV#<parentId>#C"``, ``gsi1sk = <recurrenceId>``:
    the children of a master are one Query.

* time-index items for every single event and every child, one per UTC calendar month the event
  overlaps: ``pk = "CAL#<calendarId>#B#<YYYY-MM>"``, ``sk = "<start>#<id>"``, a copy of the
  event's attributes, and ``gsi2pk = "SRC#<sourceId>"``, ``gsi2sk = "<id>#B#<YYYY-MM>"``. A
  window of under 92 days touches at most 4 months: at most 4 Queries per calendar find every
  event overlapping it, however early it started.

* one change stamp per calendar: ``pk = "CAL#<calendarId>#STAMP"``, ``sk = "STAMP"``,
  ``changes`` (a counter) and ``modified`` (epoch ms of the last write). Every write of this
  repository that touches an event of the calendar bumps it (in the same transaction for
  :meth:`EventRepository.commit`, right after the writes for the bulk paths), so a feed or an
  export can answer a conditional GET with one GetItem and no event read.

Masters carry ``overrides`` (``{recurrenceId: {"id", "startDate", "endDate", "allDay"}}``, kept
by the service) so the expansion replaces the original occurrence of a moved child even when the
child itself lies outside the window, without reading the child.

All writes of one change (events' main items + index items, e.g. a child and its master) go in one
TransactWriteItems (:meth:`EventRepository.commit`), each conditioned on the ``version`` read: a
racing writer gets ConflictError and nothing is half-written.

Epoch-ms values in sort keys are offset by 10**14 and zero-padded to 15 digits so that lexical
order is numeric order from year -1200 on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import InvalidInputError, NotFoundError
from teamcal.ids import now_ms
from teamcal.models.event_record import UNBOUNDED_MS, EventRecord
from teamcal.storage.dynamo import batch_write, deserialize, query_all, serialize, translate, value
from teamcal.storage.versioned import batch_get

_MS_OFFSET = 10**14
__all__ = ["UNBOUNDED_MS", "ChangeStamp", "EventRepository", "months_overlapping", "ms_key"]
#: The longest a single event or exception may last: its index items must fit one transaction.
MAX_INDEX_MONTHS = 60
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")


def ms_key(ms: int) -> str:
    """Epoch ms → a 15-digit string that sorts like the number."""
    return f"{ms + _MS_OFFSET:015d}"


def months_overlapping(start_ms: int, end_ms: int) -> list[str]:
    """The UTC months (``YYYY-MM``) that the half-open interval [start_ms, end_ms) touches.

    A zero-length event belongs to the month of its start.
    """
    start = datetime.fromtimestamp(start_ms / 1000, UTC)
    last = datetime.fromtimestamp((max(end_ms, start_ms + 1) - 1) / 1000, UTC)
    out: list[str] = []
    y, m = start.year, start.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _event_pk(event_id: int) -> str:
    return f"EV#{event_id}"


def _bucket_pk(calendar_id: int, month: str) -> str:
    return f"CAL#{calendar_id}#B#{month}"


def _stamp_key(calendar_id: int) -> dict[str, Any]:
    return {"pk": value(f"CAL#{calendar_id}#STAMP"), "sk": value("STAMP")}


@dataclass(frozen=True)
class ChangeStamp:
    """A calendar's change stamp: ``changes`` counts the writes that touched its events,
    ``modified`` is the epoch ms (UTC) of the last one; ``(0, 0)`` before the first write."""

    changes: int
    modified: int


def _calendar_ids(events: Iterable[Mapping[str, Any]]) -> set[int]:
    """The calendars of stored items (wire names) that name one."""
    return {int(e["calendarId"]) for e in events if e.get("calendarId") is not None}


def _record_calendars(records: Iterable[EventRecord]) -> set[int]:
    return {r.calendar_id for r in records}


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _INDEX_KEYS}


_INDEX_KEY_SET = frozenset(_INDEX_KEYS)


def _record(item: dict[str, Any]) -> EventRecord:
    return EventRecord.from_item(item, ignore=_INDEX_KEY_SET)


def _item(event: EventRecord) -> dict[str, Any]:
    """The stored attributes of an event to write: an :class:`EventRecord`'s item.

    Raises:
        TypeError: ``event`` is not an :class:`EventRecord` (a dict is never written: build the
            record with :meth:`EventRecord.from_item`).
    """
    if not isinstance(event, EventRecord):
        raise TypeError(f"an EventRecord is written, not {type(event).__name__}")
    return event.to_item()


class EventRepository:
    """Stores events as described in the module docstring.

    Reads return :class:`~teamcal.models.event_record.EventRecord` values (the stored attributes
    with the wire field names: ``id``, ``calendarId``, ``eventTypeConfigId`` = source id,
    ``startDate``/``endDate`` epoch ms of the event — for a master, of its first occurrence —,
    ``recurrence``, ``parentId``, ``recurrenceId``, ``version``, … plus ``kind`` (``single`` |
    ``master`` | ``child``) and, for masters, ``seriesEnd`` (epoch ms) and ``overrides``); writes
    take records and store their :meth:`~teamcal.models.event_record.EventRecord.to_item` form.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    # ------------------------------------------------------------------ item building
    def _main_item(self, event: dict[str, Any]) -> dict[str, Any]:
        item = {
            **event,
            "pk": _event_pk(event["id"]),
            "sk": "EV",
            "gsi2pk": f"SRC#{event['eventTypeConfigId']}",
            "gsi2sk": f"{event['id']}#EV",
        }
        if event["kind"] == "master":
            item["gsi1pk"] = f"CAL#{event['calendarId']}#M"
            item["gsi1sk"] = f"{ms_key(int(event['seriesEnd']))}#{event['id']}"
        elif event["kind"] == "child":
            item["gsi1pk"] = f"EV#{event['parentId']}#C"
            item["gsi1sk"] = str(event["recurrenceId"])
        return item

    @staticmethod
    def _months(event: dict[str, Any]) -> list[str]:
        if event["kind"] == "master":
            return []
        months = months_overlapping(int(event["startDate"]), int(event["endDate"]))
        if len(months) > MAX_INDEX_MONTHS:
            raise InvalidInputError.for_field("endDate", f"an event may span at most {MAX_INDEX_MONTHS} months")
        return months

    def _bucket_items(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                **event,
                "pk": _bucket_pk(int(event["calendarId"]), month),
                "sk": f"{ms_key(int(event['startDate']))}#{event['id']}",
                "gsi2pk": f"SRC#{event['eventTypeConfigId']}",
                "gsi2sk": f"{event['id']}#B#{month}",
            }
            for month in self._months(event)
        ]

    # ------------------------------------------------------------------ writes
    def _transact(self, actions: list[dict[str, Any]], conflict: str) -> None:
        if len(actions) > 100:
            raise InvalidInputError("the change touches too many items at once")
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as e:
            raise translate(e, conflict) from e

    def _put(self, item: dict[str, Any], condition: str | None = None, **expr: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": serialize(item)}
        if condition:
            put["ConditionExpression"] = condition
        put.update(expr)
        return {"Put": put}

    def _delete(self, pk: str, sk: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": {"pk": value(pk), "sk": value(sk)}}}

    def _create_actions(self, record: EventRecord) -> list[dict[str, Any]]:
        event = _item(record)
        return [self._put(self._main_item(event), "attribute_not_exists(pk)")] + [
            self._put(b) for b in self._bucket_items(event)
        ]

    def _replace_actions(self, old_record: EventRecord, new_record: EventRecord) -> list[dict[str, Any]]:
        old, new = _item(old_record), _item(new_record)
        new_buckets = self._bucket_items(new)
        kept = {(b["pk"], b["sk"]) for b in new_buckets}
        actions = [
            self._put(
                self._main_item(new),
                "#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": value(old["version"])},
            )
        ]
        actions += [self._put(b) for b in new_buckets]
        actions += [self._delete(pk, sk) for pk, sk in self._bucket_keys(old) if (pk, sk) not in kept]
        return actions

    def _delete_actions(self, record: EventRecord) -> list[dict[str, Any]]:
        event = _item(record)
        main = {
            "Delete": {
                "TableName": self._table,
                "Key": {"pk": value(_event_pk(event["id"])), "sk": value("EV")},
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": value(event["version"])},
            }
        }
        return [main] + [self._delete(pk, sk) for pk, sk in self._bucket_keys(event)]

    def _bucket_keys(self, event: dict[str, Any]) -> list[tuple[str, str]]:
        return [(b["pk"], b["sk"]) for b in self._bucket_items(event)]

    def commit(
        self,
        *,
        create: Iterable[EventRecord] = (),
        replace: Iterable[tuple[EventRecord, EventRecord]] = (),
        delete: Iterable[EventRecord] = (),
        conditions: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Write several events at once, all or nothing (one TransactWriteItems).

        ``create``: new events (their id must be free); ``replace``: ``(old, new)`` pairs, written
        only if the stored version is still ``old.version`` (index items of months the event left
        are deleted); ``delete``: events removed with their index items, only if unchanged since
        read; ``conditions``: extra ``ConditionCheck`` actions (e.g. the source is ACTIVE). A retry
        after a failure is safe: nothing was written.

        Raises:
            ConflictError: an id is taken, an event changed or vanished since it was read, or a
                condition failed.
            InvalidInputError: an event spans more than :data:`MAX_INDEX_MONTHS` months, or the
                change needs more than 100 item writes.
        """
        created, replaced, deleted = list(create), list(replace), list(delete)
        actions = list(conditions)
        for event in created:
            actions += self._create_actions(event)
        for old, new in replaced:
            actions += self._replace_actions(old, new)
        for event in deleted:
            actions += self._delete_actions(event)
        touched = _record_calendars([*created, *deleted, *(e for pair in replaced for e in pair)])
        actions += [{"Update": self._bump(calendar_id)} for calendar_id in sorted(touched)]
        self._transact(actions, "the event was changed by another request; reload it and retry")

    # ------------------------------------------------------------------ change stamps
    def _bump(self, calendar_id: int) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": _stamp_key(calendar_id),
            "UpdateExpression": "ADD #c :one SET #m = :now",
            "ExpressionAttributeNames": {"#c": "changes", "#m": "modified"},
            "ExpressionAttributeValues": {":one": value(1), ":now": value(now_ms())},
        }

    def bump_stamps(self, calendar_ids: Iterable[int]) -> None:
        """Bump the change stamp of each calendar (one UpdateItem each): for writes made
        outside :meth:`commit` (bulk writes, cascades)."""
        for calendar_id in sorted(set(calendar_ids)):
            try:
                self._client.update_item(**self._bump(calendar_id))
            except ClientError as e:
                raise translate(e) from e

    def forget_calendar(self, calendar_id: int) -> None:
        """Delete the calendar's change stamp (the last step of a calendar's deletion; idempotent)."""
        try:
            self._client.delete_item(TableName=self._table, Key=_stamp_key(calendar_id))
        except ClientError as e:
            raise translate(e) from e

    def change_stamp(self, calendar_id: int) -> ChangeStamp:
        """The calendar's :class:`ChangeStamp` (one strongly consistent GetItem; no event read)."""
        try:
            out = self._client.get_item(TableName=self._table, Key=_stamp_key(calendar_id), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        item = deserialize(out.get("Item") or {})
        return ChangeStamp(int(item.get("changes", 0)), int(item.get("modified", 0)))

    def create(self, event: EventRecord) -> None:
        """Insert one new event with its index items (see :meth:`commit`)."""
        self.commit(create=[event])

    def replace(self, old: EventRecord, new: EventRecord) -> None:
        """Replace ``old`` by ``new`` (same id) if unchanged since read (see :meth:`commit`)."""
        self.commit(replace=[(old, new)])

    def delete(self, event: EventRecord) -> None:
        """Delete one event with its index items if unchanged since read (see :meth:`commit`)."""
        self.commit(delete=[event])

    # ------------------------------------------------------------------ reads
    def get(self, event_id: int) -> EventRecord:
        """The event with ``event_id`` (strongly consistent).

        Raises:
            NotFoundError: no such event.
        """
        try:
            out = self._client.get_item(
                TableName=self._table,
                Key={"pk": value(_event_pk(event_id)), "sk": value("EV")},
                ConsistentRead=True,
            )
        except ClientError as e:
            raise translate(e) from e
        if "Item" not in out:
            raise NotFoundError(f"event {event_id} not found")
        return _record(deserialize(out["Item"]))

    def get_many(self, event_ids: Iterable[int]) -> dict[int, EventRecord]:
        """{id: event} of the events that exist among ``event_ids`` (strongly consistent
        BatchGetItem, 1 call per 100 ids): for syncs that apply many outside changes at once."""
        items = batch_get(self._client, self._table, [(_event_pk(i), "EV") for i in event_ids])
        return {int(item["id"]): _record(item) for item in items}

    def children(self, master_id: int) -> list[EventRecord]:
        """The exceptions of a master, ordered by recurrence id (one Query on gsi1)."""
        return [
            _record(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(f"EV#{master_id}#C")},
            )
        ]

    def in_window(self, calendar_id: int, start_ms: int, end_ms: int) -> list[EventRecord]:
        """Single events and exceptions of a calendar overlapping [start_ms, end_ms), by start.

        One Query per UTC month the window touches; events that started in an earlier month are
        found through the index item of every month they span.
        """
        found: dict[int, EventRecord] = {}
        for month in months_overlapping(start_ms, end_ms):
            for item in query_all(
                self._client,
                TableName=self._table,
                KeyConditionExpression="pk = :p AND sk < :e",
                ExpressionAttributeValues={
                    ":p": value(_bucket_pk(calendar_id, month)),
                    ":e": value(ms_key(end_ms)),
                },
            ):
                s, e = int(item["startDate"]), int(item["endDate"])
                if s < end_ms and (e > start_ms or (s == e and s >= start_ms)):
                    found[int(item["id"])] = _record(item)
        return sorted(found.values(), key=lambda ev: (ev.start_date, ev.id))

    def masters(self, calendar_id: int, start_ms: int, end_ms: int) -> list[EventRecord]:
        """Recurring masters of a calendar whose series can reach [start_ms, end_ms).

        One Query on gsi1 for masters whose series ends at or after ``start_ms``, filtered to
        those starting before ``end_ms``.
        """
        return [
            _record(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p AND gsi1sk >= :s",
                FilterExpression="startDate < :e",
                ExpressionAttributeValues={
                    ":p": value(f"CAL#{calendar_id}#M"),
                    ":s": value(ms_key(start_ms)),
                    ":e": value(end_ms),
                },
            )
        ]

    # ------------------------------------------------------------------ cascades
    def delete_by_source(self, source_id: int) -> int:
        """Delete every item of every event of a source; returns how many events went.

        Idempotent and resumable: a re-run after a crash finds what is left and deletes it. Uses
        BatchWriteItem (25 keys a call), retrying unprocessed keys with backoff.
        """
        keys = [
            (i["pk"], i["sk"])
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p",
                ExpressionAttributeValues={":p": value(f"SRC#{source_id}")},
            )
        ]
        self._batch_delete(keys)
        self.bump_stamps(int(pk.split("#")[1]) for pk, _ in keys if pk.startswith("CAL#"))
        return sum(1 for _, sk in keys if sk == "EV")

    def _batch_delete(self, keys: Iterable[tuple[str, str]]) -> None:
        for chunk in _chunks(list(dict.fromkeys(keys)), 25):
            requests = [{"DeleteRequest": {"Key": {"pk": value(pk), "sk": value(sk)}}} for pk, sk in chunk]
            self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        batch_write(self._client, self._table, requests)

    # ------------------------------------------------------------------ bulk (iCalendar export / import)
    def by_source(self, source_id: int) -> Iterator[EventRecord]:
        """Every event of a source (main items of every kind), in no particular order.

        A paged Query on ``gsi2`` (KEYS_ONLY, ``gsi2pk = "SRC#<sourceId>"``) keeps the keys whose
        ``sk`` is ``EV`` (the events; the others are month index items), then BatchGetItem fetches
        them 100 at a time (strongly consistent). No Scan; holds at most one page of keys and 100
        events at a time. An event deleted between the two reads is left out.
        """
        pending: list[tuple[str, str]] = []
        for key in query_all(
            self._client,
            TableName=self._table,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :p",
            ExpressionAttributeValues={":p": value(f"SRC#{source_id}")},
        ):
            if key["sk"] != "EV":
                continue
            pending.append((str(key["pk"]), "EV"))
            if len(pending) == 100:
                yield from (_record(i) for i in batch_get(self._client, self._table, pending))
                pending = []
        if pending:
            yield from (_record(i) for i in batch_get(self._client, self._table, pending))

    def batch_put(
        self,
        events: Iterable[EventRecord],
        *,
        previous: Mapping[int, EventRecord] | None = None,
        delete: Iterable[EventRecord] = (),
    ) -> int:
        """Write many events without a transaction; returns the number of item writes.

        Every item of each event in ``events`` (the main item and its month index items, see the
        module docstring) is put with BatchWriteItem, 25 requests a call, retrying
        ``UnprocessedItems`` with exponential backoff. ``previous`` maps an event id to its stored
        version when ``events`` replaces it: index items of months the event left are deleted.
        ``delete``: events removed with all their items.

        For bulk imports, which are idempotent and re-run after a failure: the writes are neither
        atomic nor conditioned on ``version`` (a concurrent edit of the same event loses). Index
        items go first and main items last, so an interrupted call never leaves an event whose
        index items are missing (a re-run that finds the main item has nothing left to repair).

        Raises:
            InvalidInputError: an event spans more than :data:`MAX_INDEX_MONTHS` months (checked
                before anything is written).
            RetryableError: DynamoDB kept returning unprocessed items.
        """
        before = {i: _item(e) for i, e in (previous or {}).items()}
        written, removed = [_item(e) for e in events], [_item(e) for e in delete]
        index_puts: dict[tuple[str, str], dict[str, Any]] = {}
        main_puts: dict[tuple[str, str], dict[str, Any]] = {}
        index_deletes: list[tuple[str, str]] = []
        main_deletes: list[tuple[str, str]] = []
        for event in written:
            attributes = serialize(event)  # once per event: its index items carry the same copy
            main = self._main_item(event)
            main_puts[(main["pk"], main["sk"])] = {**attributes, **serialize(_keys_of(main))}
            for bucket in self._bucket_items(event):
                index_puts[(bucket["pk"], bucket["sk"])] = {**attributes, **serialize(_keys_of(bucket))}
            old = before.get(int(event["id"]))
            if old is not None:
                index_deletes.extend(self._bucket_keys(old))
        for event in removed:
            index_deletes.extend(self._bucket_keys(event))
            main_deletes.append((_event_pk(int(event["id"])), "EV"))
        first = [{"PutRequest": {"Item": item}} for item in index_puts.values()]
        first += [
            {"DeleteRequest": {"Key": {"pk": value(pk), "sk": value(sk)}}}
            for pk, sk in dict.fromkeys(index_deletes)
            if (pk, sk) not in index_puts
        ]
        last = [{"PutRequest": {"Item": item}} for item in main_puts.values()]
        last += [
            {"DeleteRequest": {"Key": {"pk": value(pk), "sk": value(sk)}}}
            for pk, sk in dict.fromkeys(main_deletes)
            if (pk, sk) not in main_puts
        ]
        for phase in (first, last):
            for chunk in _chunks(phase, 25):
                self._batch_write(chunk)
        self.bump_stamps(_calendar_ids([*written, *removed, *before.values()]))
        return len(first) + len(last)


def _keys_of(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _INDEX_KEYS if k in item}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
