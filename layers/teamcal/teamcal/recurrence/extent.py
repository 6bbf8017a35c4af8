"""How far a series reaches: the end of its last occurrence (for the storage index of masters)."""

from __future__ import annotations

import datetime as dt

from teamcal.recurrence.series import Series

_LAST_WALL = dt.datetime(8999, 12, 31, 23, 59, 59)


def series_end_ms(series: Series) -> int | None:
    """The EXCLUSIVE end (epoch ms UTC) of the series' last occurrence, or ``None`` when the rule
    is unbounded (no COUNT, no UNTIL; RFC 5545 §3.3.10).

    An upper bound, exact for COUNT rules (iterated once: COUNT is capped at
    :data:`teamcal.recurrence.MAX_COUNT`) and for plain events / RDATEs; for UNTIL rules the UNTIL
    instant plus the duration (the last occurrence starts at or before UNTIL).
    """
    last = series.start_ms
    if series.extras:
        last = max(last, series.instant_ms(series.extras[-1]))
    rule, compiled = series.rule, series.compiled
    if rule is None or compiled is None:
        return last + series.duration_ms
    if rule.count is not None:
        final: dt.datetime | None = None
        for final in series.rule_starts(series.start, _LAST_WALL):  # noqa: B007 - we want the last one
            pass
        if final is not None:
            last = max(last, series.instant_ms(final))
        return last + series.duration_ms
    if rule.until is None:
        return None
    if series.until_ms is not None:
        bound = series.until_ms
    else:
        assert compiled.until_local is not None
        bound = series.instant_ms(compiled.until_local)
    return max(last, bound) + series.duration_ms
