"""The stored Jira connection and per-source sync state: :class:`JiraConnectionRecord` and
:class:`JiraSyncStateRecord`, what :class:`teamcal.storage.jira.JiraRepository` returns and writes.

Item attributes are those of :mod:`teamcal.storage.jira` (wire names; times epoch ms, UTC). An
attribute set to ``None`` is absent from the item (DynamoDB stores no ``None`` here), so a field
left ``None`` is an attribute the item lacks. Attributes a record does not name are kept in
``extra``, so ``Record.from_item(item).item() == item`` (no migration). The credentials are in
Secrets Manager only: neither record holds a secret.

Plain frozen dataclasses; :meth:`evolved` gives a changed copy (attribute names; ``None``
removes an attribute when the repository writes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.models.stored import (
    SCHEDULED_CONNECTION_FIELDS,
    SCHEDULED_CONNECTION_INTS,
    ScheduledConnectionRecord,
    StoredRecord,
)

_CONNECTION_FIELDS: dict[str, str] = {
    "baseUrl": "base_url",
    "flavor": "flavor",
    "account": "account",
    "timeZone": "time_zone",
    **SCHEDULED_CONNECTION_FIELDS,
}
_STATE_FIELDS: dict[str, str] = {
    "sourceId": "source_id",
    "calendarId": "calendar_id",
    "kind": "kind",
    "fingerprint": "fingerprint",
    "mode": "mode",
    "cursor": "cursor",
    "passStarted": "pass_started",
    "since": "since",
    "seen": "seen",
    "lastPassAt": "last_pass_at",
    "lastFullAt": "last_full_at",
    "eventCount": "event_count",
    "lastRun": "last_run",
    "error": "error",
}
_INT_ATTRIBUTES = SCHEDULED_CONNECTION_INTS | frozenset(
    {
        "sourceId",
        "calendarId",
        "passStarted",
        "since",
        "lastPassAt",
        "lastFullAt",
        "eventCount",
    }
)


@dataclass(frozen=True)
class JiraConnectionRecord(ScheduledConnectionRecord):
    """The deployment's Jira connection (``pk = "JIRA"``, ``sk = "CONNECTION"``).

    Attributes:
        base_url: the site, normalised; ``flavor``: ``cloud`` | ``datacenter``.
        account: ``{accountId, displayName, emailAddress}`` of the credentials (not secret).
        time_zone: the account's IANA zone (how Jira reads JQL date literals).
        and the status, schedule, run, lease (written only by
        :meth:`teamcal.storage.jira.JiraRepository.acquire_lease` / ``release_lease``) and
        ``extra`` attributes of :class:`~teamcal.models.stored.ScheduledConnectionRecord`.
    """

    _INTS = _INT_ATTRIBUTES
    _FIELDS = _CONNECTION_FIELDS

    base_url: str | None = None
    flavor: str | None = None
    account: Mapping[str, Any] | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class JiraSyncStateRecord(StoredRecord):
    """One Jira-backed source's sync state (``pk = "JIRA"``, ``sk = "SRC#<sourceId>"``).

    Attributes:
        source_id / calendar_id / kind: the source, its calendar and its type (``jira`` ...).
        fingerprint: of the source value last synced (a change forces a full pass).
        mode: ``full`` | ``incremental``; ``cursor``: the next page of an unfinished pass.
        pass_started: epoch ms the unfinished pass began (None: no pass under way).
        since: the lower bound (epoch ms) of an incremental pass.
        seen: Jira ids met by an unfinished full pass, comma-separated.
        last_pass_at / last_full_at: epoch ms the last (full) pass began.
        event_count / last_run / error: the last run's figures, report and error.
        extra: attributes of the item this record does not name, kept as read.
    """

    _INTS = _INT_ATTRIBUTES
    _FIELDS = _STATE_FIELDS

    source_id: int
    calendar_id: int | None = None
    kind: str | None = None
    fingerprint: str | None = None
    mode: str | None = None
    cursor: str | None = None
    pass_started: int | None = None
    since: int | None = None
    seen: str | None = None
    last_pass_at: int | None = None
    last_full_at: int | None = None
    event_count: int | None = None
    last_run: Mapping[str, Any] | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
