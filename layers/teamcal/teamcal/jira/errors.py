"""Jira's error answers as typed teamcal errors.

Sources: Atlassian's REST API documentation (Jira Cloud platform v3 and Jira Data Center v2):
401 when the credentials are wrong or revoked, 403 when the account may not use the API or see
the resource, 404 for an unknown project / board, 400 with ``errorMessages`` for a JQL error
(e.g. "Field 'x' does not exist or you do not have permission to view it."), 429 with
``Retry-After`` (seconds) when rate limited, 5xx for outages.

Every class derives from a :mod:`teamcal.errors` class, so :mod:`teamcal.api` picks the status:
configuration the admin can fix → 400, credentials Jira refuses → 400 when connecting and
``needs_reauth`` during a sync, Jira failing → 502, throttling or outage after our retries → 503.
Messages never contain a secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from teamcal.errors import InvalidInputError, RetryableError, UpstreamError


class JiraConfigError(InvalidInputError):
    """Configuration the admin can fix (HTTP 400): a refused ``baseUrl``, an unknown board,
    project or field, a field that is not a date, a JQL error Jira reports."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message, errors)


class JiraAuthError(InvalidInputError):
    """Jira refused the credentials (its 401, or 403 for the whole API): HTTP 400 when
    connecting; during a sync the connection becomes ``needs_reauth`` and its schedule pauses."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, {"credentials": message})
        self.status = status


class JiraNotFound(JiraConfigError):
    """Jira's 404: the project, board or version does not exist or the account cannot see it."""


class JiraApiError(UpstreamError):
    """Jira answered something teamcal cannot act on (HTTP 502): an unexpected status or a body
    that is not the documented shape. ``status`` is Jira's status (0: no status)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class JiraTransientError(RetryableError):
    """Worth retrying with backoff (HTTP 503 once our retries are spent): 429, 5xx, a timeout or
    no answer. ``retry_after`` is Jira's ``Retry-After`` in seconds, when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
