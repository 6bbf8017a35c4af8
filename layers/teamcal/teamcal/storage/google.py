"""Google connections in the calendars table: the connection, per-Google-calendar sync state, and
the pending OAuth consent.

Item shapes (calendars table keys ``pk``/``sk``; none of them has index attributes, so calendar
listings never read them):

* the connection: ``pk = "CAL#<calendarId>"``, ``sk = "GOOGLE"``; ``calendarId``, ``authType``
  (``oauth`` | ``serviceAccount`` | ``apiKey``), ``account`` (the OAuth client id or the service
  account's email: not secret), ``status`` (``connected`` | ``needs_reauth``), ``rateMinutes``,
  ``scheduleName``, ``scheduleState`` (``ENABLED`` | ``DISABLED`` | absent before a selection),
  ``lastSyncAt`` (epoch ms of the last run that finished without error), ``lastRun`` (the last
  run's report), ``lastError``, ``createdBy``, ``created``/``updated`` (epoch ms), and while a
  sync runs ``leaseUntil`` (epoch ms) + ``leaseId``. The credentials themselves are in Secrets
  Manager (:mod:`teamcal.storage.google_secrets`), never here.
* one item per selected Google calendar: ``pk = "CAL#<calendarId>"``,
  ``sk = "GOOGLE#CAL#<googleCalendarId>"``; ``googleCalendarId``, ``summary``, ``timeZone``,
  ``public`` (bool), ``sourceId`` (the read-only source its events land in), ``syncToken``
  (Google's ``nextSyncToken``; absent until the first full sync ends), ``pageToken`` (the next
  page of an unfinished listing: a run resumes there), ``pendingParents`` (ids of Google masters
  whose exceptions arrived first), ``pendingExdates`` ({master id: [recurrence ids]} of cancelled
  instances that arrived before their master), ``eventCount``, ``lastSyncAt``, ``lastRun``,
  ``fullSyncs`` (how many full syncs ran), ``error``.
* the pending consent of the OAuth flow: ``pk = "CAL#<calendarId>"``, ``sk = "GOOGLE#AUTH"``;
  ``stateHash`` (SHA-256 of the ``state`` parameter), ``codeVerifier`` (PKCE, RFC 7636),
  ``user``, ``expiresAt`` (epoch ms). One per calendar: a new consent replaces it; the callback
  deletes it (single use).

Cost: everything about a connection is one Query (``pk = CAL#<id> AND begins_with(sk, "GOOGLE")``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from teamcal.models.google_state import GoogleAuthRecord, GoogleConnectionRecord, GoogleSyncStateRecord
from teamcal.models.stored import LEASE_ATTRIBUTES, changed_attributes, require_records
from teamcal.storage.calendars import calendar_pk
from teamcal.storage.dynamo import deserialize, query_all, serialize, translate, value
from teamcal.storage.versioned import error_code

CONNECTION_SK = "GOOGLE"
AUTH_SK = "GOOGLE#AUTH"
_STATE_PREFIX = "GOOGLE#CAL#"
_KEYS = ("pk", "sk")


def state_sk(google_calendar_id: str) -> str:
    """The sort key of a Google calendar's sync state."""
    return _STATE_PREFIX + google_calendar_id


def _record(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _KEYS}


@dataclass
class GoogleItems:
    """Everything stored about one calendar's Google connection; ``states`` sorted by Google
    calendar id."""

    connection: GoogleConnectionRecord | None = None
    states: list[GoogleSyncStateRecord] = field(default_factory=list)
    auth: GoogleAuthRecord | None = None


