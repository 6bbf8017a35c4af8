"""Splitting a series for ``select: "following"`` edits."""

from __future__ import annotations

import datetime as dt

import pytest

from teamcal.recurrence import RecurrenceIdNotFoundError, Series, expand, split_following
from teamcal.recurrence.split import shifted
from tests.unit.recurrence_helpers import day_ms, ms, timed, walls

pytestmark = pytest.mark.unit

BERLIN = "Europe/Berlin"


def _all(series: Series | None) -> list[str]:
    if series is None:
        return []
    return walls(series, "20200101T0000", "20300101T0000")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10",
        "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20260430T220000Z",
        "FREQ=DAILY;INTERVAL=3;UNTIL=20260420",
        "FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
    ],
)
def test_halves_together_are_the_original(rule: str) -> None:
    # Given a series with EXDATEs on both sides of the split
    series = timed("20260302T0900", BERLIN, rule)
    occurrences = _all(series)
    at = occurrences[3]
    series = timed("20260302T0900", BERLIN, rule, exdate=[occurrences[1][:8], occurrences[5][:8] + "T090000"])
    expected = _all(series)
    # When split at the 4th occurrence
    split = split_following(series, at[:8])
    # Then before + after == the original, and the halves split where asked
    assert _all(split.before) + _all(split.after) == expected
    assert _all(split.after)[0] == at
    assert split.at_ms == ms(at, BERLIN)
    assert split.before is not None
    assert [e.text for e in split.before.exdates] == [occurrences[1][:8]]
    assert [e.text for e in split.after.exdates] == [occurrences[5][:8] + "T090000"]


def test_count_is_rewritten_on_both_sides() -> None:
    series = timed("20260302T0900", BERLIN, "FREQ=DAILY;COUNT=10")
    split = split_following(series, "20260306")
    assert split.before is not None
    assert split.before.rule is not None
    assert split.after.rule is not None
    assert split.before.rule.count == 4
    assert split.after.rule.count == 6
    assert split.after.start_ms == ms("20260306T0900", BERLIN)


def test_until_is_one_second_before_the_split_in_utc() -> None:
    series = timed("20260302T0900", BERLIN, "FREQ=DAILY")
    split = split_following(series, "20260306T090000")
    assert split.before is not None
    assert split.before.rule is not None
    assert split.before.rule.to_ical() == "FREQ=DAILY;UNTIL=20260306T075959Z"
    assert split.after.rule is not None
    assert split.after.rule.until is None


def test_all_day_split_uses_a_date_until() -> None:
    series = Series.from_all_day("2026-03-02", "2026-03-03", BERLIN, "FREQ=WEEKLY;COUNT=4")
    split = split_following(series, "2026-03-16")
    assert split.before is not None
    assert split.before.rule is not None
    assert split.before.rule.to_ical() == "FREQ=WEEKLY;COUNT=2"
    after = expand(split.after, day_ms("2026-03-01"), day_ms("2026-05-01")).occurrences
    assert [str(o.all_day_start) for o in after] == ["2026-03-16", "2026-03-23"]
    no_count = Series.from_all_day("2026-03-02", "2026-03-02", BERLIN, "FREQ=WEEKLY")
    before = split_following(no_count, "20260316").before
    assert before is not None
    assert before.rule is not None
    assert before.rule.to_ical() == "FREQ=WEEKLY;UNTIL=20260315"


def test_split_at_the_first_occurrence_leaves_nothing_before() -> None:
    series = timed("20260302T0900", BERLIN, "FREQ=DAILY;COUNT=3")
    split = split_following(series, "20260302")
    assert split.before is None
    assert _all(split.after) == _all(series)


def test_partition_of_children_recurrence_ids() -> None:
    series = timed("20260302T0900", BERLIN, "FREQ=DAILY;COUNT=10")
    split = split_following(series, "20260305")
    ids = ["20260303", "2026-03-05", "20260308T090000", "20260304T080000Z", "20260306T080000Z"]
    assert split.partition(ids) == (
        ["20260303", "20260304T080000Z"],
        ["2026-03-05", "20260308T090000", "20260306T080000Z"],
    )


def test_split_at_a_removed_or_missing_occurrence_is_refused() -> None:
    series = timed("20260302T0900", BERLIN, "FREQ=DAILY;COUNT=10", exdate=["20260304"])
    for rid in ("20260304", "20260320"):
        with pytest.raises(RecurrenceIdNotFoundError):
            split_following(series, rid)


def test_split_at_an_rdate_keeps_interval_anchoring() -> None:
    # Given every other Monday, plus an RDATE on a Wednesday of an "off" week
    series = timed("20260302T0900", BERLIN, "FREQ=WEEKLY;INTERVAL=2", rdate=["20260311T090000"])
    expected = _all(series)
    split = split_following(series, "20260311")
    # Then the new series starts at the rule's next occurrence and keeps the RDATE
    assert split.after.start_ms == ms("20260316T0900", BERLIN)
    assert _all(split.before) == ["20260302T0900"]
    assert _all(split.before) + _all(split.after)[:5] == expected[:6]


def test_shifted_moves_every_occurrence_by_wall_time_with_a_new_duration() -> None:
    # Given a weekly Monday series in Berlin across the spring DST change, with an UNTIL and an
    # EXDATE, shifted by one day and 90 minutes (RANGE=THISANDFUTURE as recurring-ical-events
    # applies it)
    series = timed(
        "20260316T0900", "Europe/Berlin", "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260413T070000Z", exdate=["20260330T090000"]
    )
    moved = shifted(series, dt.timedelta(days=1, minutes=90), 30 * 60_000)
    # Then every occurrence is a Tuesday at 10:30 wall time, the EXDATE and UNTIL moved along
    assert walls(moved, "20260301T0000", "20260501T0000") == [
        "20260317T1030",
        "20260324T1030",
        "20260407T1030",
        "20260414T1030",
    ]
    assert moved.duration_ms == 30 * 60_000
