"""The bounded RRULE iterator under :func:`teamcal.recurrence.expand`.

Rules are iterated in LOCAL WALL TIME (naive datetimes in the series' zone, or naive midnights for
all-day series); the caller turns wall times into instants (RFC 5545 §3.3.5, §3.3.10: a rule
repeats in local time, so a 09:00 meeting stays at 09:00 across DST).

Two things keep every expansion bounded in time, whatever the rule:

* **Restart at a later period.** :meth:`CompiledRule.starts` does not iterate from DTSTART: it
  restarts the rule at the start of the last period (year, month, week, day, or INTERVAL-aligned
  hour/minute/second) at or before the window, with the parts RFC 5545 takes from DTSTART
  (BYHOUR, BYMONTHDAY, ... see :meth:`RecurrenceRule.defaults_for`) bound explicitly, so the
  occurrences from there on are exactly those of the original rule. A COUNT rule cannot be
  restarted blindly (COUNT counts from DTSTART): its last occurrence, once seen, turns it into an
  UNTIL rule; until then a checkpoint ``(period start, occurrences still to come)`` is kept, so
  the work is linear in the occurrences up to the window once, and in the window afterwards.
* **A horizon.** dateutil checks UNTIL only on candidates that pass the day filters, so a rule
  that never matches (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) iterates to the year 9999 (seconds
  of CPU). :class:`_HorizonRule` stops the iteration once it has moved past the window's month:
  dateutil's ``_iterinfo.rebuild`` (called once per month change or period) reads
  ``rrule._byeaster`` exactly once per call, so counting those reads bounds the months iterated.
  This leans on dateutil 2.x internals (pinned ``<3``); ``test_recurrence_bounds`` fails loudly if
  it ever stops working.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice
from typing import Any

from dateutil import rrule as du

from teamcal.recurrence.rule import RecurrenceRule

_SECOND = dt.timedelta(seconds=1)
_SHIFTED_CACHE_SIZE = 8
_PROBE = dt.timedelta(days=740)


class _PastHorizon(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside dateutil's iteration once it has moved past the requested month."""


