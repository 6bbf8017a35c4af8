"""Integer identifiers for calendars, sources, events and tokens.

CCJ uses integer ids (the reference's samples: 1959, 5655); JavaScript clients need them below
2**53. An id is ``(milliseconds since 2024-01-01 UTC) << 12 | 12 random bits``: roughly sortable by
creation time, no counter item to contend on, and below 2**53 until about 2093. Writers insert with
a ``attribute_not_exists`` condition and draw again on the (rare) collision.
"""

from __future__ import annotations

import secrets
import time

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MAX_ID = 2**53 - 1


def new_id(now_ms: int | None = None) -> int:
    """Return a fresh positive integer id below 2**53 (see the module docstring)."""
    ms = (time.time_ns() // 1_000_000 if now_ms is None else now_ms) - _EPOCH_MS
    return (max(ms, 0) << 12) | secrets.randbits(12) or 1


def now_ms() -> int:
    """The current time as epoch milliseconds (UTC)."""
    return time.time_ns() // 1_000_000
