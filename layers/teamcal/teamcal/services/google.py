"""Google Calendar connection use cases: connect (OAuth consent or credentials), list Google
calendars, select ("Save"), disconnect, sync now, status, and the scheduled sync run.

Sources: issue #6 and the CCJ reference "Integrations (Import/Export/Google sync)": "fetch several
google calendars (public and owned by you) to a particular calendar. Any user with access to the
calendar in Jira will see the events (only for public google calendars) … Events from private
google calendars are available to browse only for calendar creator"; "Don't forget to click
Save"; the three sharing cases; "Google Sync Troubleshooting".

Decisions:

* Only the calendar's owner manages its Google connection (the synced data is theirs) and the
  token must have ``editCalendars``; the status is shown to the owner and admin tokens.
* A Google calendar is PUBLIC when an anonymous request with only an API key can read it (the
  connection's own key, else the deployment's). Without any API key every calendar counts as
  private: the safe side.
* Sharing case 2 is enforced in :func:`teamcal.services.calendars.update_calendar` (a PUT that
  shares a calendar with a private Google source → 409). Case 3 is :func:`select`: a shared
  calendar + a private Google calendar → 409 unless ``confirm``; confirmed, ``publicCalendar``
  becomes false and the view / edit grants are emptied, in a write conditioned on the calendar's
  version (so a concurrent share cannot slip in: one of the two writes gets 409).
* Saving a selection creates a read-only source per newly selected Google calendar, deletes the
  sources (and events) of deselected ones, and creates / updates / deletes the connection's
  schedule. Nothing syncs until a schedule fires or ``POST …/google/sync``.
* ``invalid_grant`` during a sync → the connection is ``needs_reauth``, its schedule paused
  (``DISABLED``); new credentials (consent or PUT) reconnect it and resume the schedule. Other
  connections are not affected.
* Disconnecting deletes the schedule, the synced sources and their events, the secret and the
  connection items.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from teamcal.access import Action, is_shared, require
from teamcal.auth.principal import Principal
from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
    UpstreamError,
)
from teamcal.google.errors import (
    GoogleApiError,
    GoogleCredentialsError,
    GoogleGrantRevoked,
    GoogleNotFound,
    GoogleTransientError,
)
from teamcal.google.port import CalendarGateway
from teamcal.google.secrets import READONLY_SCOPE, GoogleSecret, OAuthClient
from teamcal.ids import now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.google import (
    AuthorizeResponse,
    ConnectionStatus,
    CredentialsRequest,
    GoogleCalendarItem,
    SelectionRequest,
    SyncedCalendarStatus,
)
from teamcal.models.google_state import GoogleAuthRecord, GoogleConnectionRecord, GoogleSyncStateRecord
from teamcal.models.outcomes import SyncOutcome
from teamcal.services.google_sync import SyncClock, SyncStores, create_source, sync_calendar
from teamcal.services.sources import load_calendar, purge_source
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import EventRepository
from teamcal.storage.google import GoogleItems, GoogleRepository
from teamcal.storage.google_schedules import SCHEDULE_SOURCE, ScheduleStore
from teamcal.storage.google_secrets import GoogleSecretStore

#: How long a consent may take, from ``…/authorize`` to the callback (ms).
AUTH_TTL_MS = 10 * 60 * 1000
_EMPTY_GRANT: dict[str, list[str]] = {"groups": [], "users": []}  # PermissionGrant().model_dump(), no build at import


@dataclass(frozen=True)
class GoogleStores:
    """Everything the Google use cases read and write."""

    config: ConfigStores
    events: EventRepository
    google: GoogleRepository
    secrets: GoogleSecretStore
    schedules: ScheduleStore

    def sync(self) -> SyncStores:
        """The subset the sync engine writes to."""
        return SyncStores(self.config, self.events, self.google)


@dataclass(frozen=True)
class GoogleConfig:
    """The deployment's OAuth settings: the consent page, the ONE redirect URI registered with
    the OAuth client (``None``: not configured), the Secrets Manager id of the deployment's OAuth
    client, and the default schedule rate (minutes)."""

    auth_uri: str
    redirect_uri: str | None
    oauth_client_secret_id: str
    default_rate_minutes: int = 15


@dataclass
class RunResult:
    """What one sync run of a connection did: ``outcome`` is ``synced`` (every selected Google
    calendar complete), ``partial`` (time budget, throttling or an error: resumes next run),
    ``needs_reauth``, ``busy`` (another run holds the lease), ``not_connected`` or
    ``calendar_deleted`` (the connection was cleaned up)."""

    calendar_id: int
    outcome: SyncOutcome
    calendars: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """By wire names."""
        return {
            "calendarId": self.calendar_id,
            "outcome": self.outcome,
            "calendars": self.calendars,
            "error": self.error,
        }


# ---------------------------------------------------------------------------- access and status
def _calendar(stores: GoogleStores, principal: Principal, calendar_id: int, *, manage: bool) -> CalendarRecord:
    """The calendar, if the principal may manage (owner with ``editCalendars``) or, for reads,
    see (owner or admin) its Google connection (:mod:`teamcal.access`, rule 11). Raises
    NotFoundError / ForbiddenError."""
    action = Action.MANAGE_GOOGLE if manage else Action.SEE_GOOGLE
    return require(principal, action, load_calendar(stores.config, calendar_id))


def _connected(items: GoogleItems, calendar_id: int) -> GoogleConnectionRecord:
    if items.connection is None:
        raise NotFoundError(f"calendar {calendar_id} is not connected to Google Calendar")
    return items.connection


def _status(calendar_id: int, items: GoogleItems, *, disconnected: bool = False) -> ConnectionStatus:
    conn = items.connection or GoogleConnectionRecord()
    status = "disconnected" if disconnected or items.connection is None else str(conn.status or "connected")
    schedule = None
    if conn.schedule_name:
        schedule = {
            "name": conn.schedule_name,
            "rateMinutes": conn.rate_minutes,
            "state": "DELETED" if disconnected else conn.schedule_state,
        }
    return ConnectionStatus.model_validate(
        {
            "calendarId": calendar_id,
            "connected": status != "disconnected",
            "status": status,
            "needsReauth": status == "needs_reauth",
            "authType": conn.auth_type,
            "account": conn.account,
            "googleAccount": conn.google_account,
            "schedule": schedule,
            "lastSyncAt": conn.last_sync_at,
            "lastRun": conn.last_run,
            "lastError": conn.last_error,
            "calendars": [
                SyncedCalendarStatus.model_validate(
                    {
                        "id": s.google_calendar_id,
                        "summary": s.summary,
                        "public": bool(s.public),
                        "sourceId": s.source_id,
                        "mode": "incremental" if s.sync_token else "full",
                        "lastSyncAt": s.last_sync_at,
                        "eventCount": int(s.event_count or 0),
                        "fullSyncs": int(s.full_syncs or 0),
                        "lastRun": s.last_run,
                        "error": s.error,
                    }
                )
                for s in items.states
            ],
        }
    )


def get_status(stores: GoogleStores, principal: Principal, calendar_id: int) -> ConnectionStatus:
    """``GET /calendar/{calendarId}/google``: the connection, its schedule, last run, errors.

    Raises:
        NotFoundError: no such calendar (or not viewable), or not connected.
        ForbiddenError: neither the owner nor an admin token.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=False)
    items = stores.google.load(calendar.id)
    _connected(items, calendar.id)
    return _status(calendar.id, items)


