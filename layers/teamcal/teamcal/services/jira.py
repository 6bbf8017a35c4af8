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
from teamcal.models.jira_state import JiraConnectionRecord, JiraSyncStateRecord
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
    conn: JiraConnectionRecord | None, states: Mapping[int, JiraSyncStateRecord], *, gone: bool = False
) -> JiraConnectionStatus:
    status = "disconnected" if gone or conn is None else str(conn.status or "connected")
    schedule = None
    if conn is not None and conn.schedule_name:
        schedule = {
            "name": conn.schedule_name,
            "rateMinutes": conn.rate_minutes,
            "state": "DELETED" if gone else conn.schedule_state,
        }
    sources = [
        SourceSyncStatus.model_validate(
            {
                "sourceId": source_id,
                "calendarId": s.calendar_id,
                "type": s.kind,
                "mode": s.mode,
                "pending": s.pass_started is not None,
                "lastPassAt": s.last_pass_at,
                "lastFullAt": s.last_full_at,
                "lastRun": s.last_run,
                "error": s.error,
            }
        )
        for source_id, s in sorted(states.items())
    ]
    return JiraConnectionStatus.model_validate(
        {
            "connected": status != "disconnected",
            "status": status,
            "needsReauth": status == "needs_reauth",
            "site": conn.base_url if conn is not None else None,
            "flavor": conn.flavor if conn is not None else None,
            "account": conn.account if conn is not None else None,
            "schedule": schedule,
            "lastSyncAt": conn.last_sync_at if conn is not None else None,
            "lastRun": conn.last_run if conn is not None else None,
            "lastError": conn.last_error if conn is not None else None,
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
    rate = body.rate_minutes or int((previous.rate_minutes if previous else None) or config.default_rate_minutes)
    stores.schedules.put(CONNECTION_KEY, rate, target_arn, enabled=True)
    stores.jira.save_connection(
        (previous or JiraConnectionRecord()).evolved(
            base_url=base.base,
            flavor=credentials.flavor,
            account={k: str(v) for k, v in account.items() if v},
            time_zone=str(me.get("timeZone") or "UTC"),
            status="connected",
            rate_minutes=rate,
            schedule_name=stores.schedules.schedule_name(CONNECTION_KEY),
            schedule_state="ENABLED",
            last_error=None,
            created_by=principal.user,
            created=int((previous.created if previous else None) or now),
            updated=now,
        ),
        previous,
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
        _refuse_reauth(JiraConnectionRecord(status="needs_reauth", last_error=result.error))
    if body.source_id is not None and not result.sources:
        raise NotFoundError(f"source {body.source_id} is not an active Jira-backed source")
    items = stores.jira.load()
    return _status(items.connection, items.states)


def _refuse_reauth(conn: JiraConnectionRecord) -> None:
    if conn.status == "needs_reauth":
        raise ConflictError(
            "the Jira connection needs new credentials and its schedule is paused: "
            f"{conn.last_error or 'Jira refused the credentials'}; PUT /jira/connection again"
        )


def is_scheduled_event(event: Mapping[str, Any]) -> bool:
    """Whether a Lambda event is the sync schedule firing (not an API Gateway request)."""
    return event.get("source") == SCHEDULE_SOURCE and "httpMethod" not in event


def scheduled_sync(stores: JiraStores, client_for: ClientFactory, config: JiraConfig, clock: SyncClock) -> RunResult:
    """The schedule fired: one run of every Jira-backed source."""
    return run_sync(stores, client_for, clock, SyncOptions(full_every_ms=config.full_every_ms), trigger="schedule")
