"""Google Calendar sync (issue #6): connection routes, and the sync that EventBridge Scheduler runs.

Routes (base ``/rest/brizo-calendar/api/1``; every one but the callback behind the TOKEN
authorizer):

* ``GET  /calendar/{calendarId}/google/authorize``    consent URL (offline, read-only, state, PKCE)
* ``GET  /google/oauth/callback``                      Google redirects here (no token; ``state``)
* ``PUT  /calendar/{calendarId}/google/credentials``  OAuth client + refresh token, a
  service-account key, or an API key
* ``GET  /calendar/{calendarId}/google/calendars``    the Google calendars, public or private
* ``PUT  /calendar/{calendarId}/google``              select calendars ("Save"), schedule rate
* ``DELETE /calendar/{calendarId}/google``            disconnect
* ``POST /calendar/{calendarId}/google/sync``         sync now
* ``GET  /calendar/{calendarId}/google``              status: lastSyncAt, counts, errors, needs_reauth

A schedule delivers ``{"source": "teamcal.google-sync", "calendarId": <id>}`` to the same
function; :func:`lambda_handler` routes by the event's shape.

The Google client adapter (:class:`GoogleApi`, google-api-python-client and google-auth; this
function's own ``requirements.txt``, the shared layer does not carry them) is :mod:`client`, next
to this module.
"""

from __future__ import annotations

import importlib
import logging
import time
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.ids import now_ms
from teamcal.lazy import lazy_import
from teamcal.models.outcomes import SyncOutcome
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.settings import get_google_settings, get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import common
    from teamcal.models import google as models
    from teamcal.services import google as service
    from teamcal.services import google_sync
    from teamcal.services import stores as config_stores
    from teamcal.storage import events as event_storage
    from teamcal.storage import google as google_storage
    from teamcal.storage import google_schedules as schedules
    from teamcal.storage import google_secrets
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    common = lazy_import("teamcal.models.common")
    models = lazy_import("teamcal.models.google")
    service = lazy_import("teamcal.services.google")
    google_sync = lazy_import("teamcal.services.google_sync")
    config_stores = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")
    google_storage = lazy_import("teamcal.storage.google")
    schedules = lazy_import("teamcal.storage.google_schedules")
    google_secrets = lazy_import("teamcal.storage.google_secrets")

settings = get_settings()
google_settings = get_google_settings()
app = api.make_resolver()

