"""The deployment's Jira connection and the per-source sync state, in the calendars table.

Item shapes (keys ``pk``/``sk``; no index attributes, so calendar listings never read them):

* the connection: ``pk = "JIRA"``, ``sk = "CONNECTION"``; ``baseUrl`` (normalised), ``flavor``
  (``cloud`` | ``datacenter``), ``account`` (``{accountId, displayName, emailAddress}``: not
  secret), ``timeZone`` (the account's, how Jira reads JQL date literals), ``status``
  (``connected`` | ``needs_reauth``), ``rateMinutes``, ``scheduleName``, ``scheduleState``,
  ``lastSyncAt`` (epoch ms of the last run that finished without error), ``lastRun`` (its
  report), ``lastError``, ``createdBy``, ``created``/``updated`` (epoch ms), and while a sync runs
  ``leaseUntil`` + ``leaseId``. The credentials are in Secrets Manager only, never here.
* one item per Jira-backed source: ``pk = "JIRA"``, ``sk = "SRC#<sourceId>"``; ``sourceId``,
  ``calendarId``, ``kind``, ``fingerprint`` (of the value last synced: a change forces a full
  pass), ``mode`` (``full`` | ``incremental``) and ``cursor`` of an unfinished pass (a run resumes
  there), ``passStarted`` (epoch ms the pass began: the next incremental pass asks for issues
  updated since then, minus the margin), ``since`` (the lower bound of an incremental pass),
  ``seen`` (Jira ids met by an unfinished full pass, comma-separated), ``lastPassAt``,
  ``lastFullAt``, ``eventCount``, ``lastRun``, ``error``.

Cost: everything is one Query (``pk = "JIRA"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from teamcal.models.jira_state import JiraConnectionRecord, JiraSyncStateRecord
from teamcal.models.stored import LEASE_ATTRIBUTES, changed_attributes
from teamcal.storage.dynamo import query_all, translate, value
from teamcal.storage.versioned import error_code

PK = "JIRA"
CONNECTION_SK = "CONNECTION"
_STATE_PREFIX = "SRC#"


def state_sk(source_id: int) -> str:
    """The sort key of a source's sync state."""
    return f"{_STATE_PREFIX}{source_id}"


@dataclass
class JiraItems:
    """The connection and the source states (by source id), as stored."""

    connection: JiraConnectionRecord | None = None
    states: dict[int, JiraSyncStateRecord] = field(default_factory=dict)


class JiraRepository:
    """Stores the items of the module docstring as :class:`JiraConnectionRecord` and
    :class:`JiraSyncStateRecord` (never dicts). ``client`` is a boto3 DynamoDB client, ``table``
    the calendars table name."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self.calls = 0

    def _key(self, sk: str) -> dict[str, Any]:
        return {"pk": value(PK), "sk": value(sk)}

    def load(self) -> JiraItems:
        """The connection and every source state: one strongly consistent Query."""
        found = JiraItems()
        self.calls += 1
        for item in query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": value(PK)},
            ConsistentRead=True,
        ):
            record = {k: v for k, v in item.items() if k not in ("pk", "sk")}
            if item["sk"] == CONNECTION_SK:
                found.connection = JiraConnectionRecord.from_item(record)
            elif str(item["sk"]).startswith(_STATE_PREFIX):
                state = JiraSyncStateRecord.from_item(record)
                found.states[state.source_id] = state
        return found

    def _update(self, sk: str, changes: Mapping[str, Any], condition: str | None = None) -> None:
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
            "Key": self._key(sk),
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
        }
        if values:
            args["ExpressionAttributeValues"] = values
        if condition:
            args["ConditionExpression"] = condition
        self.calls += 1
        try:
            self._client.update_item(**args)
        except ClientError as e:
            raise translate(e, "the Jira connection was removed meanwhile") from e

    def save_connection(self, record: JiraConnectionRecord, previous: JiraConnectionRecord | None) -> None:
        """Create or update the connection item: write what ``record`` changes relative to
        ``previous`` (the connection as read; None: write every attribute of ``record``). The
        lease attributes are never written here.

        Raises:
            TypeError: not a :class:`JiraConnectionRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, JiraConnectionRecord, LEASE_ATTRIBUTES)
        if changes:
            self._update(CONNECTION_SK, changes)

    def update_connection(self, record: JiraConnectionRecord, previous: JiraConnectionRecord) -> None:
        """As :meth:`save_connection`, on the existing connection only.

        Raises:
            ConflictError: the connection is gone (disconnected).
            TypeError: not a :class:`JiraConnectionRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, JiraConnectionRecord, LEASE_ATTRIBUTES)
        if changes:
            self._update(CONNECTION_SK, changes, "attribute_exists(pk)")

    def save_state(self, record: JiraSyncStateRecord, previous: JiraSyncStateRecord | None) -> None:
        """Create or update a source's sync state: write what ``record`` changes relative to
        ``previous`` (the state as last read or written; None: every attribute of ``record``).

        Raises:
            TypeError: not a :class:`JiraSyncStateRecord` (a dict is not written).
        """
        changes = changed_attributes(record, previous, JiraSyncStateRecord, LEASE_ATTRIBUTES)
        self._update(state_sk(record.source_id), {**changes, "sourceId": record.source_id})

    def delete_state(self, source_id: int) -> None:
        """Remove a source's sync state (idempotent)."""
        self._delete(state_sk(source_id))

    def _delete(self, sk: str) -> None:
        self.calls += 1
        try:
            self._client.delete_item(TableName=self._table, Key=self._key(sk))
        except ClientError as e:
            raise translate(e) from e

    def delete_all(self) -> None:
        """Remove the connection and every source state (idempotent)."""
        for source_id in self.load().states:
            self.delete_state(source_id)
        self._delete(CONNECTION_SK)

    def acquire_lease(self, lease_id: str, now_ms: int, until_ms: int) -> bool:
        """Take the connection's sync lease until ``until_ms`` unless another run holds it (one
        sync at a time: the schedule and ``POST /jira/sync`` may overlap)."""
        self.calls += 1
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(CONNECTION_SK),
                UpdateExpression="SET leaseUntil = :until, leaseId = :id",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeValues={":until": value(until_ms), ":id": value(lease_id), ":now": value(now_ms)},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise translate(e) from e
        return True

    def release_lease(self, lease_id: str) -> None:
        """Give the lease back (no-op when someone else holds it or the connection is gone)."""
        self.calls += 1
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(CONNECTION_SK),
                UpdateExpression="REMOVE leaseUntil, leaseId",
                ConditionExpression="leaseId = :id",
                ExpressionAttributeValues={":id": value(lease_id)},
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise translate(e) from e
