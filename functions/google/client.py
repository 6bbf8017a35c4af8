"""The Google client adapter: :class:`GoogleApi` implements :class:`teamcal.google.port.CalendarGateway`
with google-api-python-client and google-auth.

This module and its handler (:mod:`app`) are the only ones that import google-api-python-client and
google-auth (this function's own ``requirements.txt``; the shared layer does not carry them). It uses
the client's bundled discovery document (``static_discovery=True``), pointed at
``GOOGLE_CALENDAR_API_ENDPOINT`` and ``GOOGLE_OAUTH_TOKEN_URI``, and maps Google's errors onto
:mod:`teamcal.google.errors`.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

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
from teamcal.settings import GoogleSettings


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
