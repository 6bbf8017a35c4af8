"""Sources table repository: a calendar's event sources.

Item shape (sources table keys ``pk``/``sk``):

* a source: ``pk = "SRC#<id>"``, ``sk = "SRC"``; attributes ``id``, ``calendarId``,
  ``eventTypeKey`` (the type's key: ``meeting``, ``jira``, a custom key), ``emailsEnabled``,
  ``order``, ``value`` (the JSON string as received), ``version``, ``created``/``updated`` (epoch
  ms) and ``status`` (``ACTIVE``, or ``DELETING`` while its events are being deleted). A DELETING
  source also has ``gsi2pk = "SRCS#DELETING"``, ``gsi2sk = <id, 16 digits>``: a sparse index
  (``gsi2``, KEYS_ONLY) of the deletions to finish, for a sweeper.

A source is found from its calendar through the calendar item's ``sourceIds`` set, never
through an index: creating a source is one TransactWriteItems that puts the source, adds its id to
the calendar's ``sourceIds`` (on condition the calendar is ACTIVE) and, for a custom type, adds 1
to the type's ``useCount`` (on condition the type exists); deleting one removes all three
together. So a calendar always knows every source it has, strongly consistent — a DELETE cascade
cannot miss a source created a moment earlier (a GSI could lag), no source can be added to a
calendar being deleted, and a custom type in use cannot be deleted.

Cost: one source = 1 GetItem; the sources of n calendars = BatchGetItem over their ``sourceIds``
(1 call per 100 sources, whatever n is), so ``GET /calendar`` is not N+1. Custom types live in the
same table (see :mod:`teamcal.storage.event_types`). No Scan; the only index entry a source ever
has is the sparse one while it is being deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import ConflictError, InvalidInputError, NotFoundError
from teamcal.models.event_types import PREDEFINED_BY_KEY
from teamcal.models.sources import MAX_SOURCES_PER_CALENDAR, SourceRecord, full_calendar_error
from teamcal.storage.calendars import calendar_key
from teamcal.storage.dynamo import deserialize, query_all, serialize, translate, value
from teamcal.storage.event_types import event_type_key
from teamcal.storage.versioned import batch_get, cancellation_codes, error_code, versioned_update

SK = "SRC"
DELETING_PK = "SRCS#DELETING"
_INDEX_KEYS = ("pk", "sk", "gsi2pk", "gsi2sk")
_FAILED = "ConditionalCheckFailed"


def source_pk(source_id: int) -> str:
    """The partition key of a source item."""
    return f"SRC#{source_id}"


def _key(source_id: int) -> dict[str, Any]:
    return {"pk": value(source_pk(source_id)), "sk": value(SK)}


def _record(item: Mapping[str, Any]) -> SourceRecord:
    """A deserialized item → its record (index keys dropped, every other attribute kept)."""
    return SourceRecord.model_validate({k: v for k, v in item.items() if k not in _INDEX_KEYS})


def _counted(type_key: str) -> bool:
    """Custom types count their sources; predefined ones are constants."""
    return type_key not in PREDEFINED_BY_KEY


class SourceRepository:
    """Stores sources as :class:`~teamcal.models.sources.SourceRecord` (see the module docstring).

    ``client`` is a boto3 DynamoDB client; ``table`` the sources table (which also holds custom
    event types); ``calendars_table`` the calendars table, whose items list their sources.
    """

    def __init__(self, client: Any, table: str, calendars_table: str) -> None:
        self._client = client
        self._table = table
        self._calendars = calendars_table

    # ------------------------------------------------------------------ reads
    def get(self, source_id: int) -> SourceRecord | None:
        """The source record (any status), strongly consistent; ``None`` when absent."""
        try:
            out = self._client.get_item(TableName=self._table, Key=_key(source_id), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _record(deserialize(out["Item"])) if "Item" in out else None

    def get_many(self, source_ids: Iterable[int]) -> list[SourceRecord]:
        """The records of the sources that exist among ``source_ids`` (any status), unordered."""
        return [_record(i) for i in batch_get(self._client, self._table, [(source_pk(i), SK) for i in source_ids])]

    # ------------------------------------------------------------------ writes
    def create(self, record: SourceRecord) -> None:
        """Insert a source and register it with its calendar (and custom type), atomically. The
        calendar's cap (:data:`~teamcal.models.sources.MAX_SOURCES_PER_CALENDAR`) is a condition
        of the same transaction, so two requests racing for the last place cannot both get it.

        Raises:
            ConflictError: the id is taken (the caller draws a new one).
            NotFoundError: the calendar does not exist or is being deleted (``calendarConfigurationId``).
            InvalidInputError: the calendar is full (``calendarConfigurationId``); the custom type
                was deleted meanwhile (``eventTypeId``).
        """
        source_id, calendar_id, type_key = record.id, record.calendar_id, record.event_type_key
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": serialize({**record.item(), "pk": source_pk(source_id), "sk": SK}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._calendars,
                    "Key": calendar_key(calendar_id),
                    "UpdateExpression": "ADD sourceIds :ids",
                    "ConditionExpression": "attribute_exists(pk) AND #status = :active"
                    " AND (attribute_not_exists(sourceIds) OR size(sourceIds) < :cap)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":ids": {"NS": [str(source_id)]},
                        ":active": value("ACTIVE"),
                        ":cap": value(MAX_SOURCES_PER_CALENDAR),
                    },
                }
            },
        ]
        if _counted(type_key):
            actions.append(self._count(type_key, +1))
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as e:
            codes = cancellation_codes(e)
            if len(codes) > 1 and codes[1] == _FAILED:
                if self._calendar_is_full(calendar_id):
                    raise full_calendar_error() from e
                raise NotFoundError(
                    f"calendar {calendar_id} not found",
                    {"calendarConfigurationId": f"calendar {calendar_id} not found"},
                ) from e
            if len(codes) > 2 and codes[2] == _FAILED:
                raise InvalidInputError.for_field("eventTypeId", f"unknown event type {type_key!r}") from e
            raise translate(e, f"source id {source_id} is taken") from e

    def _calendar_is_full(self, calendar_id: int) -> bool:
        """Whether the calendar is ACTIVE and holds its cap of sources (read after a refused create)."""
        try:
            out = self._client.get_item(TableName=self._calendars, Key=calendar_key(calendar_id), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        item = deserialize(out["Item"]) if "Item" in out else {}
        return item.get("status") == "ACTIVE" and len(item.get("sourceIds") or ()) >= MAX_SOURCES_PER_CALENDAR

    def _count(self, type_key: str, delta: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": event_type_key(type_key),
                "UpdateExpression": "ADD useCount :d",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":d": value(delta)},
            }
        }

    def update(self, source_id: int, changes: Mapping[str, Any], expected_version: int, now_ms: int) -> SourceRecord:
        """SET ``changes`` (stored attribute names) on an ACTIVE source still at
        ``expected_version``; returns the new record.

        Raises:
            ConflictError: the version moved on, or the source is being deleted or is gone.
        """
        args = versioned_update(changes, expected_version, now_ms, extra_condition="#status = :active")
        try:
            out = self._client.update_item(TableName=self._table, Key=_key(source_id), ReturnValues="ALL_NEW", **args)
        except ClientError as e:
            raise translate(
                e, f"source {source_id} was changed by another request (expected version {expected_version})"
            ) from e
        return _record(deserialize(out["Attributes"]))

    def list_deleting(self) -> list[int]:
        """The ids of sources whose deletion has not finished (a Query on the sparse ``gsi2``)."""
        return [
            int(str(item["pk"]).removeprefix("SRC#"))
            for item in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi2",
                KeyConditionExpression="gsi2pk = :p",
                ExpressionAttributeValues={":p": value(DELETING_PK)},
            )
        ]

    def mark_deleting(self, source_id: int, now_ms: int) -> SourceRecord | None:
        """``status = DELETING`` and an entry in the sparse deletion index (idempotent; bumps
        ``version`` so racing PUTs fail). Returns the new record, or ``None`` when the source is
        already gone."""
        try:
            out = self._client.update_item(
                TableName=self._table,
                Key=_key(source_id),
                UpdateExpression=(
                    "SET #status = :deleting, #updated = :now, gsi2pk = :dpk, gsi2sk = :dsk ADD #version :one"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#status": "status", "#updated": "updated", "#version": "version"},
                ExpressionAttributeValues={
                    ":deleting": value("DELETING"),
                    ":now": value(now_ms),
                    ":one": value(1),
                    ":dpk": value(DELETING_PK),
                    ":dsk": value(f"{source_id:016d}"),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return None
            raise translate(e) from e
        return _record(deserialize(out["Attributes"]))

    def delete(self, record: SourceRecord) -> bool:
        """Delete a source item, unregister it from its calendar and custom type, atomically.

        Idempotent: returns False when the source was already gone. If its calendar item is
        already gone (it never is: the calendar item is deleted last), the source still goes.

        Raises:
            ConflictError: the transaction kept conflicting with concurrent writes.
        """
        source_id, calendar_id, type_key = record.id, record.calendar_id, record.event_type_key
        with_calendar, with_type = True, _counted(type_key)
        for _ in range(3):
            actions: list[dict[str, Any]] = [
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": _key(source_id),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            ]
            if with_calendar:
                actions.append(
                    {
                        "Update": {
                            "TableName": self._calendars,
                            "Key": calendar_key(calendar_id),
                            "UpdateExpression": "DELETE sourceIds :ids",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":ids": {"NS": [str(source_id)]}},
                        }
                    }
                )
            if with_type:
                actions.append(self._count(type_key, -1))
            try:
                self._client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as e:
                codes = list(cancellation_codes(e))
                if not codes:
                    raise translate(e) from e
                if codes[0] == _FAILED:
                    return False
                if with_calendar and codes[1] == _FAILED:
                    with_calendar = False
                elif with_type and codes[-1] == _FAILED:
                    with_type = False
                elif "TransactionConflict" not in codes:
                    raise translate(e) from e
        raise ConflictError(f"source {source_id} could not be deleted; retry")

    def active_condition(self, source_id: int) -> dict[str, Any]:
        """A TransactWriteItems ``ConditionCheck`` that source ``source_id`` exists and is ACTIVE.

        For writers of events: put it in the transaction that creates an event, so no event is
        added to a source whose DELETE cascade has started (the cascade would miss it).
        """
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": _key(source_id),
                "ConditionExpression": "attribute_exists(pk) AND #status = :active",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":active": value("ACTIVE")},
            }
        }
