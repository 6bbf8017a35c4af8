"""Errors of the recurrence engine.

Every error here is a :class:`teamcal.errors.InvalidInputError` (so a ``ValueError`` too, like the
errors of dateutil, icalendar and recurring-ical-events) about one wire field: ``recurrence``,
``timeZone``, ``exdate``, ``rdate``, ``recurrenceId``, ``startDate``/``endDate``,
``allDayStart``/``allDayEnd``. :mod:`teamcal.api` maps them to HTTP 400 with Jira's error body.
"""

from __future__ import annotations

from typing import Self

from teamcal.errors import InvalidInputError


class RecurrenceError(InvalidInputError):
    """Bad recurrence input: an unparseable RRULE, an unknown TZID, a malformed date, ...

    Build it with :meth:`for_field` so ``errors == {field: message}`` names the wire field.
    """

    @classmethod
    def for_field(cls, field: str, message: str) -> Self:
        """An error about one wire field: ``errors == {field: message}``."""
        return cls(f"{field}: {message}", {field: message})


class RecurrenceIdNotFoundError(RecurrenceError):
    """A ``recurrenceId`` is well formed but names no occurrence of the series (HTTP 400)."""
