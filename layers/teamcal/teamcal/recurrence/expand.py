"""Expansion of a series over a window of instants, with exceptions (RFC 5545 §3.8.5, §3.8.4.4).

Window and overlap (the convention of ``/event/search``): the window is the half-open interval of
epoch milliseconds ``[window_start, window_end)``; an occurrence ``[start, end)`` overlaps it when
``start < window_end and end > window_start``; a zero-length occurrence overlaps when
``window_start <= start < window_end``. Occurrences that start before the window and end inside
it are returned.

Exceptions:

* EXDATE values remove the occurrence they name; a removed occurrence never comes back (an
  override naming it is suppressed too, as recurring-ical-events does).
* An :class:`Override` (a CCJ child event: ``parentId`` + ``recurrenceId``) replaces exactly the
  occurrence its recurrence id names, with the child's own start and end: the child is returned
  when ITS time overlaps the window, and the replaced occurrence is never returned - so an
  occurrence moved out of the window disappears and one moved into it appears once. Pass every
  child of the master (children are few), or at least those whose own time overlaps the window
  and those whose recurrence id falls in it.
* An override whose recurrence id names no occurrence of the series is an *orphan*: never
  returned as an occurrence, reported in :attr:`Expansion.orphans` when its time overlaps the
  window, so the caller decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, cast

from teamcal.recurrence.errors import RecurrenceError, RecurrenceIdNotFoundError
from teamcal.recurrence.series import MAX_MS, MIN_MS, Series
from teamcal.recurrence.values import (
    DAY_MS,
    EPOCH,
    MS,
    Ref,
    date_to_ms,
    format_date,
    format_local,
    ms_to_date,
    naive_to_ms,
    parse_ref,
    parse_wire_date,
)

#: Default cap on the occurrences one expansion returns (the search budget).
MAX_OCCURRENCES = 10_000

_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class Override:
    """A child event replacing one occurrence (CCJ ``parentId`` + ``recurrenceId``).

    ``recurrence_id`` is the child's ``recurrenceId`` in any form of
    :mod:`teamcal.recurrence.values`; ``start_ms``/``end_ms`` its own time (epoch ms UTC, end
    exclusive; all-day children: UTC midnight of ``allDayStart`` and of ``allDayEnd`` + 1 day, see
    :meth:`all_day_dates`); ``key`` is the caller's handle (e.g. the child's id), returned as is.
    Raises :class:`RecurrenceError` (field ``recurrenceId`` or ``endDate``).
    """

    recurrence_id: str
    start_ms: int
    end_ms: int
    all_day: bool = False
    key: Hashable = None
    ref: Ref = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", parse_ref(self.recurrence_id, "recurrenceId"))
        if self.end_ms < self.start_ms:
            raise RecurrenceError.for_field("endDate", "must not be before startDate")

    @classmethod
    def all_day_dates(
        cls, recurrence_id: str, start: dt.date | str, end_inclusive: dt.date | str, key: Hashable = None
    ) -> Override:
        """An all-day child: ``allDayStart``/``allDayEnd`` (``YYYY-MM-DD``, end inclusive)."""
        first = start if isinstance(start, dt.date) else parse_wire_date(start, "allDayStart")
        last = end_inclusive if isinstance(end_inclusive, dt.date) else parse_wire_date(end_inclusive, "allDayEnd")
        if last < first:
            raise RecurrenceError.for_field("allDayEnd", "must not be before allDayStart")
        return cls(recurrence_id, date_to_ms(first), date_to_ms(last) + DAY_MS, True, key)


class Occurrence(NamedTuple):
    """One occurrence of a series in a window.

    * ``start_ms``, ``end_ms`` - epoch ms UTC, end exclusive. All-day: UTC midnight of the first
      day and UTC midnight after the last day (so a one-day occurrence spans 86,400,000 ms).
    * ``original`` - the ORIGINAL start this occurrence has in the series: a wall time in the
      series' zone (a naive datetime) for timed series, a date for all-day series. It is what a
      recurrence id names.
    * ``original_start_ms`` - the instant of ``original`` (epoch ms UTC).
    * ``all_day`` - whether this occurrence is all-day (a child may differ from its master).
    * ``override`` - the :class:`Override` that replaced it, or ``None`` for a plain occurrence.
    """

    start_ms: int
    end_ms: int
    original: dt.date
    original_start_ms: int
    all_day: bool
    override: Override | None = None

    @property
    def recurrence_id(self) -> str:
        """The CCJ ``recurrenceId``: the original local start date as ``YYYYMMDD``.

        For series with several occurrences a day, only the first of the day is named by this
        form; use :attr:`recurrence_id_full` for the others.
        """
        return format_date(self.original)

    @property
    def recurrence_id_full(self) -> str:
        """``YYYYMMDDTHHMMSS`` (original local wall time) for timed series, ``YYYYMMDD`` all-day."""
        if isinstance(self.original, dt.datetime):
            return format_local(self.original)
        return format_date(self.original)

    @property
    def all_day_start(self) -> dt.date | None:
        """``allDayStart`` of an all-day occurrence, else ``None``."""
        return ms_to_date(self.start_ms) if self.all_day else None

    @property
    def all_day_end(self) -> dt.date | None:
        """``allDayEnd`` (INCLUSIVE) of an all-day occurrence, else ``None``."""
        if not self.all_day:
            return None
        return ms_to_date(max(self.start_ms, self.end_ms - DAY_MS))


@dataclass(frozen=True, slots=True)
class Expansion:
    """The result of :func:`expand`.

    ``occurrences`` are sorted by ``start_ms`` (then original start). ``truncated`` is true when
    the cap was hit: the occurrences are then the earliest ones and more exist in the window.
    ``orphans`` are overrides overlapping the window whose recurrence id names no occurrence.
    """

    occurrences: list[Occurrence]
    truncated: bool = False
    orphans: tuple[Override, ...] = ()


class _Index:
    """Overrides keyed the way their recurrence ids match occurrences (last one wins)."""

    __slots__ = ("by_date", "by_local", "by_ms", "items")

    def __init__(self, series: Series, overrides: Iterable[Override]) -> None:
        self.items = list(overrides)
        self.by_local: dict[dt.datetime, Override] = {}
        self.by_ms: dict[int, Override] = {}
        self.by_date: dict[dt.date, Override] = {}
        for item in self.items:
            ref = item.ref
            if series.all_day or ref.kind == "date":
                self.by_date[ref.date] = item
            elif ref.kind == "local":
                assert isinstance(ref.value, dt.datetime)
                self.by_local[ref.value] = item
            else:
                assert isinstance(ref.value, dt.datetime)
                self.by_ms[naive_to_ms(ref.value)] = item

    def match(self, wall: dt.datetime, ms: int, day: dt.date | None, first: bool) -> Override | None:
        """The override naming the occurrence at ``wall`` / instant ``ms`` (second precision);
        date keys only match the first occurrence of the day (``first``)."""
        found = self.by_local.get(wall) if self.by_local else None
        if found is None and self.by_ms:
            found = self.by_ms.get(ms)
        if found is None and first and day is not None and self.by_date:
            found = self.by_date.get(day)
        return found


def _overlaps(start: int, end: int, window_start: int, window_end: int) -> bool:
    if start == end:
        return window_start <= start < window_end
    return start < window_end and end > window_start


def expand(
    series: Series,
    window_start_ms: int,
    window_end_ms: int,
    *,
    overrides: Iterable[Override] = (),
    limit: int = MAX_OCCURRENCES,
) -> Expansion:
    """The occurrences of ``series`` overlapping ``[window_start_ms, window_end_ms)`` (epoch ms).

    The rule repeats in the series' zone (RFC 5545 §3.3.10): wall times stay, instants move
    with DST; a wall time in a spring-forward gap is moved forward by the gap, an ambiguous one
    takes its first instance (RFC 5545 §3.3.5). All-day occurrences are dates and never shift.
    EXDATEs and ``overrides`` apply as the module docstring says. At most ``limit`` occurrences
    are returned (``truncated`` tells). The window is clamped to the supported years 1800-8999.

    Raises :class:`RecurrenceError` (field ``endDate``) when the window ends before it starts.
    Time is bounded by the window and ``limit``, never by the number of occurrences since DTSTART.
    """
    if window_end_ms < window_start_ms:
        raise RecurrenceError.for_field("endDate", "the window must not end before it starts")
    ws = max(window_start_ms, MIN_MS)
    we = min(window_end_ms, MAX_MS)
    index = _Index(series, overrides) if overrides else None
    duration = series.duration_ms
    first_ms = ws - duration + 1 if duration > 0 else ws
    last_ms = we - 1
    out: list[Occurrence] = []
    consumed: set[int] = set()
    truncated = False
    stop_ms: int | None = None
    if last_ms >= first_ms and first_ms < MAX_MS:
        lo, hi = series.wall_bounds(max(first_ms, MIN_MS), last_ms)
        truncated, stop_ms = _scan(series, lo, hi, first_ms, last_ms, ws, we, index, consumed, out, limit)
    orphans: list[Override] = []
    if index is not None:
        _moved_in(series, index, consumed, ws, we, out, orphans)
    if truncated or len(out) > limit:
        if stop_ms is not None:
            out = [o for o in out if o.start_ms < stop_ms or o.override is None]
        truncated = True
    out.sort(key=_order)
    return Expansion(out[:limit], truncated, tuple(orphans))


def _order(o: Occurrence) -> tuple[int, int]:
    return (o.start_ms, o.original_start_ms)


def _scan(
    series: Series,
    lo: dt.datetime,
    hi: dt.datetime,
    first_ms: int,
    last_ms: int,
    ws: int,
    we: int,
    index: _Index | None,
    consumed: set[int],
    out: list[Occurrence],
    limit: int,
) -> tuple[bool, int | None]:
    """Walk the raw starts in wall times ``[lo, hi]``; append what overlaps. (truncated, stop)."""
    if index is None and not (series.ex_local or series.ex_ms or series.ex_dates):
        return _scan_plain(series, lo, hi, first_ms, last_ms, out, limit)
    all_day = series.all_day
    duration = series.duration_ms
    sub_ms = series.sub_ms
    to_ms = series.instant_ms
    ex_local = series.ex_local
    ex_ms = series.ex_ms
    ex_dates = series.ex_dates
    dates = bool(ex_dates or (index and index.by_date))
    prev_day: dt.date | None = None
    known_first = False
    for t in series.raw_starts(lo, hi):
        ms = to_ms(t)
        first = False
        day = None
        if dates:
            day = t.date()
            first = day != prev_day if known_first else _is_first(series, t)
            prev_day, known_first = day, True
        if (ex_local and t in ex_local) or (ex_ms and ms - sub_ms in ex_ms) or (first and day in ex_dates):
            continue
        override = index.match(t, ms - sub_ms, day, first) if index else None
        if override is not None:
            consumed.add(id(override))
            if _overlaps(override.start_ms, override.end_ms, ws, we):
                if len(out) >= limit:
                    return True, ms
                out.append(
                    _new(
                        Occurrence,
                        (
                            override.start_ms,
                            override.end_ms,
                            t.date() if all_day else t,
                            ms,
                            override.all_day,
                            override,
                        ),
                    )
                )
            continue
        if first_ms <= ms <= last_ms:
            if len(out) >= limit:
                return True, ms
            out.append(_new(Occurrence, (ms, ms + duration, t.date() if all_day else t, ms, all_day, None)))
    return False, None


def _scan_plain(
    series: Series,
    lo: dt.datetime,
    hi: dt.datetime,
    first_ms: int,
    last_ms: int,
    out: list[Occurrence],
    limit: int,
) -> tuple[bool, int | None]:
    """:func:`_scan` for a series without EXDATEs or overrides: the hot loop."""
    duration = series.duration_ms
    append = out.append
    count = len(out)
    if series.all_day:
        for t in series.raw_starts(lo, hi):
            ms = (t - EPOCH) // MS
            if first_ms <= ms <= last_ms:
                if count >= limit:
                    return True, ms
                append(_new(Occurrence, (ms, ms + duration, t.date(), ms, True, None)))
                count += 1
        return False, None
    utcoffset = cast(Callable[[dt.datetime], dt.timedelta], series.tz.utcoffset)
    sub_ms = series.sub_ms
    for t in series.raw_starts(lo, hi):
        ms = (t - EPOCH) // MS - utcoffset(t) // MS + sub_ms
        if first_ms <= ms <= last_ms:
            if count >= limit:
                return True, ms
            append(_new(Occurrence, (ms, ms + duration, t, ms, False, None)))
            count += 1
    return False, None


def _is_first(series: Series, t: dt.datetime) -> bool:
    """Whether ``t`` is the first occurrence of its local day (before EXDATEs)."""
    if series.all_day:
        return True
    if not series.multi_per_day:
        return t.date() != series.start.date() or t == series.start
    return series.first_on(t.date()) == t


def _moved_in(
    series: Series,
    index: _Index,
    consumed: set[int],
    ws: int,
    we: int,
    out: list[Occurrence],
    orphans: list[Override],
) -> None:
    """Overrides overlapping the window whose original occurrence lies outside it."""
    for item in index.items:
        if id(item) in consumed or not _overlaps(item.start_ms, item.end_ms, ws, we):
            continue
        original = locate(series, item.ref)
        if original is None:
            orphans.append(item)
        elif not is_excluded(series, original):
            ms = series.instant_ms(original)
            day = original.date() if series.all_day else original
            out.append(Occurrence(item.start_ms, item.end_ms, day, ms, item.all_day, item))


def locate(series: Series, ref: Ref) -> dt.datetime | None:
    """The original start (wall time) of the occurrence ``ref`` names, before EXDATEs; or None.

    A date names the first occurrence of that local day (all-day series: the occurrence on that
    date, whatever the form); ``YYYYMMDDTHHMMSS`` the occurrence at that wall time;
    ``YYYYMMDDTHHMMSSZ`` the occurrence at that instant.
    """
    if series.all_day or ref.kind == "date":
        if series.all_day:
            midnight = dt.datetime.combine(ref.date, dt.time())
            return next(iter(series.raw_starts(midnight, midnight)), None)
        return series.first_on(ref.date)
    assert isinstance(ref.value, dt.datetime)
    if ref.kind == "local":
        return next(iter(series.raw_starts(ref.value, ref.value)), None)
    ms = naive_to_ms(ref.value)
    lo, hi = series.wall_bounds(ms + series.sub_ms, ms + series.sub_ms)
    for t in series.raw_starts(lo, hi):
        if series.instant_ms(t) - series.sub_ms == ms:
            return t
    return None


def is_excluded(series: Series, original: dt.datetime) -> bool:
    """Whether an EXDATE removes the occurrence starting at wall time ``original``."""
    if original in series.ex_local:
        return True
    if series.ex_ms and series.instant_ms(original) - series.sub_ms in series.ex_ms:
        return True
    return original.date() in series.ex_dates and _is_first(series, original)


def find_occurrence(series: Series, recurrence_id: str, *, field_name: str = "recurrenceId") -> Occurrence | None:
    """The plain occurrence a recurrence id (any accepted form) names, or ``None`` when it names
    none or an EXDATE removed it. Raises :class:`RecurrenceError` for a malformed id."""
    original = locate(series, parse_ref(recurrence_id, field_name))
    if original is None or is_excluded(series, original):
        return None
    ms = series.instant_ms(original)
    day = original.date() if series.all_day else original
    return Occurrence(ms, ms + series.duration_ms, day, ms, series.all_day)


def require_occurrence(series: Series, recurrence_id: str, *, field_name: str = "recurrenceId") -> Occurrence:
    """Like :func:`find_occurrence`, but raise :class:`RecurrenceIdNotFoundError` (HTTP 400,
    ``{"recurrenceId": "matches no occurrence of the series"}``) instead of returning ``None``."""
    found = find_occurrence(series, recurrence_id, field_name=field_name)
    if found is None:
        raise RecurrenceIdNotFoundError.for_field(field_name, "matches no occurrence of the series")
    return found
