"""Custom event types, stored in the sources table.

Item shape (sources table keys ``pk``/``sk``, index ``gsi1`` ALL projection):

* a custom type: ``pk = "ET#<key>"``, ``sk = "ET"``, ``gsi1pk = "ETS"``, ``gsi1sk = <key>``;
  attributes ``id``, ``key``, ``name``, ``issueRequired``, ``projectRequired``,
  ``usersRequired``, ``systemType`` (false), ``version``, ``created``/``updated`` (epoch ms) and
  ``useCount``: how many sources use the type. ``useCount`` moves in the same transaction that
  creates or deletes such a source (:mod:`teamcal.storage.sources`), so "is this type in use?" is
  exact, and deleting a type is one conditional DeleteItem (``useCount = 0``) that cannot race a
  source creation.

Predefined types are constants (:data:`teamcal.models.event_types.PREDEFINED`), not items.
Listing custom types is one Query on ``gsi1pk = "ETS"``; finding one by id reads that list (there
are few custom types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import ConflictError, NotFoundError
from teamcal.models.event_types import EventTypeRecord
from teamcal.storage.dynamo import deserialize, query_all, serialize, translate, value
from teamcal.storage.versioned import error_code, versioned_update

LIST_PK = "ETS"
SK = "ET"
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def event_type_key(key: str) -> dict[str, Any]:
    """The DynamoDB key of a custom type item (also used by the sources repository)."""
    return {"pk": value(f"ET#{key}"), "sk": value(SK)}


def _record(item: Mapping[str, Any]) -> EventTypeRecord:
    """A deserialized item → its record (index keys dropped, every other attribute kept)."""
    return EventTypeRecord.model_validate({k: v for k, v in item.items() if k not in _INDEX_KEYS})


class EventTypeRepository:
    """Stores custom event types as :class:`~teamcal.models.event_types.EventTypeRecord`.

    ``client`` is a boto3 DynamoDB client; ``table`` the sources table name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def list_custom(self) -> list[EventTypeRecord]:
        """Every custom type, ordered by key (one Query on ``gsi1``)."""
        return [
            _record(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(LIST_PK)},
            )
        ]

    def get(self, key: str) -> EventTypeRecord | None:
        """The custom type with ``key`` (strongly consistent), ``None`` when absent."""
        try:
            out = self._client.get_item(TableName=self._table, Key=event_type_key(key), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _record(deserialize(out["Item"])) if "Item" in out else None

    def create(self, record: EventTypeRecord) -> None:
        """Insert a custom type (``useCount`` 0).

        Raises:
            ConflictError: a custom type with this key exists.
        """
        key = record.key
        item = {**record.item(), "useCount": 0, "pk": f"ET#{key}", "sk": SK, "gsi1pk": LIST_PK, "gsi1sk": key}
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            raise translate(e, f"an event type with key {key!r} exists") from e

    def update(self, key: str, changes: Mapping[str, Any], expected_version: int, now_ms: int) -> EventTypeRecord:
        """SET ``changes`` on a custom type still at ``expected_version``; returns the new record.

        Raises:
            ConflictError: the version moved on or the type was deleted.
        """
        args = versioned_update(changes, expected_version, now_ms)
        try:
            out = self._client.update_item(
                TableName=self._table, Key=event_type_key(key), ReturnValues="ALL_NEW", **args
            )
        except ClientError as e:
            raise translate(
                e, f"event type {key!r} was changed by another request (expected version {expected_version})"
            ) from e
        return _record(deserialize(out["Attributes"]))

    def delete(self, key: str, expected_version: int | None = None) -> EventTypeRecord:
        """Delete a custom type no source uses; returns its record.

        Raises:
            NotFoundError: no such custom type.
            ConflictError: a source uses it (``useCount > 0``), or ``expected_version`` is stale.
        """
        condition = "attribute_exists(pk) AND (attribute_not_exists(useCount) OR useCount = :zero)"
        values: dict[str, Any] = {":zero": value(0)}
        names: dict[str, str] = {}
        if expected_version is not None:
            condition += " AND #version = :v"
            names["#version"] = "version"
            values[":v"] = value(expected_version)
        try:
            out = self._client.delete_item(
                TableName=self._table,
                Key=event_type_key(key),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise translate(e) from e
            old = e.response.get("Item")
            if not old:
                raise NotFoundError(f"event type {key!r} not found") from e
            record = deserialize(old)  # type: ignore[arg-type]  # the stubs type Item as object
            if int(record.get("useCount") or 0) > 0:
                raise ConflictError(
                    f"event type {key!r} is used by {record['useCount']} source(s); delete them first"
                ) from e
            raise ConflictError(f"event type {key!r} was changed by another request") from e
        return _record(deserialize(out["Attributes"]))