class GoogleRepository:
    """Stores the items of the module docstring as :class:`GoogleConnectionRecord`,
    :class:`GoogleSyncStateRecord` and :class:`GoogleAuthRecord` (never dicts). ``client`` is a
    boto3 DynamoDB client, ``table`` the calendars table name."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, calendar_id: int, sk: str) -> dict[str, Any]:
        return {"pk": value(calendar_pk(calendar_id)), "sk": value(sk)}

    # ------------------------------------------------------------------ reads
    def load(self, calendar_id: int) -> GoogleItems:
        """The connection, its sync states (by Google calendar id) and the pending consent: one
        strongly consistent Query."""
        found = GoogleItems()
        for item in query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :g)",
            ExpressionAttributeValues={":p": value(calendar_pk(calendar_id)), ":g": value(CONNECTION_SK)},
            ConsistentRead=True,
        ):
            sk = str(item["sk"])
            if sk == CONNECTION_SK:
                found.connection = GoogleConnectionRecord.from_item(_record(item))
            elif sk == AUTH_SK:
                found.auth = GoogleAuthRecord.from_item(_record(item))
            elif sk.startswith(_STATE_PREFIX):
                found.states.append(GoogleSyncStateRecord.from_item(_record(item)))
        found.states.sort(key=lambda s: str(s.google_calendar_id))
        return found

    # ------------------------------------------------------------------ writes
    def _update(self, calendar_id: int, sk: str, changes: Mapping[str, Any], condition: str | None = None) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for i, (name, new) in enumerate(changes.items()):
            names[f"#a{i}"] = name
            if new is None:
                removes.append(f"#a{i}")
            else:
                values[f":a{i}"] = value(new)
                sets.append(f"#a{i} = :a{i}")
        expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        args: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(calendar_id, sk),
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
        }
        if values:
            args["ExpressionAttributeValues"] = values
        if condition:
            args["ConditionExpression"] = condition
        try:
            self._client.update_item(**args)
        except ClientError as e:
            raise translate(e, "the Google connection was removed meanwhile") from e

    def save_connection(
        self, calendar_id: int, record: GoogleConnectionRecord, previous: GoogleConnectionRecord | None
    ) -> None:
        """Create or update the connection item: write what ``record`` changes relative to
        ``previous`` (the connection as read; None: every attribute of ``record``), and
        ``calendarId``. The lease attributes are never written here.

        Raises:
            TypeError: not a :class:`GoogleConnectionRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, GoogleConnectionRecord, LEASE_ATTRIBUTES)
        self._update(calendar_id, CONNECTION_SK, {**changes, "calendarId": calendar_id})

    def update_connection(
        self, calendar_id: int, record: GoogleConnectionRecord, previous: GoogleConnectionRecord
    ) -> None:
        """As :meth:`save_connection`, on an existing connection item only.

        Raises:
            ConflictError: the connection is gone (disconnected).
            TypeError: not a :class:`GoogleConnectionRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, GoogleConnectionRecord, LEASE_ATTRIBUTES)
        if changes:
            self._update(calendar_id, CONNECTION_SK, changes, "attribute_exists(pk)")

    def save_state(
        self, calendar_id: int, record: GoogleSyncStateRecord, previous: GoogleSyncStateRecord | None
    ) -> None:
        """Create or update a Google calendar's sync state: write what ``record`` changes
        relative to ``previous`` (None: every attribute of ``record``).

        Raises:
            TypeError: not a :class:`GoogleSyncStateRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, GoogleSyncStateRecord, LEASE_ATTRIBUTES)
        gcal = record.google_calendar_id
        self._update(calendar_id, state_sk(gcal), {**changes, "googleCalendarId": gcal})

    def update_state(self, calendar_id: int, record: GoogleSyncStateRecord, previous: GoogleSyncStateRecord) -> None:
        """As :meth:`save_state`, on an existing sync state only.

        Raises:
            ConflictError: the Google calendar was deselected meanwhile.
            TypeError: not a :class:`GoogleSyncStateRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, GoogleSyncStateRecord, LEASE_ATTRIBUTES)
        if changes:
            self._update(calendar_id, state_sk(record.google_calendar_id), changes, "attribute_exists(pk)")

    def delete_state(self, calendar_id: int, google_calendar_id: str) -> None:
        """Remove a Google calendar's sync state (idempotent)."""
        self._delete(calendar_id, state_sk(google_calendar_id))

    def _delete(self, calendar_id: int, sk: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key=self._key(calendar_id, sk))
        except ClientError as e:
            raise translate(e) from e

    def delete_all(self, calendar_id: int) -> None:
        """Remove the connection, every sync state and the pending consent (idempotent)."""
        found = self.load(calendar_id)
        for state in found.states:
            self._delete(calendar_id, state_sk(state.google_calendar_id))
        self._delete(calendar_id, AUTH_SK)
        self._delete(calendar_id, CONNECTION_SK)

    # ------------------------------------------------------------------ OAuth consent
    def put_auth(self, calendar_id: int, record: GoogleAuthRecord) -> None:
        """Store the pending consent (replacing an earlier one of the same calendar).

        Raises:
            TypeError: not a :class:`GoogleAuthRecord` (a dict is not written).
        """
        require_records(GoogleAuthRecord, record)
        item = {**record.item(), "pk": calendar_pk(calendar_id), "sk": AUTH_SK}
        try:
            self._client.put_item(TableName=self._table, Item=serialize(item))
        except ClientError as e:
            raise translate(e) from e

    def take_auth(self, calendar_id: int, state_hash: str) -> GoogleAuthRecord | None:
        """Delete and return the pending consent whose ``stateHash`` is ``state_hash``; ``None``
        when there is none (unknown, replaced by a newer consent, or already used)."""
        try:
            out = self._client.delete_item(
                TableName=self._table,
                Key=self._key(calendar_id, AUTH_SK),
                ConditionExpression="stateHash = :h",
                ExpressionAttributeValues={":h": value(state_hash)},
                ReturnValues="ALL_OLD",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return None
            raise translate(e) from e
        return GoogleAuthRecord.from_item(_record(deserialize(out["Attributes"]))) if "Attributes" in out else None

    # ------------------------------------------------------------------ lease
    def acquire_lease(self, calendar_id: int, lease_id: str, now_ms: int, until_ms: int) -> bool:
        """Take the connection's sync lease until ``until_ms`` unless another run holds it: one
        sync per connection at a time (schedule and "sync now" may overlap)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(calendar_id, CONNECTION_SK),
                UpdateExpression="SET leaseUntil = :until, leaseId = :id",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeValues={":until": value(until_ms), ":id": value(lease_id), ":now": value(now_ms)},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise translate(e) from e
        return True

    def release_lease(self, calendar_id: int, lease_id: str) -> None:
        """Give the lease back (no-op when it expired and someone else holds it, or when the
        connection was removed meanwhile)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(calendar_id, CONNECTION_SK),
                UpdateExpression="REMOVE leaseUntil, leaseId",
                ConditionExpression="leaseId = :id",
                ExpressionAttributeValues={":id": value(lease_id)},
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise translate(e) from e
