"""How far a series reaches: the end of its last occurrence (for the storage index of masters).

A COUNT rule's end is found by iterating it once, and that iteration is bounded: the COUNT-th
occurrence must start within :data:`COUNT_HORIZON` of DTSTART (years and dateutil period/month
changes, by FREQ). A rule that does not get there - ``FREQ=DAILY;COUNT=5;BYMONTH=2;BYMONTHDAY=30``
never does - is refused with a :class:`RecurrenceError` naming the rule, rather than iterated to
the year 9999. Together with :data:`teamcal.recurrence.rule.MAX_COUNT` (5,000) and
:data:`teamcal.recurrence.rule.MAX_STEPS_PER_OCCURRENCE` this keeps any one rule under 50 ms of
CPU (``tests/unit/test_recurrence_cost.py`` measures it).
"""

from __future__ import annotations

import datetime as dt

from dateutil import rrule as du

from teamcal.recurrence.errors import RecurrenceError
from teamcal.recurrence.series import Series

#: FREQ -> (years after DTSTART, dateutil rebuilds) within which a COUNT rule must end. A rebuild
#: is one period for YEARLY and MONTHLY, one month for the finer frequencies; its cost grows with
#: the days it filters, hence fewer months for the finer frequencies.
COUNT_HORIZON: dict[int, tuple[int, int]] = {
    du.YEARLY: (200, 200),
    du.MONTHLY: (100, 1200),
    du.WEEKLY: (50, 600),
    du.DAILY: (25, 300),
    du.HOURLY: (5, 60),
    du.MINUTELY: (5, 60),
    du.SECONDLY: (5, 60),
}


def series_end_ms(series: Series) -> int | None:
    """The EXCLUSIVE end (epoch ms UTC) of the series' last occurrence, or ``None`` when the rule
    is unbounded (no COUNT, no UNTIL; RFC 5545 §3.3.10).

    An upper bound, exact for COUNT rules (iterated once, within :data:`COUNT_HORIZON`) and for
    plain events / RDATEs; for UNTIL rules the UNTIL instant plus the duration (the last
    occurrence starts at or before UNTIL).

    Raises :class:`RecurrenceError` (field ``recurrence``, HTTP 400) for a COUNT rule whose last
    occurrence is not within :data:`COUNT_HORIZON`.
    """
    last = series.start_ms
    if series.extras:
        last = max(last, series.instant_ms(series.extras[-1]))
    rule, compiled = series.rule, series.compiled
    if rule is None or compiled is None:
        return last + series.duration_ms
    if rule.count is not None:
        years, rebuilds = COUNT_HORIZON[rule.freq]
        hi = _years_after(compiled.start, years)
        final = compiled.count_end(hi, rebuilds + 2)  # (dateutil reads once at start and after the last)
        if final is None:
            raise RecurrenceError.for_field(
                "recurrence",
                f"{rule.to_ical()} does not reach COUNT={rule.count} within {years} years of its start; "
                "end it with UNTIL or a smaller COUNT",
            )
        return max(last, series.instant_ms(final)) + series.duration_ms
    if rule.until is None:
        return None
    if series.until_ms is not None:
        bound = series.until_ms
    else:
        assert compiled.until_local is not None
        bound = series.instant_ms(compiled.until_local)
    return max(last, bound) + series.duration_ms


def _years_after(start: dt.datetime, years: int) -> dt.datetime:
    """``start`` plus whole years (clamped to datetime's range)."""
    return dt.datetime(min(start.year + years, dt.MAXYEAR), 1, 1)
