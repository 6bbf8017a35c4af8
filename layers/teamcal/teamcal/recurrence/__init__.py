"""Recurrence engine (pure: no I/O): RRULE expansion with exceptions for CCJ events.

Implements, for one master event and its children:

* RFC 5545 §3.3.10 RECUR values (every FREQ and BYxxx part, COUNT, UNTIL, INTERVAL, WKST),
  parsed and checked part by part (:mod:`.rule`), iterated with dateutil (:mod:`.engine`).
* RFC 5545 §3.8.5.1 EXDATE, §3.8.5.2 RDATE (DATE and DATE-TIME; not PERIOD), §3.8.5.3 RRULE,
  with DTSTART always the first occurrence (recurring-ical-events' reading: an unsynchronised
  DTSTART is added and does not count towards COUNT).
* RFC 5545 §3.8.4.4 RECURRENCE-ID as CCJ children (``parentId`` + ``recurrenceId``):
  :class:`Override` replaces the occurrence it names (:mod:`.expand`).
* RFC 5545 §3.3.5 local time: a rule repeats in the wall time of its IANA zone; a wall time in a
  spring-forward gap takes the offset before the gap (it moves forward), an ambiguous one its
  first instance.

Conventions:

* Instants are epoch milliseconds UTC (``startDate``/``endDate``); ends are EXCLUSIVE.
* All-day events use dates (``allDayStart``/``allDayEnd``, end INCLUSIVE: a one-day event has
  start == end). As instants they are UTC midnight of the first day and UTC midnight after the
  last day, whatever the zone, so they never shift by a day; windows compare against those.
* A window is ``[start, end)`` in ms; an occurrence overlaps it when ``start < window_end`` and
  ``end > window_start`` (a zero-length one when ``window_start <= start < window_end``).
* Recurrence ids (``recurrenceId``, EXDATE, RDATE values): ``YYYYMMDD`` / ``YYYY-MM-DD`` (the
  first occurrence of that local day), ``YYYYMMDDTHHMMSS`` (wall time in the series' zone),
  ``YYYYMMDDTHHMMSSZ`` (UTC); see :mod:`.values`.
* The duration of a timed occurrence is the master's exact duration (RFC 5545 §3.8.5.3).
* Every expansion is bounded by its window and a cap (:data:`MAX_OCCURRENCES`), never by the
  number of occurrences since DTSTART; see :mod:`.engine`.

Errors are :class:`RecurrenceError` (an ``InvalidInputError``, so a ``ValueError``; HTTP 400)
naming the wire field.
"""

from teamcal.recurrence.errors import RecurrenceError, RecurrenceIdNotFoundError
from teamcal.recurrence.expand import (
    MAX_OCCURRENCES,
    Expansion,
    Occurrence,
    Override,
    expand,
    find_occurrence,
    require_occurrence,
)
from teamcal.recurrence.extent import series_end_ms
from teamcal.recurrence.rule import MAX_COUNT, RecurrenceRule, parse_rrule
from teamcal.recurrence.series import Series, zone
from teamcal.recurrence.split import Split, split_following
from teamcal.recurrence.values import Ref, parse_ref

__all__ = [
    "MAX_COUNT",
    "MAX_OCCURRENCES",
    "Expansion",
    "Occurrence",
    "Override",
    "RecurrenceError",
    "RecurrenceIdNotFoundError",
    "RecurrenceRule",
    "Ref",
    "Series",
    "Split",
    "expand",
    "find_occurrence",
    "parse_ref",
    "parse_rrule",
    "require_occurrence",
    "series_end_ms",
    "split_following",
    "zone",
]