# ---------------------------------------------------------------------------- connect
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _oauth_client(stores: GoogleStores, config: GoogleConfig) -> OAuthClient:
    return stores.secrets.oauth_client(config.oauth_client_secret_id)


def authorize(
    stores: GoogleStores, principal: Principal, calendar_id: int, config: GoogleConfig, now: int
) -> AuthorizeResponse:
    """``GET /calendar/{calendarId}/google/authorize``: the consent URL of the OAuth 2.0
    authorization-code flow (RFC 6749 §4.1.1) with offline access, the read-only Calendar scope,
    an unguessable ``state`` (bound to this calendar and user, single use, 10 minutes) and PKCE
    S256 (RFC 7636). The redirect URI is the configured one, never taken from the request.

    Raises:
        InvalidInputError: the deployment has no redirect URI or OAuth client configured.
        NotFoundError / ForbiddenError: see :func:`_calendar`.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    if config.redirect_uri is None:
        raise InvalidInputError(
            "Google sign-in is not configured for this deployment: set the template parameter "
            "GoogleOAuthRedirectUri to the redirect URI registered with the OAuth client",
            {"redirectUri": "not configured"},
        )
    client = _oauth_client(stores, config)
    if not client.configured:
        raise InvalidInputError(
            "Google sign-in is not configured for this deployment: an admin must store clientId and "
            f"clientSecret in the secret {config.oauth_client_secret_id} (or use PUT …/google/credentials)",
            {"clientId": "not configured"},
        )
    state = f"{calendar.id}.{secrets.token_urlsafe(32)}"
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    expires = now + AUTH_TTL_MS
    stores.google.put_auth(
        calendar.id,
        GoogleAuthRecord(state_hash=_sha256(state), code_verifier=verifier, user=principal.user, expires_at=expires),
    )
    params = {
        "client_id": client.client_id,
        "redirect_uri": config.redirect_uri,
        "response_type": "code",
        "scope": READONLY_SCOPE,
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in config.auth_uri else "?"
    return AuthorizeResponse.model_validate(
        {
            "url": config.auth_uri + separator + urlencode(params),
            "state": state,
            "redirectUri": config.redirect_uri,
            "expiresAt": expires,
        }
    )


def _state_calendar(state: str | None) -> int:
    head = (state or "").split(".", 1)[0]
    if not state or not head.isdigit() or len(head) > 16:
        raise InvalidInputError.for_field("state", "is missing or malformed: start again at …/google/authorize")
    return int(head)


def oauth_callback(
    stores: GoogleStores,
    gateway: CalendarGateway,
    config: GoogleConfig,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    now: int,
) -> ConnectionStatus:
    """``GET /google/oauth/callback`` (no token: Google redirects the user's browser here).

    Validates ``state`` (known, unused, unexpired; compared by hash), exchanges ``code`` with the
    PKCE verifier at the token endpoint for a refresh token, stores it in Secrets Manager and
    marks the connection ``connected`` (resuming a paused schedule).

    Raises:
        InvalidInputError: bad / used / expired state; the user denied access (``error``);
            ``redirect_uri_mismatch``, ``invalid_client``; an invalid or used code.
        ForbiddenError: the calendar changed owner since the consent started.
        UpstreamError: Google failed, or returned no refresh token.
    """
    calendar_id = _state_calendar(state)
    assert state is not None
    pending = stores.google.take_auth(calendar_id, _sha256(state))
    if pending is None or not hmac.compare_digest(str(pending.state_hash), _sha256(state)):
        raise InvalidInputError.for_field("state", "is unknown or was already used: start again at …/google/authorize")
    if int(pending.expires_at or 0) < now:
        raise InvalidInputError.for_field("state", "has expired: start again at …/google/authorize")
    if error:
        raise InvalidInputError.for_field("error", f"Google did not grant access ({error[:80]})")
    if not code:
        raise InvalidInputError.for_field("code", "is required")
    calendar = load_calendar(stores.config, calendar_id)
    if calendar is None:
        raise NotFoundError(f"calendar {calendar_id} not found")
    if calendar.user != pending.user:
        raise ForbiddenError("the calendar's owner changed since the consent started")
    if config.redirect_uri is None:
        raise InvalidInputError(
            "Google sign-in is not configured for this deployment", {"redirectUri": "not configured"}
        )
    client = _oauth_client(stores, config)
    try:
        tokens = gateway.exchange_code(client, code, str(pending.code_verifier), config.redirect_uri)
    except GoogleGrantRevoked as e:
        raise InvalidInputError.for_field("code", "is invalid, expired or already used (invalid_grant)") from e
    refresh = tokens.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise UpstreamError("Google returned no refresh token; revoke teamcal's access in the Google account and retry")
    secret = GoogleSecret(
        "oauth", client_id=client.client_id, client_secret=client.client_secret, refresh_token=refresh
    )
    return _connect(stores, calendar, secret, str(pending.user), now, _google_account(gateway, secret))


def _secret_of(body: CredentialsRequest) -> GoogleSecret:
    oauth_parts = {"clientId": body.client_id, "clientSecret": body.client_secret, "refreshToken": body.refresh_token}
    api_key = body.api_key.get_secret_value() if body.api_key else None
    sent = [k for k, v in oauth_parts.items() if v is not None]
    if sent and body.service_account_key is not None:
        raise InvalidInputError(
            "give OAuth credentials or a service-account key, not both", {"serviceAccountKey": "conflicts"}
        )
    if body.service_account_key is not None:
        return GoogleSecret(
            "serviceAccount", service_account_key=body.service_account_key, subject=body.subject, api_key=api_key
        )
    if sent:
        missing = [k for k, v in oauth_parts.items() if v is None]
        if missing:
            raise InvalidInputError(
                f"OAuth credentials need clientId, clientSecret and refreshToken; missing: {', '.join(missing)}",
                dict.fromkeys(missing, "is required with the other OAuth fields"),
            )
        assert body.client_secret is not None
        assert body.refresh_token is not None
        return GoogleSecret(
            "oauth",
            client_id=body.client_id,
            client_secret=body.client_secret.get_secret_value(),
            refresh_token=body.refresh_token.get_secret_value(),
            api_key=api_key,
        )
    if api_key:
        return GoogleSecret("apiKey", api_key=api_key)
    raise InvalidInputError(
        "give clientId + clientSecret + refreshToken, a serviceAccountKey, or an apiKey (public calendars only)",
        {"clientId": "required"},
    )


def put_credentials(
    stores: GoogleStores,
    gateway: CalendarGateway,
    principal: Principal,
    calendar_id: int,
    body: CredentialsRequest,
    now: int,
) -> ConnectionStatus:
    """``PUT /calendar/{calendarId}/google/credentials``: connect (or reconnect) with credentials
    given directly. They are checked with Google first (a token is obtained; an API key alone is
    checked when calendars are selected), then stored in Secrets Manager; the answer never
    contains them.

    Raises:
        InvalidInputError: bad combination; invalid client, revoked / expired refresh token
            (``invalid_grant``), malformed service-account key.
        NotFoundError / ForbiddenError: see :func:`_calendar`.
        UpstreamError: Google failed.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    secret = _secret_of(body)
    try:
        gateway.verify(secret)
    except GoogleGrantRevoked as e:
        if secret.kind == "serviceAccount":
            raise InvalidInputError(
                "Google refused the service account's grant (invalid_grant): the key was deleted or is not "
                "the account's, or the delegation (subject) is not allowed",
                {"serviceAccountKey": "refused by Google"},
            ) from e
        raise InvalidInputError(
            "Google refused the refresh token (invalid_grant): it was revoked or has expired; authorize again",
            {"refreshToken": "revoked or expired"},
        ) from e
    return _connect(stores, calendar, secret, principal.user, now, _google_account(gateway, secret))


def _google_account(gateway: CalendarGateway, secret: GoogleSecret) -> str | None:
    """The Google account the credentials act as: the id of its primary calendar (the account's
    address, Calendar API calendarList ``primary``), or None (an API key, or Google did not say).
    So an owner sees whose calendars a forwarded consent link connected."""
    if secret.kind == "apiKey":
        return None
    try:
        entries = gateway.list_calendars(secret)
    except (UpstreamError, RetryableError):
        return None
    primary = next((str(e.get("id")) for e in entries if e.get("primary") and e.get("id")), None)
    return primary[:320] if primary else None


def _connect(
    stores: GoogleStores,
    calendar: CalendarRecord,
    secret: GoogleSecret,
    user: str,
    now: int,
    google_account: str | None = None,
) -> ConnectionStatus:
    stores.secrets.put(calendar.id, secret)
    before = stores.google.load(calendar.id)
    was = before.connection or GoogleConnectionRecord()
    saved = was.evolved(
        calendar_id=calendar.id,
        auth_type=secret.kind,
        account=secret.account_hint,
        google_account=google_account,
        status="connected",
        last_error=None,
        created_by=was.created_by or user,
        created=was.created or now,
        updated=now,
    )
    stores.google.save_connection(calendar.id, saved, before.connection)
    if was.status == "needs_reauth" and was.schedule_name and before.states:
        stores.schedules.set_enabled(calendar.id, True)
        stores.google.update_connection(calendar.id, saved.evolved(schedule_state="ENABLED"), saved)
    return _status(calendar.id, stores.google.load(calendar.id))


# ---------------------------------------------------------------------------- Google calendars
def _secret(stores: GoogleStores, calendar_id: int) -> GoogleSecret:
    secret = stores.secrets.get(calendar_id)
    if secret is None:
        raise ConflictError("the connection has no stored credentials: connect it again")
    return secret


def _public(gateway: CalendarGateway, calendar_id: str, api_key: str | None) -> bool:
    return bool(api_key) and gateway.is_public(calendar_id, str(api_key))


def list_google_calendars(
    stores: GoogleStores, gateway: CalendarGateway, principal: Principal, calendar_id: int, config: GoogleConfig
) -> list[GoogleCalendarItem]:
    """``GET /calendar/{calendarId}/google/calendars``: the Google calendars the credentials can
    read (``calendarList.list``, reader access or more), each marked public or private and
    selected or not. One extra ``calendars.get`` with the API key per calendar tells public ones.

    Raises:
        InvalidInputError: the connection has an API key only (Google lists calendars to signed-in
            accounts only: select public calendar ids directly); an invalid API key.
        NotFoundError / ForbiddenError / ConflictError; UpstreamError (Google failed).
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    items = stores.google.load(calendar.id)
    _connected(items, calendar.id)
    secret = _secret(stores, calendar.id)
    if secret.kind == "apiKey":
        raise InvalidInputError(
            "an API key alone cannot list Google calendars (calendarList needs OAuth or a service account): "
            "select public calendars by id with PUT …/google",
            {"apiKey": "cannot list calendars"},
        )
    api_key = secret.api_key or _oauth_client(stores, config).api_key
    selected = {s.google_calendar_id for s in items.states}
    out = []
    for entry in gateway.list_calendars(secret):
        gcal = str(entry.get("id") or "")
        if not gcal:
            continue
        out.append(
            GoogleCalendarItem.model_validate(
                {
                    "id": gcal,
                    "summary": entry.get("summaryOverride") or entry.get("summary"),
                    "description": entry.get("description"),
                    "timeZone": entry.get("timeZone"),
                    "accessRole": entry.get("accessRole"),
                    "primary": bool(entry.get("primary")),
                    "public": _public(gateway, gcal, api_key),
                    "selected": gcal in selected,
                }
            )
        )
    return out


@dataclass(frozen=True)
class _Chosen:
    id: str
    summary: str
    time_zone: str | None
    public: bool


def _resolve(gateway: CalendarGateway, secret: GoogleSecret, ids: list[str], api_key: str | None) -> dict[str, _Chosen]:
    """The selected Google calendars, checked with Google (visible to the credentials) and
    classified public / private."""
    bad = "is not a Google calendar these credentials can read"
    if secret.kind == "apiKey":
        out = {}
        for gcal in ids:
            try:
                found = gateway.get_calendar(secret, gcal)
            except GoogleNotFound:
                raise InvalidInputError(
                    f"Google calendar {gcal} is not public or does not exist (an API key reads public calendars only)",
                    {"calendars": f"{gcal} {bad}"},
                ) from None
            out[gcal] = _Chosen(gcal, str(found.get("summary") or gcal), found.get("timeZone"), True)
        return out
    listed = {str(e.get("id")): e for e in gateway.list_calendars(secret)}
    for gcal in (g for g in ids if g not in listed):
        try:  # not in the account's calendar list, but readable (a public calendar, by id)
            listed[gcal] = gateway.get_calendar(secret, gcal)
        except GoogleNotFound:
            raise InvalidInputError(f"Google calendar {gcal} {bad}", {"calendars": f"{gcal} {bad}"}) from None
    return {
        g: _Chosen(
            g,
            str(listed[g].get("summaryOverride") or listed[g].get("summary") or g),
            listed[g].get("timeZone"),
            _public(gateway, g, api_key),
        )
        for g in ids
    }


def _purge(stores: GoogleStores, source_id: Any, now: int) -> None:
    record = stores.config.sources.get(int(source_id)) if source_id else None
    if record is not None:
        purge_source(stores.config.sources, stores.events, record, now)


def select(
    stores: GoogleStores,
    gateway: CalendarGateway,
    principal: Principal,
    calendar_id: int,
    body: SelectionRequest,
    config: GoogleConfig,
    target_arn: str,
    now: int,
) -> ConnectionStatus:
    """``PUT /calendar/{calendarId}/google`` ("Save"): the whole selection of Google calendars,
    and the schedule's rate (minutes, default :attr:`GoogleConfig.default_rate_minutes`).

    New Google calendars get a read-only source each (their first sync is a full one);
    deselected ones lose their source and its events; a Google calendar whose public / private
    state changed is re-added (its events' visibility changes). The connection's schedule
    (``target_arn`` = this function) is created or updated, or deleted for an empty selection.

    Raises:
        ConflictError: sharing case 3 without ``confirm`` (the calendar is shared and a selected
            Google calendar is private); the calendar changed meanwhile; the connection needs
            re-authorization.
        InvalidInputError: a calendar the credentials cannot read; an invalid API key.
        NotFoundError / ForbiddenError: see :func:`_calendar`; not connected.
        UpstreamError: Google failed.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    items = stores.google.load(calendar.id)
    conn = _connected(items, calendar.id)
    if conn.status == "needs_reauth":
        raise ConflictError("the Google connection needs re-authorization (invalid_grant): authorize again first")
    secret = _secret(stores, calendar.id)
    wanted = body.ids()
    chosen = _resolve(gateway, secret, wanted, secret.api_key or _oauth_client(stores, config).api_key)
    private = [g for g in wanted if not chosen[g].public]
    if private and is_shared(calendar) and not body.confirm:
        raise ConflictError(
            f"calendar {calendar.id} is shared (public or granted to users / groups), and the Google "
            f"calendar(s) {', '.join(private)} are private: their events may only be seen by the calendar's "
            "owner. Send confirm: true to sync them anyway; the calendar then stops being public and every "
            "user and group it is shared with loses access",
            {"confirm": "required to sync a private Google calendar into a shared calendar"},
        )
    existing = {s.google_calendar_id: s for s in items.states}
    removed = [s for g, s in existing.items() if g not in chosen or bool(s.public) != chosen[g].public]
    removed_ids = {s.google_calendar_id for s in removed}
    added = [g for g in wanted if g not in existing or g in removed_ids]
    created: list[int] = []
    try:
        for gcal in added:
            created.append(create_source(stores.config, calendar, gcal, chosen[gcal].summary, chosen[gcal].public))
        if private:
            unshare = (
                {"publicCalendar": False, "permCalendarView": _EMPTY_GRANT, "permCalendarEdit": _EMPTY_GRANT,
                 "permEventsEdit": _EMPTY_GRANT}
                if is_shared(calendar)
                else {}
            )  # fmt: skip
            stores.config.calendars.update(calendar.id, unshare, calendar.version, now)
    except ConflictError:
        for source_id in created:
            _purge(stores, source_id, now)
        raise ConflictError(
            f"calendar {calendar.id} changed meanwhile (it may have been shared): reload it and save again"
        ) from None
    for state in removed:
        stores.google.delete_state(calendar.id, state.google_calendar_id)
        _purge(stores, state.source_id, now)
    for gcal, source_id in zip(added, created, strict=True):
        # A new state (a re-selected one's item was deleted above): nothing to remove
        selected = GoogleSyncStateRecord(
            gcal,
            summary=chosen[gcal].summary,
            time_zone=chosen[gcal].time_zone,
            public=chosen[gcal].public,
            source_id=source_id,
            event_count=0,
            full_syncs=0,
            created=now,
        )
        stores.google.save_state(calendar.id, selected, None)
    rate = body.rate_minutes or int(conn.rate_minutes or config.default_rate_minutes)
    scheduled = conn.evolved(rate_minutes=rate, updated=now)
    if wanted:
        enabled = (conn.status or "connected") == "connected"
        stores.schedules.put(calendar.id, rate, target_arn, enabled=enabled)
        scheduled = scheduled.evolved(
            schedule_name=ScheduleStore.name(calendar.id), schedule_state="ENABLED" if enabled else "DISABLED"
        )
    else:
        stores.schedules.delete(calendar.id)
        scheduled = scheduled.evolved(schedule_name=None, schedule_state=None)
    stores.google.update_connection(calendar.id, scheduled, conn)
    return _status(calendar.id, stores.google.load(calendar.id))


def disconnect(stores: GoogleStores, principal: Principal, calendar_id: int, now: int) -> ConnectionStatus:
    """``DELETE /calendar/{calendarId}/google``: delete the schedule, the synced sources and
    their events, the stored credentials and the connection; returns the status as it was.

    Raises:
        NotFoundError / ForbiddenError: see :func:`_calendar`; not connected.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    items = stores.google.load(calendar.id)
    _connected(items, calendar.id)
    shown = _status(calendar.id, items, disconnected=True)
    _remove(stores, calendar.id, items, now)
    return shown


def _remove(stores: GoogleStores, calendar_id: int, items: GoogleItems, now: int) -> None:
    stores.schedules.delete(calendar_id)
    for state in items.states:
        _purge(stores, state.source_id, now)
    stores.secrets.delete(calendar_id)
    stores.google.delete_all(calendar_id)


# ---------------------------------------------------------------------------- sync runs
def _mark_needs_reauth(stores: GoogleStores, calendar_id: int, conn: GoogleConnectionRecord, message: str) -> None:
    stores.schedules.set_enabled(calendar_id, False)
    marked = conn.evolved(status="needs_reauth", schedule_state="DISABLED", last_error=message)
    stores.google.update_connection(calendar_id, marked, conn)


def _state_error(stores: GoogleStores, calendar_id: int, state: GoogleSyncStateRecord, message: str) -> None:
    try:
        stores.google.update_state(calendar_id, state.evolved(error=message), state)
    except ConflictError:
        return  # deselected meanwhile


def run_sync(
    stores: GoogleStores, gateway: CalendarGateway, calendar_id: int, clock: SyncClock, *, trigger: str
) -> RunResult:
    """One sync run of a connection (``trigger``: ``schedule`` or ``api``): every selected Google
    calendar in turn, within the time budget, under the connection's lease. A schedule left over
    by a removed connection is deleted; a connection whose calendar was deleted is cleaned up.
    Errors are recorded on the connection and the Google calendar they concern, never raised:
    throttling stops the run (the next one resumes), ``invalid_grant`` / an invalid client or key
    marks the connection ``needs_reauth`` and pauses its schedule."""
    items = stores.google.load(calendar_id)
    conn = items.connection
    if conn is None:
        stores.schedules.delete(calendar_id)
        return RunResult(calendar_id, SyncOutcome.NOT_CONNECTED)
    calendar = load_calendar(stores.config, calendar_id)
    if calendar is None:
        _remove(stores, calendar_id, items, now_ms())
        return RunResult(calendar_id, SyncOutcome.CALENDAR_DELETED)
    if conn.status == "needs_reauth":
        return RunResult(calendar_id, SyncOutcome.NEEDS_REAUTH, error=conn.last_error)
    started = now_ms()
    lease = uuid.uuid4().hex
    if not stores.google.acquire_lease(calendar_id, lease, started, started + clock.time_left_ms() + 60_000):
        return RunResult(calendar_id, SyncOutcome.BUSY)
    result = RunResult(calendar_id, SyncOutcome.SYNCED)
    try:
        _run_calendars(stores, gateway, calendar, conn, items, clock, result)
    finally:
        stores.google.release_lease(calendar_id, lease)
    finished = now_ms()
    ran = conn.evolved(
        last_run={"trigger": trigger, "started": started, "finished": finished, **result.to_dict()},
        last_error=result.error,
    )
    if result.outcome == SyncOutcome.SYNCED:
        ran = ran.evolved(last_sync_at=finished)
    try:
        # Only what this run changes is written: a needs_reauth mark made meanwhile stays
        stores.google.update_connection(calendar_id, ran, conn)
    except ConflictError:
        result.outcome = SyncOutcome.NOT_CONNECTED  # disconnected while the run went on
    return result


def _run_calendars(
    stores: GoogleStores,
    gateway: CalendarGateway,
    calendar: CalendarRecord,
    conn: GoogleConnectionRecord,
    items: GoogleItems,
    clock: SyncClock,
    result: RunResult,
) -> None:
    secret = stores.secrets.get(calendar.id)
    if secret is None:
        result.outcome, result.error = SyncOutcome.NEEDS_REAUTH, "the stored credentials are missing: connect again"
        _mark_needs_reauth(stores, calendar.id, conn, result.error)
        return
    for state in items.states:
        gcal = state.google_calendar_id
        try:
            report = sync_calendar(stores.sync(), gateway, secret, calendar, state, clock)
        except (GoogleGrantRevoked, GoogleCredentialsError) as e:
            result.outcome, result.error = SyncOutcome.NEEDS_REAUTH, e.message
            _mark_needs_reauth(stores, calendar.id, conn, e.message)
            _state_error(stores, calendar.id, state, e.message)
            return
        except GoogleTransientError as e:
            result.outcome = SyncOutcome.PARTIAL
            result.error = f"{gcal}: {e.message}; the next run resumes from the stored token"
            _state_error(stores, calendar.id, state, result.error)
            return
        except (GoogleApiError, ConflictError, NotFoundError) as e:
            result.outcome = SyncOutcome.PARTIAL
            result.error = f"{gcal}: {e.message}"
            _state_error(stores, calendar.id, state, result.error)
            continue
        result.calendars.append(report.to_dict())
        if not report.complete:
            result.outcome = SyncOutcome.PARTIAL


def sync_now(
    stores: GoogleStores, gateway: CalendarGateway, principal: Principal, calendar_id: int, clock: SyncClock
) -> ConnectionStatus:
    """``POST /calendar/{calendarId}/google/sync``: run a sync now (within the request's time
    budget; what is left resumes at the next run) and return the status.

    Raises:
        ConflictError: the connection needs re-authorization (schedule paused), or a sync of it
            is already running.
        InvalidInputError: no Google calendar is selected.
        UpstreamError: Google refused the stored grant during this run (``invalid_grant``: the
            connection is now ``needs_reauth`` and its schedule paused).
        NotFoundError / ForbiddenError: see :func:`_calendar`; not connected.
    """
    calendar = _calendar(stores, principal, calendar_id, manage=True)
    items = stores.google.load(calendar.id)
    conn = _connected(items, calendar.id)
    if conn.status == "needs_reauth":
        raise ConflictError(
            "the Google connection needs re-authorization and its schedule is paused: "
            f"{conn.last_error or 'invalid_grant'}; authorize again or PUT new credentials"
        )
    if not items.states:
        raise InvalidInputError("no Google calendar is selected: save a selection with PUT …/google first")
    result = run_sync(stores, gateway, calendar.id, clock, trigger="api")
    if result.outcome == SyncOutcome.BUSY:
        raise ConflictError("a sync of this calendar is already running; try again in a moment")
    if result.outcome == SyncOutcome.NEEDS_REAUTH:
        raise GoogleGrantRevoked(f"{result.error} The connection needs re-authorization; its schedule is paused.")
    return _status(calendar.id, stores.google.load(calendar.id))


def is_scheduled_event(event: Mapping[str, Any]) -> bool:
    """Whether a Lambda event is a sync schedule firing (not an API Gateway request)."""
    return event.get("source") == SCHEDULE_SOURCE and "httpMethod" not in event


def scheduled_sync(
    stores: GoogleStores, gateway: CalendarGateway, event: Mapping[str, Any], clock: SyncClock
) -> dict[str, Any]:
    """A schedule fired (input ``{"source": "teamcal.google-sync", "calendarId": <id>}``): one
    :func:`run_sync`; returns its result by wire names.

    Raises:
        InvalidInputError: the event has no integer ``calendarId``.
    """
    calendar_id = event.get("calendarId")
    if isinstance(calendar_id, bool) or not isinstance(calendar_id, int) or calendar_id <= 0:
        raise InvalidInputError.for_field("calendarId", "the scheduled event names no calendar")
    return run_sync(stores, gateway, calendar_id, clock, trigger="schedule").to_dict()
