"""The stored Google connection of a calendar, its per-Google-calendar sync states and the pending
OAuth consent: :class:`GoogleConnectionRecord`, :class:`GoogleSyncStateRecord` and
:class:`GoogleAuthRecord`, what :class:`teamcal.storage.google.GoogleRepository` returns and writes.

Item attributes are those of :mod:`teamcal.storage.google` (wire names; times epoch ms, UTC). A
field left ``None`` is an attribute the item lacks (no ``None`` is stored). Attributes a record
does not name are kept in ``extra``, so ``Record.from_item(item).item() == item`` (no
migration). The credentials are in Secrets Manager only; the consent's PKCE verifier and the
hash of its ``state`` are kept out of the repr.
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

_INT_ATTRIBUTES = SCHEDULED_CONNECTION_INTS | frozenset(
    {
        "calendarId",
        "sourceId",
        "eventCount",
        "fullSyncs",
        "expiresAt",
    }
)


@dataclass(frozen=True)
class GoogleConnectionRecord(ScheduledConnectionRecord):
    """A calendar's Google connection (``pk = "CAL#<calendarId>"``, ``sk = "GOOGLE"``).

    Attributes:
        calendar_id: the calendar; ``auth_type``: ``oauth`` | ``serviceAccount`` | ``apiKey``.
        account: the OAuth client id or the service account's email (not secret);
            ``google_account``: the consenting Google account, when known.
        and the status, schedule (None before a selection), run, lease and ``extra``
        attributes of :class:`~teamcal.models.stored.ScheduledConnectionRecord`.
    """

    _INTS = _INT_ATTRIBUTES
    _FIELDS = {
        "calendarId": "calendar_id",
        "authType": "auth_type",
        "account": "account",
        "googleAccount": "google_account",
        **SCHEDULED_CONNECTION_FIELDS,
    }

    calendar_id: int | None = None
    auth_type: str | None = None
    account: str | None = None
    google_account: str | None = None


@dataclass(frozen=True)
class GoogleSyncStateRecord(StoredRecord):
    """A selected Google calendar's sync state (``sk = "GOOGLE#CAL#<googleCalendarId>"``).

    Attributes:
        google_calendar_id / summary / time_zone / public: the Google calendar as selected.
        source_id: the read-only source its events land in.
        sync_token: Google's ``nextSyncToken`` (None until the first full sync ends);
            ``page_token``: the next page of an unfinished listing (a run resumes there).
        pending_parents: ids of Google masters whose exceptions arrived first.
        pending_exdates: {master id: [recurrence ids]} of cancelled instances that arrived
            before their master.
        event_count / full_syncs / last_sync_at (epoch ms) / last_run / error: figures of the
            runs; ``created``: epoch ms of the selection.
        extra: attributes of the item this record does not name, kept as read.
    """

    _INTS = _INT_ATTRIBUTES
    _FIELDS = {
        "googleCalendarId": "google_calendar_id",
        "summary": "summary",
        "timeZone": "time_zone",
        "public": "public",
        "sourceId": "source_id",
        "syncToken": "sync_token",
        "pageToken": "page_token",
        "pendingParents": "pending_parents",
        "pendingExdates": "pending_exdates",
        "eventCount": "event_count",
        "lastSyncAt": "last_sync_at",
        "lastRun": "last_run",
        "fullSyncs": "full_syncs",
        "error": "error",
        "created": "created",
    }

    google_calendar_id: str
    summary: str | None = None
    time_zone: str | None = None
    public: bool | None = None
    source_id: int | None = None
    sync_token: str | None = field(default=None, repr=False)
    page_token: str | None = field(default=None, repr=False)
    pending_parents: list[str] | None = None
    pending_exdates: Mapping[str, list[str]] | None = None
    event_count: int | None = None
    last_sync_at: int | None = None
    last_run: Mapping[str, Any] | None = None
    full_syncs: int | None = None
    error: str | None = None
    created: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GoogleAuthRecord(StoredRecord):
    """The pending consent of the OAuth flow (``sk = "GOOGLE#AUTH"``).

    Attributes:
        state_hash: SHA-256 hex of the ``state`` parameter (not in the repr).
        code_verifier: the PKCE verifier, RFC 7636 (a secret: not in the repr).
        user: who asked for the consent; ``expires_at``: epoch ms.
        extra: attributes of the item this record does not name, kept as read.
    """

    _INTS = _INT_ATTRIBUTES
    _FIELDS = {"stateHash": "state_hash", "codeVerifier": "code_verifier", "user": "user", "expiresAt": "expires_at"}

    state_hash: str = field(repr=False)
    code_verifier: str = field(repr=False)
    user: str | None = None
    expires_at: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