# DEBUG lines of these libraries hold secrets: request URLs (an API key is a query parameter),
# token exchanges, and botocore's request / response bodies (Secrets Manager's SecretString).
# Whatever the function's log level, they never reach the logs.
for _name in ("googleapiclient", "google.auth", "google_auth_httplib2", "httplib2", "botocore", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

#: Time budget of a sync started through the API (API Gateway gives up after 29 s), in ms.
API_SYNC_BUDGET_MS = 20_000


if TYPE_CHECKING:
    from .client import GoogleApi


def _client_module() -> ModuleType:
    """:mod:`client`, imported on first use: google-api-python-client and google-auth (with
    cryptography and pyparsing) are most of this function's import time, and routes that only read
    DynamoDB never need them. Under SnapStart the hook below imports it before the snapshot."""
    if __package__:  # imported as functions.google.app (tests, the local stack)
        return importlib.import_module(".client", __package__)
    return importlib.import_module("client")  # Lambda loads app.py as a top-level module, next to client.py


try:
    from snapshot_restore_py import register_before_snapshot
except ImportError:  # not on Lambda
    pass
else:
    register_before_snapshot(_client_module)


# ---------------------------------------------------------------------------- wiring
@lru_cache(maxsize=1)
def stores() -> service.GoogleStores:
    ddb = aws.client("dynamodb")
    return service.GoogleStores(
        config=config_stores.ConfigStores.connect(ddb, settings.calendars_table, settings.sources_table),
        events=event_storage.EventRepository(ddb, settings.events_table),
        google=google_storage.GoogleRepository(ddb, settings.calendars_table),
        secrets=google_secrets.GoogleSecretStore(aws.client("secretsmanager"), google_settings.secret_prefix),
        schedules=schedules.ScheduleStore(
            aws.client("scheduler"), google_settings.schedule_group, google_settings.scheduler_role_arn
        ),
    )


@lru_cache(maxsize=1)
def gateway() -> GoogleApi:
    api: GoogleApi = _client_module().GoogleApi(google_settings)
    return api


def config() -> service.GoogleConfig:
    return service.GoogleConfig(
        auth_uri=google_settings.oauth_auth_uri,
        redirect_uri=google_settings.redirect_uri,
        oauth_client_secret_id=google_settings.oauth_client_secret_id,
        default_rate_minutes=google_settings.sync_rate_minutes,
    )


def _budget(context: LambdaContext, cap_ms: int | None) -> google_sync.SyncClock:
    remaining = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + (remaining if cap_ms is None else min(remaining, cap_ms)) / 1000
    return google_sync.SyncClock(time_left_ms=lambda: int((deadline - time.monotonic()) * 1000))


def _own_arn() -> str:
    """This function's ARN (without a version or alias qualifier): the schedules' target."""
    return ":".join(app.lambda_context.invoked_function_arn.split(":")[:7])


# ---------------------------------------------------------------------------- routes
@app.get("/calendar/<calendarId>/google/authorize")
def authorize(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.AuthorizeResponse:
    return service.authorize(stores(), api.principal(app), path_id(calendar_id, "calendar"), config(), now_ms())


@app.get("/google/oauth/callback")
def oauth_callback(
    code: Annotated[str | None, params.Query(max_length=4096)] = None,
    state: Annotated[str | None, params.Query(max_length=256)] = None,
    error: Annotated[str | None, params.Query(max_length=256)] = None,
) -> models.ConnectionStatus:
    status = service.oauth_callback(stores(), gateway(), config(), code=code, state=state, error=error, now=now_ms())
    metrics.add_metric(name="GoogleConnected", unit="Count", value=1)
    return status


@app.put("/calendar/<calendarId>/google/credentials")
def put_credentials(
    calendar_id: Annotated[str, params.Path(alias="calendarId")], body: models.CredentialsRequest
) -> models.ConnectionStatus:
    status = service.put_credentials(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), body, now_ms()
    )
    metrics.add_metric(name="GoogleConnected", unit="Count", value=1)
    return status


@app.get("/calendar/<calendarId>/google/calendars")
def list_google_calendars(
    calendar_id: Annotated[str, params.Path(alias="calendarId")],
) -> common.Page[models.GoogleCalendarItem]:
    found = service.list_google_calendars(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), config()
    )
    return common.Page[models.GoogleCalendarItem].of(found)


@app.put("/calendar/<calendarId>/google")
def select_calendars(
    calendar_id: Annotated[str, params.Path(alias="calendarId")], body: models.SelectionRequest
) -> models.ConnectionStatus:
    return service.select(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), body, config(), _own_arn(), now_ms()
    )


@app.delete("/calendar/<calendarId>/google")
def disconnect(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.ConnectionStatus:
    return service.disconnect(stores(), api.principal(app), path_id(calendar_id, "calendar"), now_ms())


@app.post("/calendar/<calendarId>/google/sync")
def sync_now(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.ConnectionStatus:
    clock = _budget(app.lambda_context, API_SYNC_BUDGET_MS)
    return service.sync_now(stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), clock)


@app.get("/calendar/<calendarId>/google")
def get_status(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.ConnectionStatus:
    return service.get_status(stores(), api.principal(app), path_id(calendar_id, "calendar"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service.is_scheduled_event(event):
        result = service.scheduled_sync(stores(), gateway(), event, _budget(context, None))
        logger.info("google sync run", extra={"calendar_id": result["calendarId"], "outcome": result["outcome"]})
        metrics.add_metric(name="GoogleSyncRun", unit="Count", value=1)
        # the GoogleSyncFailed alarm of template.yaml watches this: revoked grants and runs that ended on an error
        if result["outcome"] == SyncOutcome.NEEDS_REAUTH or (
            result["outcome"] == SyncOutcome.PARTIAL and result.get("error")
        ):
            metrics.add_metric(name="GoogleSyncFailed", unit="Count", value=1)
        return result
    return api.resolve(app, event, context)
