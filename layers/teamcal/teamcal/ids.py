"""Integer identifiers for calendars, sources, events and tokens.

CCJ uses integer ids (the reference's samples: 1959, 5655); JavaScript clients need them below
2**53. An id is ``(milliseconds since 2024-01-01 UTC) << 12 | 12 random bits``: roughly sortable by
creation time, no counter item to contend on, and below 2**53 until about 2093. Writers insert with
a ``attribute_not_exists`` condition and draw again on the (rare) collision.
"""

from __future__ import annotations

import hashlib
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


def external_id(calendar_id: int, namespace: str, key: str) -> int:
    """The id of the event that mirrors an outside object, the same on every run.

    ``namespace`` names where the object comes from (``"ics"`` for an iCalendar UID,
    ``"google:<calendarId>"``, ``"partner:<synchronizationId>"``); ``key`` is its id there (a UID,
    plus ``#<RECURRENCE-ID>`` for an exception). Importing or syncing the same object again finds the
    same event with one GetItem (no lookup item, no Scan): re-runs never duplicate. The id is the
    first 52 bits of SHA-256 over the three parts (plus one), below 2**53 like every id; a
    collision with another event is detected by the writer's conditional put.
    """
    digest = hashlib.sha256(f"{calendar_id}\x1f{namespace}\x1f{key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 12) + 1
