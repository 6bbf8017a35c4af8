"""The port the Google use cases need: Google Calendar API v3 and Google's OAuth token endpoint.

The adapter (``functions/google/client.py``) implements it with google-api-python-client (bundled
discovery document) and google-auth, talking to ``GOOGLE_CALENDAR_API_ENDPOINT`` and
``GOOGLE_OAUTH_TOKEN_URI``. Every method raises the typed errors of :mod:`teamcal.google.errors`
and never retries: backoff is the sync's business (:mod:`teamcal.services.google_sync`).
"""

from __future__ import annotations

from typing import Any, Protocol

from teamcal.google.secrets import GoogleSecret, OAuthClient


class CalendarGateway(Protocol):
    """Google Calendar API v3 (``calendarList.list``, ``calendars.get``, ``events.list``) and the
    OAuth 2.0 token endpoint."""

    def verify(self, secret: GoogleSecret) -> None:
        """Obtain an access token with ``secret`` (OAuth refresh grant or service-account JWT grant;
        nothing for an API key alone). Raises GoogleCredentialsError, GoogleGrantRevoked, …"""
        ...

    def list_calendars(self, secret: GoogleSecret) -> list[dict[str, Any]]:
        """Every ``calendarList`` entry the credentials see with at least reader access (all pages)."""
        ...

    def get_calendar(self, secret: GoogleSecret, calendar_id: str) -> dict[str, Any]:
        """``calendars.get``. Raises GoogleNotFound when it does not exist or is not readable."""
        ...

    def is_public(self, calendar_id: str, api_key: str) -> bool:
        """Whether an anonymous request with only ``api_key`` can read the calendar (a public
        Google calendar). Raises GoogleCredentialsError for an invalid key."""
        ...

    def list_events(
        self, secret: GoogleSecret, calendar_id: str, *, sync_token: str | None, page_token: str | None, page_size: int
    ) -> dict[str, Any]:
        """One ``events.list`` page (``singleEvents=false``): ``items``, ``timeZone``, and
        ``nextPageToken`` or, on the last page, ``nextSyncToken``. Raises GoogleSyncTokenInvalid
        (410), GoogleRateLimited (403 usageLimits / 429), GoogleTransientError (5xx, network)."""
        ...

    def exchange_code(self, client: OAuthClient, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The authorization-code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5): the token
        response (``refresh_token``, ``access_token``, ``scope``, …)."""
        ...
