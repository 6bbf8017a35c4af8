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

This module is the only one that imports google-api-python-client and google-auth (this
function's own ``requirements.txt``; the shared layer does not carry them): :class:`GoogleApi`
implements :class:`teamcal.google.port.CalendarGateway` with the client's bundled discovery
document (``static_discovery=True``), pointed at ``GOOGLE_CALENDAR_API_ENDPOINT`` and
``GOOGLE_OAUTH_TOKEN_URI``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

import google_auth_httplib2
import httplib2
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from teamcal import api, aws
from teamcal.errors import TeamcalError
from teamcal.google.errors import (
    RATE_LIMIT_REASONS,
    GoogleApiError,
    GoogleCredentialsError,
    GoogleNotFound,
    GoogleRateLimited,
    GoogleSyncTokenInvalid,
    GoogleTransientError,
    invalid_api_key,
    oauth_error,
)
from teamcal.google.secrets import READONLY_SCOPE, GoogleSecret, OAuthClient
from teamcal.ids import now_ms
from teamcal.models.common import Page
from teamcal.models.google import (
    AuthorizeResponse,
    ConnectionStatus,
    CredentialsRequest,
    GoogleCalendarItem,
    SelectionRequest,
)
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.services import google as service
from teamcal.services.google_sync import SyncClock
from teamcal.services.stores import ConfigStores
from teamcal.settings import GoogleSettings, get_google_settings, get_settings
from teamcal.storage.events import EventRepository
from teamcal.storage.google import GoogleRepository
from teamcal.storage.google_schedules import ScheduleStore
from teamcal.storage.google_secrets import GoogleSecretStore

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
_CALENDAR = Annotated[str, Path(alias="calendarId")]


# ---------------------------------------------------------------------------- Google adapter
def _reasons(error: HttpError) -> tuple[set[str], str]:
    """The ``error.errors[].reason`` / ``domain`` values and the message of a Google error body."""
    try:
        body = json.loads(error.content or b"{}")
    except ValueError:
        return set(), ""
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return set(), ""
    found: set[str] = set()
    for item in inner.get("errors") or []:
        if isinstance(item, dict):
            found.update(str(item[k]) for k in ("reason", "domain") if item.get(k))
    for detail in inner.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason"):
            found.add(str(detail["reason"]))
    return found, str(inner.get("message") or "")


def _http_error(error: HttpError) -> TeamcalError:
    """Google's HTTP error → a typed error (Calendar API "Handle API errors" guide)."""
    status = int(error.resp.status)
    reasons, message = _reasons(error)
    reason = next(iter(sorted(reasons)), "")
    if status == 410:
        return GoogleSyncTokenInvalid(410, reason or "fullSyncRequired", "the sync token is no longer valid (410 Gone)")
    if status == 429 or (status == 403 and reasons & RATE_LIMIT_REASONS):
        return GoogleRateLimited(f"Google is limiting the request rate ({status} {reason or 'rateLimitExceeded'})")
    if status == 400 and ({"keyInvalid", "API_KEY_INVALID"} & reasons or "API key not valid" in message):
        return invalid_api_key()
    if status == 404:
        return GoogleNotFound(404, reason or "notFound", "the Google calendar does not exist or cannot be read")
    if status >= 500:
        return GoogleTransientError(f"Google failed ({status} {reason})")
    return GoogleApiError(status, reason, f"Google answered {status} {reason}: {message[:200]}".strip())


def _refresh_error(error: RefreshError) -> TeamcalError:
    """A failed token refresh → the RFC 6749 §5.2 error code's typed error."""
    data = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
    code = str(data.get("error") or str(error.args[0] if error.args else "").split(":", 1)[0]).strip()
    return oauth_error(code)


class GoogleApi:
    """:class:`teamcal.google.port.CalendarGateway` with google-api-python-client / google-auth.

    Clients are built with the bundled discovery document and kept per credentials (a warm
    function reuses the access token for its hour). Requests are never retried here (the sync
    backs off itself). Errors leave as typed errors WITHOUT the client's exception chained: its
    text holds the request URL, which carries the API key.
    """

    def __init__(self, config: GoogleSettings) -> None:
        self._config = config
        self._services: OrderedDict[str, Any] = OrderedDict()

    def _http(self) -> httplib2.Http:
        return httplib2.Http(timeout=self._config.http_timeout_seconds)

    def _credentials(self, secret: GoogleSecret) -> Any:
        if secret.kind == "oauth":
            return user_credentials.Credentials(  # type: ignore[no-untyped-call]
                token=None,
                refresh_token=secret.refresh_token,
                client_id=secret.client_id,
                client_secret=secret.client_secret,
                token_uri=self._config.oauth_token_uri,
                scopes=[READONLY_SCOPE],
            )
        if secret.kind == "serviceAccount":
            info = {**dict(secret.service_account_key or {}), "token_uri": self._config.oauth_token_uri}
            try:
                creds = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=[READONLY_SCOPE]
                )
            except (ValueError, KeyError):
                raise GoogleCredentialsError(
                    "service_account",
                    "the service-account key is not valid (its private_key cannot be read)",
                    {"serviceAccountKey": "not a valid key"},
                ) from None
            return creds.with_subject(secret.subject) if secret.subject else creds
        return None

    def _service(self, secret: GoogleSecret | None, api_key: str | None = None) -> Any:
        key = hashlib.sha256(((secret.to_json() if secret else "") + "\x1f" + (api_key or "")).encode()).hexdigest()
        if key in self._services:
            self._services.move_to_end(key)
            return self._services[key]
        http: Any = self._http()
        creds = self._credentials(secret) if secret is not None else None
        if creds is not None:
            http = google_auth_httplib2.AuthorizedHttp(creds, http=http)
        developer_key = api_key or (secret.api_key if secret is not None and secret.kind == "apiKey" else None)
        built = build(
            "calendar",
            "v3",
            http=http,
            developerKey=developer_key,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self._config.calendar_api_endpoint},
        )
        self._services[key] = built
        while len(self._services) > 16:
            self._services.popitem(last=False)
        return built

    @staticmethod
    def _execute(request: Any) -> dict[str, Any]:
        try:
            out: dict[str, Any] = request.execute(num_retries=0)
        except HttpError as e:
            raise _http_error(e) from None
        except RefreshError as e:
            raise _refresh_error(e) from None
        except (TransportError, httplib2.HttpLib2Error, OSError) as e:
            raise GoogleTransientError(f"Google could not be reached ({type(e).__name__})") from None
        return out

    # ------------------------------------------------------------------ the port
    def verify(self, secret: GoogleSecret) -> None:
        creds = self._credentials(secret)
        if creds is None:
            return
        try:
            creds.refresh(google_auth_httplib2.Request(self._http()))
        except RefreshError as e:
            raise _refresh_error(e) from None
        except (TransportError, httplib2.HttpLib2Error, OSError) as e:
            raise GoogleTransientError(f"Google could not be reached ({type(e).__name__})") from None

    def list_calendars(self, secret: GoogleSecret) -> list[dict[str, Any]]:
        service_ = self._service(secret)
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._execute(service_.calendarList().list(pageToken=token, maxResults=250, minAccessRole="reader"))
            out.extend(i for i in page.get("items") or [] if isinstance(i, dict))
            token = page.get("nextPageToken")
            if not token:
                return out

    def get_calendar(self, secret: GoogleSecret, calendar_id: str) -> dict[str, Any]:
        return self._execute(self._service(secret).calendars().get(calendarId=calendar_id))

    def is_public(self, calendar_id: str, api_key: str) -> bool:
        try:
            self._execute(self._service(None, api_key).calendars().get(calendarId=calendar_id))
        except GoogleApiError as e:
            if e.status in (401, 403, 404):
                return False
            raise
        return True

    def list_events(
        self, secret: GoogleSecret, calendar_id: str, *, sync_token: str | None, page_token: str | None, page_size: int
    ) -> dict[str, Any]:
        request = (
            self._service(secret)
            .events()
            .list(
                calendarId=calendar_id,
                syncToken=sync_token,
                pageToken=page_token,
                maxResults=page_size,
                singleEvents=False,
            )
        )
        return self._execute(request)

    def exchange_code(self, client: OAuthClient, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            }
        )
        request = google_auth_httplib2.Request(self._http())
        try:
            response = request(
                url=self._config.oauth_token_uri,
                method="POST",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except TransportError:
            raise GoogleTransientError("Google's token endpoint could not be reached") from None
        try:
            data = json.loads(response.data or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status != 200:
            raise oauth_error(str(data.get("error") or f"http_{response.status}"), redirect_uri)
        return data


# ---------------------------------------------------------------------------- wiring
@lru_cache(maxsize=1)
def stores() -> service.GoogleStores:
    ddb = aws.client("dynamodb")
    return service.GoogleStores(
        config=ConfigStores.connect(ddb, settings.calendars_table, settings.sources_table),
        events=EventRepository(ddb, settings.events_table),
        google=GoogleRepository(ddb, settings.calendars_table),
        secrets=GoogleSecretStore(aws.client("secretsmanager"), google_settings.secret_prefix),
        schedules=ScheduleStore(
            aws.client("scheduler"), google_settings.schedule_group, google_settings.scheduler_role_arn
        ),
    )


@lru_cache(maxsize=1)
def gateway() -> GoogleApi:
    return GoogleApi(google_settings)


def config() -> service.GoogleConfig:
    return service.GoogleConfig(
        auth_uri=google_settings.oauth_auth_uri,
        redirect_uri=google_settings.redirect_uri,
        oauth_client_secret_id=google_settings.oauth_client_secret_id,
        default_rate_minutes=google_settings.sync_rate_minutes,
    )


def _budget(context: LambdaContext, cap_ms: int | None) -> SyncClock:
    remaining = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + (remaining if cap_ms is None else min(remaining, cap_ms)) / 1000
    return SyncClock(time_left_ms=lambda: int((deadline - time.monotonic()) * 1000))


def _own_arn() -> str:
    """This function's ARN (without a version or alias qualifier): the schedules' target."""
    return ":".join(app.lambda_context.invoked_function_arn.split(":")[:7])


# ---------------------------------------------------------------------------- routes
@app.get("/calendar/<calendarId>/google/authorize")
def authorize(calendar_id: _CALENDAR) -> AuthorizeResponse:
    return service.authorize(stores(), api.principal(app), path_id(calendar_id, "calendar"), config(), now_ms())


@app.get("/google/oauth/callback")
def oauth_callback(
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> ConnectionStatus:
    status = service.oauth_callback(stores(), gateway(), config(), code=code, state=state, error=error, now=now_ms())
    metrics.add_metric(name="GoogleConnected", unit="Count", value=1)
    return status


@app.put("/calendar/<calendarId>/google/credentials")
def put_credentials(calendar_id: _CALENDAR, body: CredentialsRequest) -> ConnectionStatus:
    status = service.put_credentials(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), body, now_ms()
    )
    metrics.add_metric(name="GoogleConnected", unit="Count", value=1)
    return status


@app.get("/calendar/<calendarId>/google/calendars")
def list_google_calendars(calendar_id: _CALENDAR) -> Page[GoogleCalendarItem]:
    found = service.list_google_calendars(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), config()
    )
    return Page[GoogleCalendarItem].of(found)


@app.put("/calendar/<calendarId>/google")
def select_calendars(calendar_id: _CALENDAR, body: SelectionRequest) -> ConnectionStatus:
    return service.select(
        stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), body, config(), _own_arn(), now_ms()
    )


