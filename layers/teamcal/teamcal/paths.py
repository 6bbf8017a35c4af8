"""Path parameters of the CCJ routes: integer resource ids.

CCJ ids are integers below 2**53 (``/calendar/1959``, ``/source/5655``). A path segment that is
not such an integer names no resource, so it is a 404 like any missing id (CCJ reference: "404
status code is returned for non-existing calendarId"), not a 400.
"""

from __future__ import annotations

from teamcal.errors import NotFoundError
from teamcal.ids import MAX_ID


def path_id(segment: str, what: str) -> int:
    """The integer id in a path segment (``"1959"`` → 1959).

    Raises:
        NotFoundError: the segment is not a positive integer below 2**53 (``what`` names the
            resource in the message, e.g. ``"calendar"``).
    """
    text = segment.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 16 or not 0 < int(text) <= MAX_ID:
        raise NotFoundError(f"{what} {segment[:40]!r} not found")
    return int(text)
