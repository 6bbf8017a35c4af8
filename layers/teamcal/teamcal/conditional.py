"""HTTP conditional requests for the .ics answers (RFC 9110 §8.8, §13; pure, no I/O).

A feed or an export carries a strong ``ETag`` and a ``Last-Modified`` date; a client that sends
``If-None-Match`` (preferred when present, RFC 9110 §13.2.2) or ``If-Modified-Since`` with the
values it holds gets ``304 Not Modified`` and no body.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime


@dataclass(frozen=True)
class Validators:
    """A representation's ``etag`` (quoted, strong) and ``last_modified`` (epoch ms, UTC, whole
    seconds: HTTP dates have a resolution of one second)."""

    etag: str
    last_modified: int

    def headers(self) -> dict[str, str]:
        """``ETag`` and ``Last-Modified`` (IMF-fixdate, RFC 9110 §5.6.7)."""
        return {"ETag": self.etag, "Last-Modified": http_date(self.last_modified)}


def http_date(ms: int) -> str:
    """Epoch ms → ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return format_datetime(dt.datetime.fromtimestamp(ms // 1000, dt.UTC), usegmt=True)


def parse_http_date(text: str | None) -> int | None:
    """An HTTP date (any of RFC 9110's three formats) → epoch ms; ``None`` when absent or invalid
    (an invalid ``If-Modified-Since`` is ignored, RFC 9110 §13.1.3)."""
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp()) * 1000


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(if_none_match: str | None, if_modified_since: str | None, validators: Validators) -> bool:
    """Whether a GET / HEAD with these request headers is answered ``304``.

    ``If-None-Match`` decides when present (weak comparison, ``*`` matches); otherwise
    ``If-Modified-Since`` does: not modified when ``last_modified`` is not after it.
    """
    if if_none_match is not None and if_none_match.strip():
        tags = _tags(if_none_match)
        return "*" in tags or validators.etag in tags
    since = parse_http_date(if_modified_since)
    return since is not None and validators.last_modified <= since