@app.delete("/calendar/<calendarId>/google")
def disconnect(calendar_id: _CALENDAR) -> ConnectionStatus:
    return service.disconnect(stores(), api.principal(app), path_id(calendar_id, "calendar"), now_ms())


@app.post("/calendar/<calendarId>/google/sync")
def sync_now(calendar_id: _CALENDAR) -> ConnectionStatus:
    clock = _budget(app.lambda_context, API_SYNC_BUDGET_MS)
    return service.sync_now(stores(), gateway(), api.principal(app), path_id(calendar_id, "calendar"), clock)


@app.get("/calendar/<calendarId>/google")
def get_status(calendar_id: _CALENDAR) -> ConnectionStatus:
    return service.get_status(stores(), api.principal(app), path_id(calendar_id, "calendar"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service.is_scheduled_event(event):
        result = service.scheduled_sync(stores(), gateway(), event, _budget(context, None))
        logger.info("google sync run", extra={"calendar_id": result["calendarId"], "outcome": result["outcome"]})
        metrics.add_metric(name="GoogleSyncRun", unit="Count", value=1)
        # the GoogleSyncFailed alarm of template.yaml watches this: revoked grants and runs that ended on an error
        if result["outcome"] == "needs_reauth" or (result["outcome"] == "partial" and result.get("error")):
            metrics.add_metric(name="GoogleSyncFailed", unit="Count", value=1)
        return result
    return api.resolve(app, event, context)
