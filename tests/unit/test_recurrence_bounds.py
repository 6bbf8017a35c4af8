"""Bounded time: windows far from DTSTART, rules that never match, huge COUNTs."""

from __future__ import annotations

import time

import pytest

from teamcal.recurrence import expand
from tests.unit.recurrence_helpers import ms, timed, wall

pytestmark = pytest.mark.unit


def _timed_expand(series_rule: str, start: str, window: tuple[str, str], minutes: int = 0) -> tuple[float, list[str]]:
    series = timed(start, "Europe/Berlin", series_rule, minutes=minutes)
    t0 = time.perf_counter()
    found = expand(series, ms(window[0]), ms(window[1]), limit=100)
    return time.perf_counter() - t0, [wall(o.start_ms, "Europe/Berlin") for o in found.occurrences]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=SECONDLY;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=MINUTELY;BYYEARDAY=60;BYMONTH=1",
        "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31;BYSETPOS=1",  # (WEEKLY;BYSETPOS=9;BYDAY=MO: refused at parse)
    ],
)
def test_rules_that_never_match_answer_at_once(rule: str) -> None:
    # Given a rule no date satisfies (dateutil alone would iterate to the year 9999: seconds)
    # When a 91-day window is expanded (and the series built: it probes its first occurrences)
    elapsed, found = _timed_expand(rule, "20260101T0900", ("20260301T0000", "20260531T0000"))
    # Then only DTSTART-less nothing comes back, fast
    assert found == []
    assert elapsed < 0.5


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY;INTERVAL=7", "FREQ=HOURLY;BYMINUTE=5,35"])
def test_sub_daily_window_decades_after_dtstart_is_not_linear_in_history(rule: str) -> None:
    # Given a sub-daily series that started in 1990
    elapsed, found = _timed_expand(rule, "19900101T0000", ("20260301T0000", "20260301T0100"))
    # Then the window an era later costs no more than a window at the start
    assert found
    assert found[0].startswith("20260301T01")
    assert elapsed < 0.5


def test_large_count_reaches_far_windows_and_remembers_its_checkpoint() -> None:
    # (COUNT=5000 daily from 2013-01-01 runs to 2026-09-08)
    series = timed("20130101T0900", "UTC", "FREQ=DAILY;COUNT=5000", minutes=30)
    t0 = time.perf_counter()
    first = expand(series, ms("20260301T0000"), ms("20260531T0000"))
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = expand(series, ms("20260301T0000"), ms("20260531T0000"))
    warm = time.perf_counter() - t0
    assert len(first.occurrences) == len(second.occurrences) == 91
    assert warm < cold
    assert warm < 0.05


def test_count_end_is_exact_far_from_dtstart() -> None:
    # COUNT=1000 daily from 2000-01-01 ends on 2002-09-26 (day 1000)
    series = timed("20000101T0900", "UTC", "FREQ=DAILY;COUNT=1000", minutes=30)
    found = expand(series, ms("20020901T0000"), ms("20021101T0000")).occurrences
    assert wall(found[-1].start_ms, "UTC") == "20020926T0900"
    assert len(found) == 26
    # asking again (now via the remembered end) gives the same
    again = expand(series, ms("20020901T0000"), ms("20021101T0000")).occurrences
    assert again == found


def test_nested_first_of_day_lookup_does_not_cut_the_outer_iteration_short() -> None:
    # Given an hourly series with a date EXDATE on the window's first day: finding the first
    # occurrence of that day iterates the same restarted rule while the window is iterated
    series = timed("20260301T0100", "UTC", "FREQ=HOURLY;INTERVAL=4", minutes=30, exdate=["20260305"])
    found = expand(series, ms("20260305T0000"), ms("20260605T0000")).occurrences
    # Then the whole window (across month changes) is there: 6 a day for 92 days, minus one
    assert len(found) == 6 * 92 - 1
    assert wall(found[0].start_ms, "UTC") == "20260305T0500"
    assert wall(found[-1].start_ms, "UTC") == "20260604T2100"
