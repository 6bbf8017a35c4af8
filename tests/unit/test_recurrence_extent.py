"""series_end_ms: how far a master reaches, for the storage index of masters."""

from __future__ import annotations

import pytest

from teamcal.recurrence import Series, expand, series_end_ms

pytestmark = pytest.mark.unit

HOUR = 3_600_000
DAY = 24 * HOUR
JAN5 = 1_767_600_000_000  # 2026-01-05T08:00:00Z, a Monday


def last_end(series: Series) -> int:
    occurrences = expand(series, JAN5 - DAY, JAN5 + 3 * 366 * DAY).occurrences
    return max(o.end_ms for o in occurrences)


@pytest.mark.parametrize(
    "rule",
    ["FREQ=WEEKLY;COUNT=10", "FREQ=DAILY;INTERVAL=3;COUNT=7", "FREQ=MONTHLY;BYDAY=-1FR;COUNT=5"],
)
def test_count_rules_end_exactly_at_their_last_occurrence(rule: str) -> None:
    series = Series.from_timed(JAN5, JAN5 + HOUR, "Europe/Berlin", rule)
    assert series_end_ms(series) == last_end(series)


def test_until_rules_are_bounded_by_until_plus_duration() -> None:
    series = Series.from_timed(JAN5, JAN5 + HOUR, "America/New_York", "FREQ=WEEKLY;UNTIL=20260601T000000Z")
    end = series_end_ms(series)
    assert end is not None
    assert last_end(series) <= end <= 1_780_272_000_000 + HOUR


def test_all_day_until_date() -> None:
    series = Series.from_all_day("2026-01-05", "2026-01-06", "Europe/Berlin", "FREQ=WEEKLY;UNTIL=20260302")
    assert series_end_ms(series) == last_end(series)


def test_unbounded_rules_and_plain_events() -> None:
    assert series_end_ms(Series.from_timed(JAN5, JAN5 + HOUR, "UTC", "FREQ=DAILY")) is None
    assert series_end_ms(Series.from_timed(JAN5, JAN5 + HOUR, "UTC")) == JAN5 + HOUR
    with_rdate = Series.from_timed(JAN5, JAN5 + HOUR, "UTC", None, rdate=["20260301T080000Z"])
    assert series_end_ms(with_rdate) == 1_772_352_000_000 + HOUR
