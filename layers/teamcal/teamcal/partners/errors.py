"""Errors of talking to a partner deployment, as subclasses of the domain errors.

The HTTP status of each follows from its base class in :mod:`teamcal.api` (400, 503, 502); the
replication sender decides retry or drop from the class and :attr:`PartnerHttpError.transient`.
"""

from __future__ import annotations

from collections.abc import Sequence

from teamcal.errors import InvalidInputError, RetryableError, UpstreamError


class PartnerAddressError(InvalidInputError):
    """``partnerUrl`` is refused: wrong scheme, a private / link-local / metadata / loopback
    address (after DNS resolution), our own URL, or not a teamcal API base URL (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"partnerUrl: {message}", {"partnerUrl": message})


class PartnerUnreachableError(RetryableError):
    """The partner did not answer: DNS failure, connection refused, timeout (HTTP 503)."""


class PartnerProtocolError(UpstreamError):
    """The partner answered something that is not a teamcal answer: too large, not JSON, a
    redirect, a body of the wrong shape (HTTP 502)."""


class PartnerHttpError(UpstreamError):
    """The partner answered with an error status (HTTP 502 to our caller).

    ``status`` is the partner's status code, ``messages`` its ``errorMessages`` (truncated: a
    partner's text is untrusted and only ever shown, never interpreted).
    """

    def __init__(self, status: int, messages: Sequence[str]) -> None:
        shown = "; ".join(messages) or "no message"
        super().__init__(f"the partner deployment answered {status}: {shown}")
        self.status = status
        self.messages = list(messages)

    @property
    def transient(self) -> bool:
        """Worth retrying later: a server error, 408 or 429."""
        return self.status >= 500 or self.status in (408, 429)
