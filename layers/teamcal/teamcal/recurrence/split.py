"""Splitting a series at an occurrence, for CCJ ``select: "following"`` edits (RFC 5546-style
"this and future": RFC 5545 §3.8.4.4 RANGE=THISANDFUTURE is rewritten into two series).

The occurrences of ``before`` followed by those of ``after`` are exactly the occurrences of the
original series (same wall times, same EXDATEs); :meth:`Split.partition` tells which half a
child's ``recurrenceId`` or an EXDATE belongs to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from dateutil.rrule import DAILY, WEEKLY

from teamcal.recurrence.errors import RecurrenceIdNotFoundError
from teamcal.recurrence.expand import is_excluded, locate
from teamcal.recurrence.series import Series
from teamcal.recurrence.values import Ref, format_local, parse_ref

_TICK = dt.timedelta(microseconds=1)
#: How far after an RDATE occurrence the split looks for the rule's next occurrence (the rule's
#: longest possible gap in practice: a 5th weekday of February recurs within 28 years).
_SEARCH = dt.timedelta(days=30 * 366)
_UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class Split:
    """The two halves of a series split at the occurrence starting at wall time ``at``.

    ``before`` is ``None`` when no occurrence precedes ``at`` (the caller edits the whole series
    instead). ``at_ms`` is the instant of the original occurrence (epoch ms UTC).
    """

    original: Series
    at: dt.datetime
    at_ms: int
    before: Series | None
    after: Series

    def is_after(self, recurrence_id: str, field_name: str = "recurrenceId") -> bool:
        """Whether ``recurrence_id`` names an occurrence of ``after`` (at or after the split)."""
        return _nominal(self.original, parse_ref(recurrence_id, field_name)) >= self.at

    def partition(self, recurrence_ids: Iterable[str], field_name: str = "recurrenceId") -> tuple[list[str], list[str]]:
        """Split children's ``recurrenceId``s (or EXDATE strings) into ``(before, after)``.

        Order is kept. Raises :class:`RecurrenceError` for a malformed value.
        """
        before: list[str] = []
        after: list[str] = []
        for rid in recurrence_ids:
            (after if self.is_after(rid, field_name) else before).append(rid)
        return before, after


def split_following(series: Series, recurrence_id: str, field_name: str = "recurrenceId") -> Split:
    """Split ``series`` so that the occurrence ``recurrence_id`` names starts a new series.

    * ``before``: the same series ending just before that occurrence: a rule with COUNT gets
      COUNT = the rule occurrences before it; otherwise UNTIL = one second before it (UTC, a
      DATE the day before for all-day series). RDATEs and EXDATEs before it stay here.
    * ``after``: DTSTART at that occurrence (or at the rule's first occurrence after it when the
      occurrence came from an RDATE, which then stays an RDATE), the rule with the remaining
      COUNT or the original UNTIL, and the RDATEs and EXDATEs from it on.

    Raises :class:`RecurrenceIdNotFoundError` when the id names no occurrence (or a removed one),
    :class:`RecurrenceError` when it is malformed.
    """
    ref = parse_ref(recurrence_id, field_name)
    at = locate(series, ref)
    if at is None or is_excluded(series, at):
        raise RecurrenceIdNotFoundError.for_field(field_name, "matches no occurrence of the series")
    at_ms = series.instant_ms(at)
    rule = series.rule
    compiled = series.compiled
    rule_before = rule_after = None
    after_start = at
    if rule is not None and compiled is not None:
        earlier = series.rule_starts(series.start, at - _TICK) if at > series.start else iter(())
        n_before = sum(1 for _ in earlier) if rule.count is not None else len(list(islice(earlier, 1)))
        following = next(iter(series.rule_starts(at, at + _SEARCH)), None)
        if rule.count is not None:
            rule_before = rule.with_end(count=n_before) if n_before else None
            left = rule.count - n_before
            rule_after = rule.with_end(count=left) if left > 0 and following is not None else None
        else:
            if series.all_day:
                until = Ref("date", at.date() - dt.timedelta(days=1))
            else:
                until = parse_ref(_utc_text(at_ms - series.sub_ms - 1000), "recurrence")
            rule_before = rule.with_end(until=until) if n_before else None
            rule_after = rule if following is not None else None
        if following is not None:
            after_start = following
    rdates_before, rdates_after = _split_refs(series, series.rdates, at, rdate=True)
    ex_before, ex_after = _split_refs(series, series.exdates, at, rdate=False)
    before = None
    if at > series.start:
        before = dataclasses.replace(series, rule=rule_before, rdates=rdates_before, exdates=ex_before)
    after = Series(
        all_day=series.all_day,
        start=after_start,
        start_ms=series.instant_ms(after_start),
        duration_ms=series.duration_ms,
        time_zone=series.time_zone,
        rule=rule_after,
        rdates=rdates_after,
        exdates=ex_after,
    )
    return Split(series, at, at_ms, before, after)


def _nominal(series: Series, ref: Ref) -> dt.datetime:
    """The wall time a recurrence id / EXDATE names in ``series`` (a date naming no occurrence:
    its midnight; a UTC time naming none: its local wall time)."""
    found = locate(series, ref)
    if found is not None:
        return found
    if series.all_day or ref.kind == "date":
        return dt.datetime.combine(ref.date, dt.time())
    assert isinstance(ref.value, dt.datetime)
    if ref.kind == "local":
        return ref.value
    return ref.value.replace(tzinfo=_UTC).astimezone(series.tz).replace(tzinfo=None)


def _split_refs(
    series: Series, refs: tuple[Ref, ...], at: dt.datetime, *, rdate: bool
) -> tuple[tuple[Ref, ...], tuple[Ref, ...]]:
    before: list[Ref] = []
    after: list[Ref] = []
    for ref in refs:
        wall = series.wall_of(ref) if rdate else _nominal(series, ref)
        (after if wall >= at else before).append(ref)
    return tuple(before), tuple(after)


def _utc_text(ms: int) -> str:
    when = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    return format_local(when) + "Z"


def _shift_ref(ref: Ref, delta: dt.timedelta) -> Ref:
    if ref.kind == "date":
        return Ref("date", ref.value + dt.timedelta(days=delta.days))
    assert isinstance(ref.value, dt.datetime)
    return Ref(ref.kind, ref.value + delta)


def shifted(series: Series, delta: dt.timedelta, duration_ms: int) -> Series:
    """``series`` with every occurrence moved by ``delta`` of wall time (whole days for an
    all-day series) and lasting ``duration_ms``: RFC 5545 §3.8.4.4 RANGE=THISANDFUTURE as
    recurring-ical-events applies it (each later occurrence moves as the exception moved its own
    and takes its duration).

    DTSTART, UNTIL, RDATEs and EXDATEs move by ``delta``; a weekly or daily rule's BYDAY weekdays
    (without ordinals) move by its whole days. Other BYxxx parts stay: a shift they pin (a
    BYMONTHDAY moved by days) is then approximate. Raises :class:`RecurrenceError` when the
    moved series is not valid.
    """
    if series.all_day:
        delta = dt.timedelta(days=delta.days)
    rule = series.rule
    if rule is not None:
        days = delta.days if delta >= dt.timedelta(0) else -((-delta).days)
        if rule.until is not None:
            rule = rule.with_end(count=rule.count, until=_shift_ref(rule.until, delta))
        if days and rule.byday and all(n is None for _, n in rule.byday) and rule.freq in (WEEKLY, DAILY):
            rule = dataclasses.replace(rule, byday=tuple(((w + days) % 7, None) for w, _ in rule.byday))
    start = series.start + delta
    return Series(
        all_day=series.all_day,
        start=start,
        start_ms=series.instant_ms(start),
        duration_ms=duration_ms,
        time_zone=series.time_zone,
        rule=rule,
        rdates=tuple(_shift_ref(r, delta) for r in series.rdates),
        exdates=tuple(_shift_ref(r, delta) for r in series.exdates),
    )
