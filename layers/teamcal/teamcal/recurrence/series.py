"""The series model: one recurring master event, validated, ready to expand.

A :class:`Series` is built from the CCJ wire fields (:meth:`Series.from_wire`) or directly
(:meth:`Series.from_timed`, :meth:`Series.from_all_day`). It is immutable; everything the expansion needs
(the zone, the compiled rule, EXDATE look-up sets) is computed once when it is built, and the
compiled rule is cached across series with the same RRULE, DTSTART and zone.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from teamcal.recurrence.engine import CompiledRule, compile_rule
from teamcal.recurrence.errors import RecurrenceError
from teamcal.recurrence.rule import RecurrenceRule, parse_rrule
from teamcal.recurrence.values import (
    DAY_MS,
    EPOCH,
    MS,
    Ref,
    date_to_ms,
    ms_to_date,
    ms_to_naive,
    parse_refs,
    parse_wire_date,
)

#: Supported range of DTSTART and of expansion windows: [1800-01-01, 9000-01-01) UTC. Windows
#: are clamped to it; a series starting outside it is refused.
MIN_MS = date_to_ms(dt.date(1800, 1, 1))
MAX_MS = date_to_ms(dt.date(9000, 1, 1))
#: Largest number of EXDATE / RDATE values one series may carry.
MAX_DATES = 10_000

_UTC = dt.UTC
_DAY = dt.timedelta(days=1)
_SLACK = dt.timedelta(days=2)


def zone(name: object, field_name: str = "timeZone") -> ZoneInfo:
    """The :class:`zoneinfo.ZoneInfo` of an IANA zone name.

    Raises :class:`RecurrenceError` for ``field_name`` when the name is not a string or names no
    zone in the tz database (``Europe/Berln``, ``../etc/passwd``, ``""``).
    """
    if not isinstance(name, str) or not name or len(name) > 64:
        raise RecurrenceError.for_field(field_name, f"{name!r} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise RecurrenceError.for_field(field_name, f"unknown time zone {name!r}") from e


def _int_ms(value: object, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecurrenceError.for_field(field_name, "must be epoch milliseconds (an integer)")
    if isinstance(value, float) and not value.is_integer():
        raise RecurrenceError.for_field(field_name, "must be whole epoch milliseconds")
    ms = int(value)
    if not MIN_MS <= ms < MAX_MS:
        raise RecurrenceError.for_field(field_name, "is outside the supported years 1800-8999")
    return ms


@dataclass(frozen=True, slots=True)
class Series:
    """One recurring event (RFC 5545 §3.8.5: DTSTART + RRULE + RDATE - EXDATE).

    Fields (build with the class methods rather than by hand):

    * ``all_day`` - all-day (DATE) or timed (DATE-TIME) series.
    * ``start`` - DTSTART as local wall time in ``time_zone`` (a naive datetime; ``fold`` tells
      the second of two equal wall times); for all-day series midnight of ``allDayStart``.
    * ``start_ms`` - the instant of DTSTART, epoch ms UTC (all-day: UTC midnight of the date).
    * ``duration_ms`` - the exact duration of every occurrence (RFC 5545 §3.8.5.3: "the same
      exact duration will apply to all the members"); all-day: whole days, 86,400,000 each.
    * ``time_zone`` - the IANA zone the rule repeats in.
    * ``rule``, ``rdates``, ``exdates`` - RRULE, RDATE and EXDATE values (:class:`Ref`).

    Raises :class:`RecurrenceError` (field ``recurrence``, ``timeZone``, ``exdate``, ``rdate``)
    when the parts do not fit together: an UNTIL before DTSTART, BYHOUR on an all-day series, ...
    """

    all_day: bool
    start: dt.datetime
    start_ms: int
    duration_ms: int
    time_zone: str
    rule: RecurrenceRule | None = None
    rdates: tuple[Ref, ...] = ()
    exdates: tuple[Ref, ...] = ()

    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    compiled: CompiledRule | None = field(init=False, repr=False, compare=False)
    #: Rule starts after this wall time must pass the exact UTC UNTIL test (``until_ms``).
    until_check_from: dt.datetime | None = field(init=False, repr=False, compare=False)
    until_ms: int | None = field(init=False, repr=False, compare=False)
    #: DTSTART and the RDATEs as wall times, ascending, without duplicates.
    extras: tuple[dt.datetime, ...] = field(init=False, repr=False, compare=False)
    ex_local: frozenset[dt.datetime] = field(init=False, repr=False, compare=False)
    ex_ms: frozenset[int] = field(init=False, repr=False, compare=False)
    ex_dates: frozenset[dt.date] = field(init=False, repr=False, compare=False)
    #: Whether one local day can hold several occurrences (sub-daily rules, several BYHOUR, RDATEs).
    multi_per_day: bool = field(init=False, repr=False, compare=False)
    #: The sub-second part of DTSTART, carried to every timed occurrence.
    sub_ms: int = field(init=False, repr=False, compare=False)

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_timed(
        cls,
        start_ms: int,
        end_ms: int,
        time_zone: str,
        recurrence: str | None = None,
        exdate: object = None,
        rdate: object = None,
    ) -> Series:
        """A timed series: ``startDate``/``endDate`` (epoch ms UTC, end exclusive) in ``time_zone``.

        ``recurrence`` is an RRULE value (``RRULE:`` prefix optional, ``None``/``""`` for none);
        ``exdate``/``rdate`` a list or comma-separated string of values in the forms of
        :mod:`teamcal.recurrence.values`. Raises :class:`RecurrenceError`.
        """
        start = _int_ms(start_ms, "startDate")
        end = _int_ms(end_ms, "endDate")
        if end < start:
            raise RecurrenceError.for_field("endDate", "must not be before startDate")
        tz = zone(time_zone)
        local = ms_to_naive(start).replace(tzinfo=_UTC).astimezone(tz).replace(tzinfo=None)
        return cls(
            all_day=False,
            start=local,
            start_ms=start,
            duration_ms=end - start,
            time_zone=time_zone,
            rule=parse_rrule(recurrence) if recurrence else None,
            rdates=_refs(rdate, "rdate"),
            exdates=_refs(exdate, "exdate"),
        )

    @classmethod
    def from_all_day(
        cls,
        start: dt.date | str,
        end_inclusive: dt.date | str,
        time_zone: str,
        recurrence: str | None = None,
        exdate: object = None,
        rdate: object = None,
    ) -> Series:
        """An all-day series: ``allDayStart``/``allDayEnd`` (``YYYY-MM-DD``, end INCLUSIVE).

        A one-day event has ``start == end_inclusive``. Dates never shift with the zone;
        ``time_zone`` is kept for the wire. Raises :class:`RecurrenceError`.
        """
        first = start if isinstance(start, dt.date) else parse_wire_date(start, "allDayStart")
        last = end_inclusive if isinstance(end_inclusive, dt.date) else parse_wire_date(end_inclusive, "allDayEnd")
        if last < first:
            raise RecurrenceError.for_field("allDayEnd", "must not be before allDayStart")
        start_ms = date_to_ms(first)
        if not MIN_MS <= start_ms < MAX_MS:
            raise RecurrenceError.for_field("allDayStart", "is outside the supported years 1800-8999")
        zone(time_zone)
        return cls(
            all_day=True,
            start=dt.datetime.combine(first, dt.time()),
            start_ms=start_ms,
            duration_ms=((last - first).days + 1) * DAY_MS,
            time_zone=time_zone,
            rule=parse_rrule(recurrence) if recurrence else None,
            rdates=_refs(rdate, "rdate"),
            exdates=_refs(exdate, "exdate"),
        )

    @classmethod
    def from_wire(cls, event: Mapping[str, object], default_time_zone: str) -> Series:
        """Build from a CCJ event body: ``allDayStart``/``allDayEnd`` or ``startDate``/``endDate``,
        ``recurrence``, ``timeZone`` (``default_time_zone`` when absent), ``exdate``, ``rdate``.

        A missing end means a zero-length timed event or a one-day all-day event. Raises
        :class:`RecurrenceError` naming the field (mixed all-day and ms fields, bad values, ...).
        """
        has_all_day = event.get("allDayStart") is not None or event.get("allDayEnd") is not None
        has_ms = event.get("startDate") is not None or event.get("endDate") is not None
        if has_all_day and has_ms:
            raise RecurrenceError.for_field(
                "allDayStart", "allDayStart/allDayEnd must not be combined with startDate/endDate"
            )
        time_zone = event.get("timeZone") or default_time_zone
        if not isinstance(time_zone, str):
            raise RecurrenceError.for_field("timeZone", "must be an IANA time zone name")
        recurrence = event.get("recurrence") or None
        if recurrence is not None and not isinstance(recurrence, str):
            raise RecurrenceError.for_field("recurrence", "must be a string holding an RRULE")
        if has_all_day:
            start = event.get("allDayStart")
            if start is None:
                raise RecurrenceError.for_field("allDayStart", "is required with allDayEnd")
            end = event.get("allDayEnd")
            return cls.from_all_day(
                parse_wire_date(start, "allDayStart"),
                parse_wire_date(start if end is None else end, "allDayEnd"),
                time_zone,
                recurrence,
                event.get("exdate"),
                event.get("rdate"),
            )
        start_ms = event.get("startDate")
        if start_ms is None:
            raise RecurrenceError.for_field("startDate", "an event needs startDate/endDate or allDayStart/allDayEnd")
        end_ms = event.get("endDate")
        return cls.from_timed(
            _int_ms(start_ms, "startDate"),
            _int_ms(start_ms if end_ms is None else end_ms, "endDate"),
            time_zone,
            recurrence,
            event.get("exdate"),
            event.get("rdate"),
        )

    def __post_init__(self) -> None:
        tz = zone(self.time_zone)
        set_ = object.__setattr__
        set_(self, "tz", tz)
        set_(self, "sub_ms", 0 if self.all_day else self.start_ms % 1000)
        rule = self.rule
        until_local, until_check_from, until_ms = self._until(rule, tz)
        compiled = None
        if rule is not None:
            if self.all_day and (rule.sub_daily or rule.byhour or rule.byminute or rule.bysecond):
                raise RecurrenceError.for_field(
                    "recurrence",
                    "an all-day event cannot repeat more than daily or use BYHOUR/BYMINUTE/BYSECOND (RFC 5545 §3.3.10)",
                )
            try:
                compiled = compile_rule(rule, self.start.replace(fold=0), until_local)
            except ValueError as e:
                raise RecurrenceError.for_field("recurrence", f"is not a valid RRULE here: {e}") from e
        set_(self, "compiled", compiled)
        set_(self, "until_check_from", until_check_from)
        set_(self, "until_ms", until_ms)
        extras = {self.start: None}
        if compiled is not None and self.start.fold == 0 and compiled.dtstart_matches:
            extras = {}  # DTSTART is a rule occurrence (the usual case): nothing to merge for it
        for ref in self.rdates:
            extras.setdefault(self.wall_of(ref), None)
        set_(self, "extras", tuple(sorted(extras)))
        ex_local: set[dt.datetime] = set()
        ex_ms: set[int] = set()
        ex_dates: set[dt.date] = set()
        for ref in self.exdates:
            if self.all_day or ref.kind == "date":
                ex_dates.add(ref.date)
            elif ref.kind == "local":
                assert isinstance(ref.value, dt.datetime)
                ex_local.add(ref.value)
            else:
                assert isinstance(ref.value, dt.datetime)
                ex_ms.add((ref.value - EPOCH) // MS)
        set_(self, "ex_local", frozenset(ex_local))
        set_(self, "ex_ms", frozenset(ex_ms))
        set_(self, "ex_dates", frozenset(ex_dates))
        multi = False
        if not self.all_day and rule is not None:
            times = len(rule.byhour or (0,)) * len(rule.byminute or (0,)) * len(rule.bysecond or (0,))
            multi = rule.sub_daily or times > 1
        set_(self, "multi_per_day", multi or (not self.all_day and bool(self.rdates)))

    def _until(
        self, rule: RecurrenceRule | None, tz: ZoneInfo
    ) -> tuple[dt.datetime | None, dt.datetime | None, int | None]:
        """(wall-time bound for iteration, wall time after which to test UNTIL exactly, UNTIL ms)."""
        if rule is None or rule.until is None:
            return None, None, None
        until = rule.until
        too_early = RecurrenceError.for_field("recurrence", "UNTIL is before the event's start")
        if self.all_day:
            if until.date < self.start.date():
                raise too_early
            return dt.datetime.combine(until.date, dt.time()), None, None
        if until.kind == "date":
            if until.date < self.start.date():
                raise too_early
            return dt.datetime.combine(until.date, dt.time(23, 59, 59)), None, None
        assert isinstance(until.value, dt.datetime)
        if until.kind == "local":
            if until.value < self.start:
                raise too_early
            return until.value, None, None
        ms = (until.value - EPOCH) // MS
        if ms < self.start_ms - self.sub_ms:
            raise too_early
        local = until.value.replace(tzinfo=_UTC).astimezone(tz).replace(tzinfo=None)
        return local + _DAY, local - _DAY, ms

    def wall_of(self, ref: Ref) -> dt.datetime:
        """The wall time an RDATE value names (a date alone: that date at DTSTART's time)."""
        if self.all_day:
            return dt.datetime.combine(ref.date, dt.time())
        if ref.kind == "date":
            return dt.datetime.combine(ref.date, self.start.time())
        assert isinstance(ref.value, dt.datetime)
        if ref.kind == "local":
            return ref.value
        return ref.value.replace(tzinfo=_UTC).astimezone(self.tz).replace(tzinfo=None)

    # -- helpers for the expansion -------------------------------------------------------------

    @property
    def recurring(self) -> bool:
        """Whether the series has an RRULE or RDATEs (otherwise it is one plain event)."""
        return self.rule is not None or bool(self.rdates)

    def instant_ms(self, wall: dt.datetime) -> int:
        """Epoch ms of an occurrence starting at wall time ``wall`` (RFC 5545 §3.3.5).

        A time in a spring-forward gap takes the offset before the gap (so it moves forward by
        the gap); an ambiguous time takes its first instance unless ``wall.fold == 1``. All-day:
        UTC midnight of the date.
        """
        if self.all_day:
            return (wall - EPOCH) // MS
        offset = self.tz.utcoffset(wall)
        assert offset is not None
        return (wall - EPOCH) // MS - offset // MS + self.sub_ms

    def wall_bounds(self, first_ms: int, last_ms: int) -> tuple[dt.datetime, dt.datetime]:
        """Wall times ``(lo, hi)`` such that every occurrence starting in the instants
        ``[first_ms, last_ms]`` starts in the wall times ``[lo, hi]``."""
        if self.all_day:
            lo = dt.datetime.combine(ms_to_date(first_ms + DAY_MS - 1), dt.time())
            return lo, dt.datetime.combine(ms_to_date(last_ms), dt.time())
        return (
            ms_to_naive(first_ms - self.sub_ms) + min(self._offsets_near(first_ms)),
            ms_to_naive(last_ms - self.sub_ms) + max(self._offsets_near(last_ms)),
        )

    def _offsets_near(self, ms: int) -> list[dt.timedelta]:
        out = []
        for shift in (-_SLACK, dt.timedelta(0), _SLACK):
            when = (ms_to_naive(ms) + shift).replace(tzinfo=_UTC).astimezone(self.tz)
            offset = when.utcoffset()
            assert offset is not None
            out.append(offset)
        return out

    def raw_starts(self, lo: dt.datetime, hi: dt.datetime) -> Iterator[dt.datetime]:
        """Every occurrence start (wall time) in ``[lo, hi]``, ascending, before EXDATEs.

        RRULE occurrences (UNTIL applied exactly), DTSTART and RDATEs, without duplicates; where
        an RDATE or DTSTART equals a rule occurrence, the RDATE/DTSTART object (and its ``fold``)
        is kept.
        """
        extras = self.extras
        i = bisect.bisect_left(extras, lo)
        j = bisect.bisect_right(extras, hi)
        rule_starts = self.rule_starts(lo, hi)
        if i == j:
            return rule_starts
        return _merge(rule_starts, extras[i:j])

    def rule_starts(self, lo: dt.datetime, hi: dt.datetime) -> Iterator[dt.datetime]:
        compiled = self.compiled
        if compiled is None:
            return iter(())
        starts = compiled.starts(lo, hi)
        if self.until_ms is None:
            return starts
        return self._until_filtered(starts)

    def _until_filtered(self, starts: Iterator[dt.datetime]) -> Iterator[dt.datetime]:
        check_from = self.until_check_from
        until_ms = self.until_ms
        assert check_from is not None
        assert until_ms is not None
        for t in starts:
            if t > check_from and self.instant_ms(t) - self.sub_ms > until_ms:
                return
            yield t

    def first_on(self, day: dt.date) -> dt.datetime | None:
        """The first occurrence (wall time, before EXDATEs) on local date ``day``, or ``None``."""
        midnight = dt.datetime.combine(day, dt.time())
        return next(iter(self.raw_starts(midnight, midnight + _DAY - dt.timedelta(microseconds=1))), None)


def _merge(starts: Iterator[dt.datetime], extras: Sequence[dt.datetime]) -> Iterator[dt.datetime]:
    """Merge two ascending streams; on equal values keep the one from ``extras``."""
    k = 0
    n = len(extras)
    for t in starts:
        while k < n and extras[k] < t:
            yield extras[k]
            k += 1
        if k < n and extras[k] == t:
            continue
        yield t
    while k < n:
        yield extras[k]
        k += 1


def _refs(values: object, field_name: str) -> tuple[Ref, ...]:
    refs = parse_refs(values, field_name)
    if len(refs) > MAX_DATES:
        raise RecurrenceError.for_field(field_name, f"holds more than {MAX_DATES} values")
    return refs
