"""The domain error hierarchy.

Every error teamcal raises on purpose derives from :class:`TeamcalError`. The HTTP status for each
class is chosen in exactly one place, :mod:`teamcal.api`; domain code never picks a status code.
Errors about bad input derive from ``ValueError`` too, like the pure-code errors of icalendar and
recurring-ical-events, so pure code can raise them without knowing about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping


class TeamcalError(Exception):
    """Base of every deliberate teamcal error.

    ``message`` is safe to show to the API caller; ``errors`` maps a wire field name to a message
    (Jira's ``errors`` object).
    """

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, str] = dict(errors or {})


class InvalidInputError(TeamcalError, ValueError):
    """The request is malformed or breaks a rule (HTTP 400)."""

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInputError:
        """An error about one wire field: ``errors == {field: message}``."""
        return cls(f"{field}: {message}", {field: message})


class UnauthorizedError(TeamcalError):
    """No usable credentials: missing, malformed, unknown or revoked token (HTTP 401)."""


class ForbiddenError(TeamcalError):
    """The caller is known but may not do this (HTTP 403)."""


class NotFoundError(TeamcalError):
    """The resource does not exist or is outside the caller's scope (HTTP 404).

    Scope misses are reported as 404, never 403, so existence is not revealed (CCJ reference,
    GET /api/1/calendar/{calendarId}).
    """


class ConflictError(TeamcalError):
    """The write lost a race or breaks a state rule: stale ``version``, duplicate, wrong status (409)."""


class PayloadTooLargeError(TeamcalError):
    """The request body is larger than the route accepts (HTTP 413)."""


class UnsupportedMediaTypeError(TeamcalError):
    """The request body's Content-Type is not one the route accepts (HTTP 415)."""


class TooManyRequestsError(TeamcalError):
    """A cap on what a caller may hold was reached (HTTP 429): e.g. pending partner invitations."""


class RetryableError(TeamcalError):
    """A transient failure of a dependency (throttling, timeouts); the caller may retry (HTTP 503)."""


class UpstreamError(TeamcalError):
    """A third party (Google, a partner deployment) answered with an error (HTTP 502)."""


class SettingsError(RuntimeError):
    """A required environment variable is missing or invalid; raised at cold start."""
