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
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.ids import now_ms
from teamcal.jira.client import JiraClient
from teamcal.jira.credentials import JiraCredentials
from teamcal.models.jira import ConnectionRequest, JiraConnectionStatus, SyncRequest
from teamcal.observability import logger, metrics, tracer
from teamcal.partners.client import PartnerClient
from teamcal.services import jira as service
from teamcal.services.google_sync import SyncClock
from teamcal.services.jira_sync import JiraStores
from teamcal.services.stores import ConfigStores
from teamcal.settings import get_jira_settings, get_settings
from teamcal.storage.events import EventRepository
from teamcal.storage.google_schedules import ScheduleStore
from teamcal.storage.jira import JiraRepository
from teamcal.storage.secret_strings import SecretStrings

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
def stores() -> JiraStores:
    ddb = aws.client("dynamodb")
    return JiraStores(
        config=ConfigStores.connect(ddb, settings.calendars_table, settings.sources_table),
        events=EventRepository(ddb, settings.events_table),
        jira=JiraRepository(ddb, settings.calendars_table),
        secrets=SecretStrings(aws.client("secretsmanager")),
        secret_name=jira_settings.secret_name,
        schedules=ScheduleStore(
            aws.client("scheduler"),
            jira_settings.schedule_group,
            jira_settings.scheduler_role_arn,
            prefix="jira-sync-",
            source=service.SCHEDULE_SOURCE,
            what="sync Jira dates, sprints and versions (connection {key})",
        ),
    )


def client_for(base_url: str, credentials: JiraCredentials) -> JiraClient:
    """A Jira client for the stored (or offered) site and credentials."""
    transport = PartnerClient(jira_settings.allow_loopback, jira_settings.http_timeout_seconds)
    return JiraClient(transport, service.check_base_url(base_url, jira_settings.allow_loopback), credentials)


def config() -> service.JiraConfig:
    return service.JiraConfig(
        allow_loopback=jira_settings.allow_loopback,
        default_rate_minutes=jira_settings.sync_rate_minutes,
        full_every_ms=jira_settings.full_sync_hours * 3_600_000,
    )


def _budget(context: LambdaContext, cap_ms: int | None) -> SyncClock:
    """The run's clock: the time budget, and the backoff's jitter from the system's randomness
    (environments restored from one SnapStart snapshot share the ``random`` module's state)."""
    remaining = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + (remaining if cap_ms is None else min(remaining, cap_ms)) / 1000
    return SyncClock(time_left_ms=lambda: int((deadline - time.monotonic()) * 1000), random=_JITTER.random)


def _own_arn() -> str:
    """This function's ARN (without a version or alias qualifier): the schedule's target."""
    return ":".join(app.lambda_context.invoked_function_arn.split(":")[:7])


@app.put("/jira/connection")
def put_connection(body: ConnectionRequest) -> JiraConnectionStatus:
    status = service.connect(stores(), client_for, api.principal(app), body, config(), _own_arn(), now_ms())
    metrics.add_metric(name="JiraConnected", unit="Count", value=1)
    return status


@app.get("/jira/connection")
def get_connection() -> JiraConnectionStatus:
    return service.get_status(stores(), api.principal(app))


@app.delete("/jira/connection")
def delete_connection() -> JiraConnectionStatus:
    return service.disconnect(stores(), api.principal(app))


@app.post("/jira/sync")
def sync_now(body: SyncRequest | None = None) -> JiraConnectionStatus:
    clock = _budget(app.lambda_context, API_SYNC_BUDGET_MS)
    return service.sync_now(stores(), client_for, api.principal(app), body or SyncRequest(), config(), clock)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service.is_scheduled_event(event):
        result = service.scheduled_sync(stores(), client_for, config(), _budget(context, None))
        logger.info("jira sync run", extra={"outcome": result.outcome, "jira_calls": result.jira_calls})
        metrics.add_metric(name="JiraSyncRun", unit="Count", value=1)
        if result.outcome == "needs_reauth" or (result.outcome == "partial" and result.error):
            metrics.add_metric(name="JiraSyncFailed", unit="Count", value=1)
        return result.to_dict()
    return api.resolve(app, event, context)
