"""Integer identifiers for calendars, sources, events and tokens.

CCJ uses integer ids (the reference's samples: 1959, 5655); JavaScript clients need them below
2**53. A fresh id is a uniform random integer in [1, 2**53): no counter item to contend on, nothing
to learn from it about how many objects exist, and two ids drawn in the same millisecond by
concurrent writers collide with probability 2**-53 (writers insert with an
``attribute_not_exists`` condition, so even that is detected, never silently merged).
"""

from __future__ import annotations

import hashlib
import secrets
import time

MAX_ID = 2**53 - 1


def new_id() -> int:
    """Return a fresh random id in [1, 2**53) (see the module docstring)."""
    return secrets.randbelow(MAX_ID) + 1


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
