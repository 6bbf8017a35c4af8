"""Google's error answers as typed teamcal errors.

Sources: Google Calendar API "Handle API errors" guide (400 ``keyInvalid``, 401 ``authError``,
403 ``rateLimitExceeded`` / ``userRateLimitExceeded`` in domain ``usageLimits``, 404, 410
``fullSyncRequired``, 429, 5xx) and RFC 6749 §5.2 (token endpoint errors ``invalid_grant``,
``invalid_client``, ``unauthorized_client``; Google adds ``redirect_uri_mismatch`` and
``origin_mismatch``). The CCJ reference's "Google Sync Troubleshooting" names the ones a user can
fix: "API Key not found", "Not a valid origin for the client".

Every class derives from a :mod:`teamcal.errors` class, so :mod:`teamcal.api` picks the status:
configuration a user can fix → 400, Google failing → 502, throttling or outage after our
retries → 503. Messages never contain a secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from teamcal.errors import InvalidInputError, RetryableError, UpstreamError


class GoogleCredentialsError(InvalidInputError):
    """Google refused configuration the user controls (HTTP 400): an invalid API key, an unknown
    OAuth client, a redirect URI or origin the client does not allow, a malformed service-account
    key. ``kind`` is ``"api_key"``, ``"client"``, ``"redirect"`` or ``"service_account"``."""

    def __init__(self, kind: str, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message, errors)
        self.kind = kind


class GoogleGrantRevoked(UpstreamError):
    """The refresh token (or service-account grant) was revoked or expired: ``invalid_grant``
    (HTTP 502 when it surfaces; the connection is marked ``needs_reauth``)."""


class GoogleApiError(UpstreamError):
    """Google answered with an error teamcal cannot act on (HTTP 502). ``status`` is Google's HTTP
    status, ``reason`` the first ``error.errors[].reason`` (or the OAuth ``error`` code)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class GoogleNotFound(GoogleApiError):
    """The Google calendar does not exist or the credentials cannot read it (Google's 404)."""


class GoogleSyncTokenInvalid(GoogleApiError):
    """410 Gone: the sync token (or page token) is no longer valid; a full sync is required."""


class GoogleTransientError(RetryableError):
    """A failure worth retrying with backoff (HTTP 503 once our retries are spent): Google's 5xx,
    a timeout or a connection error."""


class GoogleRateLimited(GoogleTransientError):
    """403 ``rateLimitExceeded`` / ``userRateLimitExceeded`` (domain ``usageLimits``) or 429: retry
    with exponential backoff and jitter; the sync resumes from its stored page or sync token."""


#: 403 reasons that mean "slow down" (Calendar API errors guide).
RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded", "usageLimits"}
)


def invalid_api_key() -> GoogleCredentialsError:
    """Google's ``keyInvalid`` / "API key not valid" (CCJ troubleshooting: "API Key not found")."""
    message = (
        "Google rejected the API key (API key not found or not valid): check that the key exists in the "
        "Google project's Credentials section and is the one configured here"
    )
    return GoogleCredentialsError("api_key", message, {"apiKey": "not a valid API key of the Google project"})


def invalid_client() -> GoogleCredentialsError:
    """OAuth ``invalid_client`` / ``unauthorized_client``: the client id or secret is wrong."""
    message = (
        "Google does not accept this OAuth client (invalid_client): check the Client ID and client secret "
        "in the Google project's Credentials section"
    )
    return GoogleCredentialsError("client", message, {"clientId": "unknown OAuth client or wrong client secret"})


def redirect_not_allowed(redirect_uri: str) -> GoogleCredentialsError:
    """OAuth ``redirect_uri_mismatch`` / ``origin_mismatch`` (CCJ troubleshooting: "Not a valid
    origin for the client")."""
    message = (
        f"Google refused the redirect URI {redirect_uri} (redirect_uri_mismatch: not a valid origin for the "
        "client): add it to the OAuth client's Authorized redirect URIs in the Google project"
    )
    return GoogleCredentialsError("redirect", message, {"redirectUri": "not allowed for this OAuth client"})


def oauth_error(code: str, redirect_uri: str = "") -> InvalidInputError | UpstreamError:
    """The typed error for an RFC 6749 §5.2 token-endpoint ``error`` code."""
    if code in ("invalid_client", "unauthorized_client"):
        return invalid_client()
    if code in ("redirect_uri_mismatch", "origin_mismatch"):
        return redirect_not_allowed(redirect_uri or "(configured redirect URI)")
    if code == "invalid_grant":
        return GoogleGrantRevoked(
            "Google refused the grant (invalid_grant): the refresh token was revoked or expired, or the "
            "authorization code was already used; authorize again"
        )
    return GoogleApiError(400, code or "oauth_error", f"Google's token endpoint refused the request ({code})")