class _HorizonRule(du.rrule):
    """A :class:`dateutil.rrule.rrule` whose iteration can be stopped after a number of months.

    ``until`` and ``count`` keep their dateutil meaning. :meth:`iterate` arms the horizon; plain
    iteration (``for x in rule``) is unbounded like dateutil's.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._rebuilds = 0
        self._budget = 1 << 62
        self.busy = False
        super().__init__(cache=False, **kwargs)

    @property
    def _byeaster(self) -> None:
        self._rebuilds += 1
        if self._rebuilds > self._budget:
            raise _PastHorizon
        return None

    @_byeaster.setter
    def _byeaster(self, value: object) -> None:
        if value:
            raise ValueError("BYEASTER is not supported")

    def iterate(self, lo: dt.datetime, hi: dt.datetime, horizon: dt.datetime | None = None) -> Iterator[dt.datetime]:
        """The occurrences ``t`` with ``lo <= t <= hi``; the iteration stops (silently) once it
        moves past the month of ``horizon`` (default ``hi``), whether or not a candidate passed
        the day filters."""
        start: dt.datetime = self._dtstart  # type: ignore[attr-defined]  # dateutil internals (see above)
        self._rebuilds = 0
        # one read when _iter starts, one per rebuild: the first month, then each later month.
        self._budget = 2 + max(0, _month_index(horizon or hi) - _month_index(start)) + 1
        gen: Iterator[dt.datetime] = iter(self)
        self.busy = True  # the horizon counter belongs to this iteration: no sharing meanwhile
        try:
            for t in gen:
                if t > hi:
                    return
                if t >= lo:
                    yield t
        except _PastHorizon:
            return
        finally:
            self.busy = False


def _month_index(when: dt.date) -> int:
    return when.year * 12 + when.month - 1


class CompiledRule:
    """An RRULE bound to a DTSTART (local wall time), ready to iterate any window.

    ``until_local`` bounds the iteration in wall time (inclusive); when the UNTIL was given in UTC
    the caller filters the last day exactly (see :mod:`teamcal.recurrence.series`).
    """

    __slots__ = (
        "_kwargs",
        "_last",
        "_checkpoint",
        "_shifted",
        "count",
        "freq",
        "interval",
        "rule",
        "start",
        "until_local",
        "wkst",
        "_week0",
        "dtstart_matches",
    )

    def __init__(self, rule: RecurrenceRule, start: dt.datetime, until_local: dt.datetime | None) -> None:
        self.rule = rule
        self.start = start.replace(fold=0)
        self.freq = rule.freq
        self.interval = rule.interval
        self.wkst = rule.wkst
        self.count = rule.count
        self.until_local = until_local
        self._kwargs = rule.dateutil_kwargs() | rule.defaults_for(self.start)
        self._shifted: dict[tuple[dt.datetime, dt.datetime | None, int | None], _HorizonRule] = {}
        # COUNT state: the last occurrence once known; else (restart point, occurrences left).
        self._last: dt.datetime | None = None
        self._checkpoint: tuple[dt.datetime, int] | None = (self.start, rule.count) if rule.count is not None else None
        #: Whether DTSTART is itself an occurrence of the rule (set by :func:`compile_rule`).
        self.dtstart_matches = False
        self._week0 = self.start.date() - dt.timedelta(days=(self.start.weekday() - self.wkst) % 7)

    # -- restart points ------------------------------------------------------------------------

    def aligned_start(self, when: dt.datetime) -> dt.datetime:
        """The latest period start of this rule at or before ``when`` (``start`` if none later).

        Periods follow RFC 5545 §3.3.10: FREQ times INTERVAL, counted from DTSTART's period; a
        WEEKLY period starts on WKST.
        """
        start = self.start
        if when <= start:
            return start
        n = self.interval
        freq = self.freq
        if freq == du.YEARLY:
            out = dt.datetime(start.year + (when.year - start.year) // n * n, 1, 1)
        elif freq == du.MONTHLY:
            m0 = _month_index(start)
            m = m0 + (_month_index(when) - m0) // n * n
            out = dt.datetime(m // 12, m % 12 + 1, 1)
        elif freq == du.WEEKLY:
            days = (when.date() - self._week0).days // (7 * n) * (7 * n)
            out = dt.datetime.combine(self._week0 + dt.timedelta(days=days), dt.time())
        elif freq == du.DAILY:
            days = (when.date() - start.date()).days // n * n
            out = dt.datetime.combine(start.date() + dt.timedelta(days=days), dt.time())
        else:
            step = n * (3600 if freq == du.HOURLY else 60 if freq == du.MINUTELY else 1)
            seconds = int((when - start).total_seconds()) // step * step
            out = start + dt.timedelta(seconds=seconds)
        return out if out > start else start

    def _rule_at(self, dtstart: dt.datetime, until: dt.datetime | None, count: int | None) -> _HorizonRule:
        key = (dtstart, until, count)
        found = self._shifted.get(key)
        if found is not None and found.busy:  # iterated right now (a nested look-up): a fresh one
            return _HorizonRule(dtstart=dtstart, until=until, count=count, **self._kwargs)
        if found is None:
            if len(self._shifted) >= _SHIFTED_CACHE_SIZE:
                self._shifted.pop(next(iter(self._shifted)))
            found = _HorizonRule(dtstart=dtstart, until=until, count=count, **self._kwargs)
            self._shifted[key] = found
        return found

    # -- iteration -----------------------------------------------------------------------------

    def starts(self, lo: dt.datetime, hi: dt.datetime) -> Iterator[dt.datetime]:
        """The rule's occurrences ``t`` with ``lo <= t <= hi`` (wall time), ascending.

        DTSTART itself is not added here when it does not match the rule (dateutil semantics);
        :class:`teamcal.recurrence.series.Series` adds it. Bounded in time by the window (see the
        module docstring), never by the number of occurrences since DTSTART.
        """
        until = self.until_local
        if self.count is not None:
            if self._last is None:
                return self._count_starts(lo, hi)
            until = self._last
        if until is not None:
            if lo > until:
                return iter(())
            hi = min(hi, until)
        if hi < lo:
            return iter(())
        return self._rule_at(self.aligned_start(lo), until, None).iterate(lo, hi)

    def _count_starts(self, lo: dt.datetime, hi: dt.datetime) -> Iterator[dt.datetime]:
        """COUNT rules whose end is not known yet: iterate from the checkpoint, advance it."""
        assert self._checkpoint is not None
        assert self.count is not None
        point, left = self._checkpoint
        if lo < point:
            point, left = self.start, self.count
        next_point = self.aligned_start(lo)
        before_next = 0
        last: dt.datetime | None = None
        rule = _HorizonRule(dtstart=point, until=self.until_local, count=left, **self._kwargs)
        # hi is checked here, not by iterate(): the first occurrence past hi is still counted
        for t in rule.iterate(point, dt.datetime.max, hi):
            last = t
            if t > hi:
                break
            if t < next_point:
                before_next += 1
            if t >= lo:
                yield t
        else:
            # the iteration ended by itself: COUNT reached (or the horizon, when rule._rebuilds
            # exceeded its budget; then nothing is known about the end).
            if rule._rebuilds <= rule._budget:
                self._last = last if last is not None else self.start - _SECOND
                return
        if next_point > point and (self._checkpoint[0] < next_point):
            self._checkpoint = (next_point, left - before_next)

    def count_end(self, hi: dt.datetime, rebuilds: int) -> dt.datetime | None:
        """The last occurrence of this COUNT rule (wall time), or ``None`` when COUNT is not reached
        by ``hi`` or within ``rebuilds`` of dateutil's period / month changes (whichever comes
        first: together they bound the CPU this costs, whatever the BYxxx parts filter out).

        DTSTART itself counts only when it matches the rule (dateutil semantics; the series adds
        an unsynchronised DTSTART). A rule without COUNT answers ``None``. The end, once found,
        is kept, so later windows restart the rule as an UNTIL rule.
        """
        if self.count is None:
            return None
        if self._last is not None:
            return self._last if self._last <= hi else None
        rule = _HorizonRule(dtstart=self.start, until=self.until_local, count=self.count, **self._kwargs)
        rule._rebuilds, rule._budget = 0, rebuilds
        last: dt.datetime | None = None
        try:
            for t in rule:  # dateutil's own iteration, stopped by COUNT, hi or the budget
                if t > hi:
                    return None
                last = t
        except _PastHorizon:
            return None
        if last is None:
            return None
        self._last = last
        return last

    def first_after(self, when: dt.datetime, within: dt.timedelta) -> dt.datetime | None:
        """The first occurrence ``t`` with ``when <= t <= when + within``, or ``None``."""
        return next(iter(self.starts(when, when + within)), None)


@lru_cache(maxsize=2048)
def compile_rule(rule: RecurrenceRule, start: dt.datetime, until_local: dt.datetime | None) -> CompiledRule:
    """The cached :class:`CompiledRule` of ``rule`` bound to ``start`` (local wall time).

    Raises ``ValueError`` when dateutil refuses the combination (e.g. a BYHOUR no INTERVAL step
    can reach); :class:`teamcal.recurrence.series.Series` turns that into a field error. Such
    failures are not cached (lru_cache keeps results only).
    """
    compiled = CompiledRule(rule, start, until_local)
    # construct the base rule and take its first occurrences now, so that dateutil's errors
    # (raised at construction, or at the first step of a sub-daily rule) surface at validation
    compiled._rule_at(compiled.start, until_local, rule.count)
    first = list(islice(compiled.starts(compiled.start, compiled.start + _PROBE), 2))
    compiled.dtstart_matches = bool(first) and first[0] == compiled.start
    return compiled
