"""Jira-backed sources (issue 15): the deployment's Jira connection, and the sync that
EventBridge Scheduler runs.

Routes (base ``/rest/brizo-calendar/api/1``; admin tokens only):

* ``PUT    /jira/connection``   ``{baseUrl, email, apiToken}`` (Cloud) or ``{baseUrl, personalAccessToken}`` (DC)
* ``GET    /jira/connection``   status: site, account, schedule, last run, per-source state and errors
* ``DELETE /jira/connection``   disconnect: schedule, secret, sync state and synced events go
* ``POST   /jira/sync``         sync now (``{"full": true}`` reconciles; ``{"sourceId": n}`` one source)

The schedule delivers ``{"source": "teamcal.jira-sync", "calendarId": 0}`` to the same function;
:func:`lambda_handler` routes by the event's shape. Jira is called through
:class:`teamcal.jira.client.JiraClient` over the partners' guarded outbound client.
"""

from __future__ import annotations

import logging
import secrets
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.ids import now_ms
from teamcal.lazy import lazy_import
from teamcal.models.outcomes import SyncOutcome
from teamcal.observability import logger, metrics, tracer
from teamcal.settings import get_jira_settings, get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from teamcal.jira import client as jira_client
    from teamcal.jira import credentials as jira_credentials
    from teamcal.models import jira as models
    from teamcal.partners import client as partner_client
    from teamcal.services import google_sync, jira_sync
    from teamcal.services import jira as service
    from teamcal.services import stores as config_stores
    from teamcal.storage import events as event_storage
    from teamcal.storage import google_schedules as schedules
    from teamcal.storage import jira as jira_storage
    from teamcal.storage import secret_strings
else:
    jira_client = lazy_import("teamcal.jira.client")
    jira_credentials = lazy_import("teamcal.jira.credentials")
    models = lazy_import("teamcal.models.jira")
    partner_client = lazy_import("teamcal.partners.client")
    service = lazy_import("teamcal.services.jira")
    google_sync = lazy_import("teamcal.services.google_sync")
    jira_sync = lazy_import("teamcal.services.jira_sync")
    config_stores = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")
    schedules = lazy_import("teamcal.storage.google_schedules")
    jira_storage = lazy_import("teamcal.storage.jira")
    secret_strings = lazy_import("teamcal.storage.secret_strings")

settings = get_settings()
jira_settings = get_jira_settings()
app = api.make_resolver()

# DEBUG lines of these libraries hold secrets: the Authorization header (urllib3) and
# Secrets Manager's SecretString (botocore). Whatever the log level, they never reach the logs.
for _name in ("botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_JITTER = secrets.SystemRandom()
#: Time budget of a sync started through the API (API Gateway gives up after 29 s), in ms.
API_SYNC_BUDGET_MS = 20_000


@lru_cache(maxsize=1)
def stores() -> jira_sync.JiraStores:
    ddb = aws.client("dynamodb")
    return jira_sync.JiraStores(
        config=config_stores.ConfigStores.connect(ddb, settings.calendars_table, settings.sources_table),
        events=event_storage.EventRepository(ddb, settings.events_table),
        jira=jira_storage.JiraRepository(ddb, settings.calendars_table),
        secrets=secret_strings.SecretStrings(aws.client("secretsmanager")),
        secret_name=jira_settings.secret_name,
        schedules=schedules.ScheduleStore(
            aws.client("scheduler"),
            jira_settings.schedule_group,
            jira_settings.scheduler_role_arn,
            prefix="jira-sync-",
            source=service.SCHEDULE_SOURCE,
            what="sync Jira dates, sprints and versions (connection {key})",
        ),
    )


def client_for(base_url: str, credentials: jira_credentials.JiraCredentials) -> jira_client.JiraClient:
    """A Jira client for the stored (or offered) site and credentials."""
    transport = partner_client.PartnerClient(jira_settings.allow_loopback, jira_settings.http_timeout_seconds)
    return jira_client.JiraClient(
        transport, service.check_base_url(base_url, jira_settings.allow_loopback), credentials
    )


def config() -> service.JiraConfig:
    return service.JiraConfig(
        allow_loopback=jira_settings.allow_loopback,
        default_rate_minutes=jira_settings.sync_rate_minutes,
        full_every_ms=jira_settings.full_sync_hours * 3_600_000,
    )


def _budget(context: LambdaContext, cap_ms: int | None) -> google_sync.SyncClock:
    """The run's clock: the time budget, and the backoff's jitter from the system's randomness
    (environments restored from one SnapStart snapshot share the ``random`` module's state)."""
    remaining = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + (remaining if cap_ms is None else min(remaining, cap_ms)) / 1000
    return google_sync.SyncClock(time_left_ms=lambda: int((deadline - time.monotonic()) * 1000), random=_JITTER.random)


def _own_arn() -> str:
    """This function's ARN (without a version or alias qualifier): the schedule's target."""
    return ":".join(app.lambda_context.invoked_function_arn.split(":")[:7])


@app.put("/jira/connection")
def put_connection(body: models.ConnectionRequest) -> models.JiraConnectionStatus:
    status = service.connect(stores(), client_for, api.principal(app), body, config(), _own_arn(), now_ms())
    metrics.add_metric(name="JiraConnected", unit="Count", value=1)
    return status


@app.get("/jira/connection")
def get_connection() -> models.JiraConnectionStatus:
    return service.get_status(stores(), api.principal(app))


@app.delete("/jira/connection")
def delete_connection() -> models.JiraConnectionStatus:
    return service.disconnect(stores(), api.principal(app))


@app.post("/jira/sync")
def sync_now(body: models.SyncRequest | None = None) -> models.JiraConnectionStatus:
    clock = _budget(app.lambda_context, API_SYNC_BUDGET_MS)
    return service.sync_now(stores(), client_for, api.principal(app), body or models.SyncRequest(), config(), clock)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service.is_scheduled_event(event):
        result = service.scheduled_sync(stores(), client_for, config(), _budget(context, None))
        logger.info("jira sync run", extra={"outcome": result.outcome, "jira_calls": result.jira_calls})
        metrics.add_metric(name="JiraSyncRun", unit="Count", value=1)
        if result.outcome == SyncOutcome.NEEDS_REAUTH or (result.outcome == SyncOutcome.PARTIAL and result.error):
            metrics.add_metric(name="JiraSyncFailed", unit="Count", value=1)
        return result.to_dict()
    return api.resolve(app, event, context)
