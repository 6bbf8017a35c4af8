"""Subscription feed tokens of calendars, stored in the calendars table (only their hashes).

Item shapes (calendars table keys ``pk``/``sk``; no index):

* the feed of a calendar: ``pk = "CAL#<calendarId>#FEED"``, ``sk = "FEED"``: ``calendarId``,
  ``tokenHash`` (SHA-256 hex of the secret), ``hint`` (its last 4 characters), ``created``
  (epoch ms), ``createdBy`` (user);
* the lookup item of a secret: ``pk = "FEED#<tokenHash>"``, ``sk = "FEED"``, the same attributes.

A feed request finds its calendar with one GetItem on the hash (the secret itself is never
stored). A calendar has at most one feed: creating a new one replaces the old one and revoking
deletes both items, in one transaction each, so an old secret stops working at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.models.feed_record import FeedRecord
from teamcal.models.stored import require_records
from teamcal.storage.dynamo import deserialize, serialize, translate, value

SK = "FEED"
_KEYS = ("pk", "sk")


def _calendar_key(calendar_id: int) -> dict[str, Any]:
    return {"pk": value(f"CAL#{calendar_id}#FEED"), "sk": value(SK)}


def _hash_key(token_hash: str) -> dict[str, Any]:
    return {"pk": value(f"FEED#{token_hash}"), "sk": value(SK)}


def _record(item: Mapping[str, Any]) -> FeedRecord:
    return FeedRecord.from_item({k: v for k, v in item.items() if k not in _KEYS})


class FeedRepository:
    """Stores :class:`FeedRecord` s (items: ``calendarId``, ``tokenHash``, ``hint``, ``created``,
    ``createdBy``).

    ``client`` is a boto3 DynamoDB client; ``table`` the calendars table name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _get(self, key: dict[str, Any]) -> FeedRecord | None:
        try:
            out = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _record(deserialize(out["Item"])) if "Item" in out else None

    def by_hash(self, token_hash: str) -> FeedRecord | None:
        """The feed whose secret hashes to ``token_hash``, or ``None`` (unknown or revoked)."""
        return self._get(_hash_key(token_hash))

    def of_calendar(self, calendar_id: int) -> FeedRecord | None:
        """The calendar's current feed, or ``None``."""
        return self._get(_calendar_key(calendar_id))

    def replace(self, record: FeedRecord, old: FeedRecord | None) -> None:
        """Make ``record`` the calendar's feed, revoking ``old`` (the current one, as read).

        Raises:
            ConflictError: the feed changed since ``old`` was read (retry).
            TypeError: ``record`` or ``old`` is not a :class:`FeedRecord` (a dict is not written).
        """
        require_records(FeedRecord, record, old)
        item = record.item()
        pointer: dict[str, Any] = {
            "TableName": self._table,
            "Item": serialize({**item, "pk": f"CAL#{record.calendar_id}#FEED", "sk": SK}),
        }
        if old is None:
            pointer["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            pointer["ConditionExpression"] = "tokenHash = :old"
            pointer["ExpressionAttributeValues"] = {":old": value(old.token_hash)}
        actions: list[dict[str, Any]] = [
            {"Put": pointer},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": serialize({**item, "pk": f"FEED#{record.token_hash}", "sk": SK}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if old is not None:
            actions.append({"Delete": {"TableName": self._table, "Key": _hash_key(old.token_hash)}})
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as e:
            raise translate(e, "the calendar's feed was changed by another request; retry") from e

    def delete(self, current: FeedRecord) -> None:
        """Revoke ``current`` (both items), if it is still the calendar's feed.

        Raises:
            ConflictError: the feed changed since it was read (retry).
            TypeError: ``current`` is not a :class:`FeedRecord`.
        """
        require_records(FeedRecord, current)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": _calendar_key(current.calendar_id),
                            "ConditionExpression": "tokenHash = :h",
                            "ExpressionAttributeValues": {":h": value(current.token_hash)},
                        }
                    },
                    {"Delete": {"TableName": self._table, "Key": _hash_key(current.token_hash)}},
                ]
            )
        except ClientError as e:
            raise translate(e, "the calendar's feed was changed by another request; retry") from e
