"""Errors of the iCalendar reader and converter (pure code: no HTTP here).

* :class:`IcsFileError` — the file as a whole is unusable (empty, binary, HTML, not iCalendar,
  truncated, too many events). An :class:`~teamcal.errors.InvalidInputError` (HTTP 400 for an
  inline import; a FAILED job for an upload), so also a ``ValueError``.
* :class:`VEventError` — one VEVENT cannot be imported (no DTSTART, DTEND before DTSTART, an
  unknown TZID, an RRULE the engine refuses, ...). The import goes on with the next VEVENT and
  reports ``{uid, reason}`` in the job. A ``ValueError``, like icalendar's own errors.
"""

from __future__ import annotations

from teamcal.errors import InvalidInputError


class IcsFileError(InvalidInputError):
    """The upload is not a usable iCalendar file; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {"file": message})


class VEventError(ValueError):
    """One VEVENT cannot be imported; ``reason`` is shown in the job's ``errors``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VEventSkipped(VEventError):
    """One VEVENT is deliberately not imported although it is readable (it has no occurrence:
    an RRULE whose UNTIL is before DTSTART); the job reports it as skipped, with ``reason``."""
