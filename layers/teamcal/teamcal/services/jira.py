"""The deployment's Jira connection (issue 15; CCJ's "global integration settings"): connect,
status, disconnect, sync now, and the scheduled run.

Decisions:

* Admin tokens only, for every route: the connection is deployment-wide and its account sees
  what the admin chose; a scoped admin counts as an admin (the routes show no calendar data).
* ``baseUrl`` goes through the partners' outbound guard (https, global addresses only, no
  redirects, timeouts, size cap); its path is kept (a Data Center context path such as
  ``/jira``).
* The credentials are checked with ``GET /rest/api/{3|2}/myself`` before anything is stored;
  they live in Secrets Manager only and are never returned or logged.
* One EventBridge Scheduler schedule (``jira-sync-0``) runs the sync at ``rateMinutes``;
  ``needs_reauth`` pauses it and a new PUT resumes it.
* ``DELETE`` removes the schedule, the secret, the sync state and every synced event (the
  sources stay: they are the calendars' configuration, as CCJ keeps them without Jira).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from teamcal.access import require_admin
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError, InvalidInputError, NotFoundError
from teamcal.jira.credentials import JiraCredentials
from teamcal.jira.errors import JiraConfigError
from teamcal.models.jira import ConnectionRequest, JiraConnectionStatus, SourceSyncStatus, SyncRequest
from teamcal.models.outcomes import SyncOutcome
from teamcal.partners.errors import PartnerAddressError
from teamcal.partners.urls import PartnerUrl, parse_partner_url
from teamcal.services.google_sync import SyncClock
from teamcal.services.jira_sync import ClientFactory, JiraStores, RunResult, SyncOptions, run_sync

#: ``source`` of the scheduled event (the function routes events by it).
SCHEDULE_SOURCE = "teamcal.jira-sync"
#: The connection's key in the schedule store (one connection per deployment).
CONNECTION_KEY = 0


@dataclass(frozen=True)
class JiraConfig:
    """Deployment knobs: loopback http allowed (local development), default schedule rate
    (minutes), how often a full reconciliation runs by itself (ms)."""

    allow_loopback: bool
    default_rate_minutes: int
    full_every_ms: int


def check_base_url(text: str, allow_loopback: bool) -> PartnerUrl:
    """``baseUrl`` checked by the outbound guard (no network). Raises JiraConfigError (400)."""
    try:
        return parse_partner_url(text, allow_loopback, base_path=None)
    except PartnerAddressError as e:
        reason = e.message.removeprefix("partnerUrl: ")
        raise JiraConfigError(f"baseUrl: {reason}", {"baseUrl": reason}) from None


def _credentials(body: ConnectionRequest) -> JiraCredentials:
    pat = body.personal_access_token.get_secret_value() if body.personal_access_token else None
    token = body.api_token.get_secret_value() if body.api_token else None
    if pat and (token or body.email):
        raise InvalidInputError(
            "give either email and apiToken (Jira Cloud) or personalAccessToken (Jira Data Center), not both",
            {"personalAccessToken": "not with email / apiToken"},
        )
    if pat:
        return JiraCredentials("datacenter", personal_access_token=pat)
    if not (token and body.email):
        raise InvalidInputError(
            "give email and apiToken (Jira Cloud) or personalAccessToken (Jira Data Center)",
            {"apiToken": "email and apiToken are required for Jira Cloud"},
        )
    return JiraCredentials("cloud", email=body.email, api_token=token)


def _status(
    items_connection: Mapping[str, Any] | None, states: Mapping[int, Mapping[str, Any]], *, gone: bool = False
) -> JiraConnectionStatus:
    conn = items_connection or {}
    status = "disconnected" if gone or not conn else str(conn.get("status") or "connected")
    schedule = None
    if conn.get("scheduleName"):
        schedule = {
            "name": conn["scheduleName"],
            "rateMinutes": conn.get("rateMinutes"),
            "state": "DELETED" if gone else conn.get("scheduleState"),
        }
    sources = [
        SourceSyncStatus.model_validate(
            {
                "sourceId": source_id,
                "calendarId": s.get("calendarId"),
                "type": s.get("kind"),
                "mode": s.get("mode"),
                "pending": s.get("passStarted") is not None,
                "lastPassAt": s.get("lastPassAt"),
                "lastFullAt": s.get("lastFullAt"),
                "lastRun": s.get("lastRun"),
                "error": s.get("error"),
            }
        )
        for source_id, s in sorted(states.items())
    ]
    return JiraConnectionStatus.model_validate(
        {
            "connected": status != "disconnected",
            "status": status,
            "needsReauth": status == "needs_reauth",
            "site": conn.get("baseUrl"),
            "flavor": conn.get("flavor"),
            "account": conn.get("account"),
            "schedule": schedule,
            "lastSyncAt": conn.get("lastSyncAt"),
            "lastRun": conn.get("lastRun"),
            "lastError": conn.get("lastError"),
            "sources": sources,
        }
    )


def connect(
    stores: JiraStores,
    client_for: ClientFactory,
    principal: Principal,
    body: ConnectionRequest,
    config: JiraConfig,
    target_arn: str,
    now: int,
) -> JiraConnectionStatus:
    """``PUT /jira/connection``: check ``baseUrl`` and the credentials against Jira
    (``GET /myself``), then store the secret and the connection and create (or resume) the
    schedule; replaces an earlier connection.

    Raises:
        ForbiddenError: not an admin token.
        JiraConfigError: ``baseUrl`` refused (not https, private address, …) or Jira does not
            answer like a Jira site. JiraAuthError: Jira refused the credentials (400 both).
        InvalidInputError: the credential fields do not form one kind.
        RetryableError: Jira did not answer (503).
    """
    require_admin(principal)
    base = check_base_url(body.base_url, config.allow_loopback)
    credentials = _credentials(body)
    me = client_for(base.base, credentials).myself()
    account = {
        "accountId": me.get("accountId") or me.get("key") or me.get("name"),
        "displayName": me.get("displayName"),
        "emailAddress": me.get("emailAddress"),
    }
    if not account["accountId"]:
        raise JiraConfigError(
            "baseUrl: the site's /myself answer names no account (is it a Jira site?)",
            {"baseUrl": "not a Jira site"},
        )
    stores.secrets.put(stores.secret_name, credentials.to_json(), "teamcal Jira connection credentials")
    previous = stores.jira.load().connection
    rate = body.rate_minutes or int((previous or {}).get("rateMinutes") or config.default_rate_minutes)
    stores.schedules.put(CONNECTION_KEY, rate, target_arn, enabled=True)
    stores.jira.save_connection(
        {
            "baseUrl": base.base,
            "flavor": credentials.flavor,
            "account": {k: str(v) for k, v in account.items() if v},
            "timeZone": str(me.get("timeZone") or "UTC"),
            "status": "connected",
            "rateMinutes": rate,
            "scheduleName": stores.schedules.schedule_name(CONNECTION_KEY),
            "scheduleState": "ENABLED",
            "lastError": None,
            "createdBy": principal.user,
            "created": int((previous or {}).get("created") or now),
            "updated": now,
        }
    )
    items = stores.jira.load()
    return _status(items.connection, items.states)


def get_status(stores: JiraStores, principal: Principal) -> JiraConnectionStatus:
    """``GET /jira/connection``. Raises ForbiddenError (not admin), NotFoundError (not connected)."""
    require_admin(principal)
    items = stores.jira.load()
    if items.connection is None:
        raise NotFoundError("Jira is not connected: PUT /jira/connection first")
    return _status(items.connection, items.states)


def disconnect(stores: JiraStores, principal: Principal) -> JiraConnectionStatus:
    """``DELETE /jira/connection``: schedule, secret, sync state and synced events go; returns
    the status as it was. Raises ForbiddenError, NotFoundError (not connected)."""
    require_admin(principal)
    items = stores.jira.load()
    if items.connection is None:
        raise NotFoundError("Jira is not connected")
    shown = _status(items.connection, items.states, gone=True)
    stores.schedules.delete(CONNECTION_KEY)
    stores.secrets.delete(stores.secret_name)
    for source_id in items.states:
        stores.events.delete_by_source(source_id)
    stores.jira.delete_all()
    return shown


def sync_now(
    stores: JiraStores,
    client_for: ClientFactory,
    principal: Principal,
    body: SyncRequest,
    config: JiraConfig,
    clock: SyncClock,
) -> JiraConnectionStatus:
    """``POST /jira/sync``: run a sync now (within the request's time budget; what is left
    resumes at the next run) and return the status.

    Raises:
        ForbiddenError: not an admin token. NotFoundError: not connected.
        ConflictError: the connection needs new credentials (its schedule is paused), or a run
            is already going on.
        JiraConfigError: with ``sourceId``: that source cannot be synced as configured (400).
    """
    require_admin(principal)
    conn = stores.jira.load().connection
    if conn is None:
        raise NotFoundError("Jira is not connected: PUT /jira/connection first")
    _refuse_reauth(conn)
    options = SyncOptions(full=body.full, source_id=body.source_id, full_every_ms=config.full_every_ms)
    result = run_sync(stores, client_for, clock, options, trigger="api")
    if result.outcome == SyncOutcome.BUSY:
        raise ConflictError("a Jira sync is already running; try again in a moment")
    if result.outcome == SyncOutcome.NEEDS_REAUTH:
        _refuse_reauth({"status": "needs_reauth", "lastError": result.error})
    if body.source_id is not None and not result.sources:
        raise NotFoundError(f"source {body.source_id} is not an active Jira-backed source")
    items = stores.jira.load()
    return _status(items.connection, items.states)


def _refuse_reauth(conn: Mapping[str, Any]) -> None:
    if conn.get("status") == "needs_reauth":
        raise ConflictError(
            "the Jira connection needs new credentials and its schedule is paused: "
            f"{conn.get('lastError') or 'Jira refused the credentials'}; PUT /jira/connection again"
        )


def is_scheduled_event(event: Mapping[str, Any]) -> bool:
    """Whether a Lambda event is the sync schedule firing (not an API Gateway request)."""
    return event.get("source") == SCHEDULE_SOURCE and "httpMethod" not in event


def scheduled_sync(stores: JiraStores, client_for: ClientFactory, config: JiraConfig, clock: SyncClock) -> RunResult:
    """The schedule fired: one run of every Jira-backed source."""
    return run_sync(stores, client_for, clock, SyncOptions(full_every_ms=config.full_every_ms), trigger="schedule")
