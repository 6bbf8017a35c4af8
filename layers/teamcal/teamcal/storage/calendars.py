"""Calendars table repository.

Item shape (table keys ``pk``/``sk``, index ``gsi1`` on ``gsi1pk``/``gsi1sk``, ALL projection):

* a calendar: ``pk = "CAL#<id>"``, ``sk = "CAL"``, ``gsi1pk = "CALS"`` while ``status = "ACTIVE"``
  and ``"CALS#DELETING"`` while a DELETE cascade is under way, ``gsi1sk = "<created ms, 15
  digits>#<id, 16 digits>"`` (listings in creation order); attributes are the wire names (``id``,
  ``user``, ``value``, ``publicCalendar``, ``calendarEditable``, ``permCalendarEdit {groups,
  users}``, ``eventsEditable``, ``permEventsEdit``, ``eventReporterEdit``, ``permCalendarView``)
  plus ``version`` (1 on create, +1 on each write), ``created``/``updated`` (epoch ms), ``status``
  and ``sourceIds`` (a number set: the ids of the calendar's sources, maintained in the same
  transaction that creates or deletes a source — see :mod:`teamcal.storage.sources`; absent when
  empty).

Reads return :class:`~teamcal.models.calendars.CalendarRecord` values, ``create`` takes one;
``update`` takes the changed attributes only (a partial SET, so a concurrent source creation's
``sourceIds`` is not lost).

Access paths and their cost: one calendar = 1 strongly consistent GetItem; the calendars of a
scoped token = BatchGetItem (1 call per 100 ids); every calendar (all-calendars tokens) = a Query
on ``gsi1pk = "CALS"`` (1 call per MB); calendars left half-deleted = a Query on
``gsi1pk = "CALS#DELETING"`` (for a sweeper). Moving a deleting calendar to its own partition
keeps listings from reading it at all. No Scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import ConflictError
from teamcal.models.calendars import CalendarRecord
from teamcal.storage.dynamo import deserialize, query_all, serialize, translate, value
from teamcal.storage.versioned import batch_get, error_code, versioned_update

ACTIVE_PK = "CALS"
DELETING_PK = "CALS#DELETING"
SK = "CAL"
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def calendar_pk(calendar_id: int) -> str:
    """The partition key of a calendar item (also used by the sources repository's transactions)."""
    return f"CAL#{calendar_id}"


def calendar_key(calendar_id: int) -> dict[str, Any]:
    """The DynamoDB key of a calendar item."""
    return {"pk": value(calendar_pk(calendar_id)), "sk": value(SK)}


def _record(item: Mapping[str, Any]) -> CalendarRecord:
    """A deserialized item → its record (index keys dropped, every other attribute kept)."""
    return CalendarRecord.model_validate({k: v for k, v in item.items() if k not in _INDEX_KEYS})


class CalendarRepository:
    """Stores calendars as :class:`~teamcal.models.calendars.CalendarRecord` (see the module docstring).

    ``client`` is a boto3 DynamoDB client; ``table`` the calendars table name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, record: CalendarRecord) -> None:
        """Insert a new calendar (with ``id``, ``version`` 1 and ``status`` ACTIVE).

        Raises:
            TypeError: ``record`` is not a :class:`CalendarRecord` (a dict is not written).
            ConflictError: the id is taken (the caller draws a new one).
        """
        if not isinstance(record, CalendarRecord):
            raise TypeError(f"a CalendarRecord is written, not {type(record).__name__}")
        item = {
            **record.item(),
            "pk": calendar_pk(record.id),
            "sk": SK,
            "gsi1pk": ACTIVE_PK,
            "gsi1sk": f"{record.created:015d}#{record.id:016d}",
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            raise translate(e, f"calendar id {record.id} is taken") from e

    def get(self, calendar_id: int) -> CalendarRecord | None:
        """The calendar record (any status), strongly consistent; ``None`` when absent."""
        try:
            out = self._client.get_item(TableName=self._table, Key=calendar_key(calendar_id), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _record(deserialize(out["Item"])) if "Item" in out else None

    def get_many(self, calendar_ids: Iterable[int]) -> list[CalendarRecord]:
        """The records of the calendars that exist among ``calendar_ids`` (any status), by id."""
        items = batch_get(self._client, self._table, [(calendar_pk(i), SK) for i in calendar_ids])
        return sorted((_record(i) for i in items), key=lambda r: r.id)

    def list_active(self) -> list[CalendarRecord]:
        """Every ACTIVE calendar, oldest first (a Query on ``gsi1``; eventually consistent)."""
        return self._list(ACTIVE_PK)

    def list_deleting(self) -> list[CalendarRecord]:
        """Calendars whose DELETE cascade has not finished, ordered by id."""
        return self._list(DELETING_PK)

    def _list(self, partition: str) -> list[CalendarRecord]:
        return [
            _record(item)
            for item in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(partition)},
            )
        ]

    def update(
        self, calendar_id: int, changes: Mapping[str, Any], expected_version: int, now_ms: int
    ) -> CalendarRecord:
        """SET ``changes`` (wire names) on an ACTIVE calendar still at ``expected_version``.

        ``version`` becomes ``expected_version + 1`` and ``updated`` ``now_ms``; ``sourceIds`` is
        never touched, so a concurrent source creation is not lost. Returns the new record.

        Raises:
            ConflictError: the version moved on, or the calendar is being deleted or is gone.
        """
        args = versioned_update(changes, expected_version, now_ms, extra_condition="#status = :active")
        try:
            out = self._client.update_item(
                TableName=self._table, Key=calendar_key(calendar_id), ReturnValues="ALL_NEW", **args
            )
        except ClientError as e:
            raise translate(
                e, f"calendar {calendar_id} was changed by another request (expected version {expected_version})"
            ) from e
        return _record(deserialize(out["Attributes"]))

    def mark_deleting(self, calendar_id: int, expected_version: int, now_ms: int) -> CalendarRecord:
        """Start a DELETE cascade: ``status = DELETING``, moved out of the listing partition.

        Conditional on ``expected_version`` so a racing PUT either lands first (and this fails with
        ConflictError, the caller re-reads) or fails itself. Returns the new record.
        """
        args = versioned_update(
            {"status": "DELETING", "gsi1pk": DELETING_PK},
            expected_version,
            now_ms,
            extra_condition="#status = :active",
        )
        try:
            out = self._client.update_item(
                TableName=self._table, Key=calendar_key(calendar_id), ReturnValues="ALL_NEW", **args
            )
        except ClientError as e:
            raise translate(e, f"calendar {calendar_id} changed while being deleted; retry") from e
        return _record(deserialize(out["Attributes"]))

    def delete(self, calendar_id: int) -> None:
        """Delete a DELETING calendar item (the last step of the cascade). Idempotent.

        Raises:
            ConflictError: the calendar is not in DELETING state.
        """
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=calendar_key(calendar_id),
                ConditionExpression="attribute_not_exists(pk) OR #status = :deleting",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":deleting": value("DELETING")},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConflictError(f"calendar {calendar_id} is not being deleted") from e
            raise translate(e) from e
