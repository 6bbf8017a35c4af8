"""Windows, EXDATE, RDATE, overrides (children), recurrence ids, the cap, bad input."""

from __future__ import annotations

import pytest

from teamcal.errors import InvalidInputError
from teamcal.recurrence import (
    Override,
    RecurrenceError,
    RecurrenceIdNotFoundError,
    Series,
    expand,
    find_occurrence,
    require_occurrence,
)
from tests.unit.recurrence_helpers import DAY_MS, dates, day_ms, ms, timed, wall, walls

pytestmark = pytest.mark.unit

BERLIN = "Europe/Berlin"


class TestWindow:
    def test_occurrence_overlapping_the_window_start_is_returned(self) -> None:
        # Given a weekly 3-day event starting Mondays 10:00 UTC
        series = timed("20260302T1000", "UTC", "FREQ=WEEKLY", minutes=3 * 24 * 60)
        # When the window starts on Wednesday
        found = expand(series, ms("20260304T0000"), ms("20260305T0000")).occurrences
        # Then Monday's occurrence, still running, is returned
        assert [o.recurrence_id for o in found] == ["20260302"]

    def test_half_open_window_edges(self) -> None:
        series = timed("20260302T1000", "UTC", "FREQ=DAILY", minutes=60)
        # an occurrence ending exactly at the window start is out, one starting at its end is out
        found = expand(series, ms("20260303T1100"), ms("20260304T1000")).occurrences
        assert found == []
        found = expand(series, ms("20260303T1059"), ms("20260304T1001")).occurrences
        assert [o.recurrence_id for o in found] == ["20260303", "20260304"]

    def test_zero_length_occurrence_at_window_start_counts_but_not_at_its_end(self) -> None:
        series = timed("20260302T1000", "UTC", "FREQ=DAILY", minutes=0)
        found = expand(series, ms("20260303T1000"), ms("20260304T1000")).occurrences
        assert [o.recurrence_id for o in found] == ["20260303"]

    def test_all_day_occurrences_are_utc_midnight_spans_with_inclusive_end(self) -> None:
        # Given a two-day all-day event repeating every Friday
        series = Series.from_all_day("2026-03-06", "2026-03-07", BERLIN, "FREQ=WEEKLY;BYDAY=FR")
        # When the window starts on Saturday midnight UTC
        found = expand(series, day_ms("2026-03-07"), day_ms("2026-03-14"))
        # Then Friday-Saturday is returned (it ends Sunday 00:00 UTC) and Mar 13 too
        assert dates(found) == [("2026-03-06", "2026-03-07"), ("2026-03-13", "2026-03-14")]
        assert found.occurrences[0].end_ms == day_ms("2026-03-08")
        assert found.occurrences[0].recurrence_id == "20260306"

    def test_window_that_ends_before_it_starts_is_refused(self) -> None:
        series = timed("20260302T1000", "UTC", "FREQ=DAILY")
        with pytest.raises(RecurrenceError) as caught:
            expand(series, ms("20260303T0000"), ms("20260302T0000"))
        assert set(caught.value.errors) == {"endDate"}

    def test_plain_event_is_one_occurrence(self) -> None:
        series = timed("20260302T1000", "UTC", None)
        assert not series.recurring
        assert walls(series, "20260301T0000", "20260401T0000") == ["20260302T1000"]

    def test_dtstart_not_matching_the_rule_is_an_extra_first_occurrence(self) -> None:
        # Given DTSTART on a Tuesday and a rule for Mondays (RFC 5545: DTSTART is the first one)
        series = timed("20260303T1000", "UTC", "FREQ=WEEKLY;BYDAY=MO;COUNT=2")
        assert walls(series, "20260301T0000", "20260401T0000") == ["20260303T1000", "20260309T1000", "20260316T1000"]

    def test_until_is_inclusive_and_floating_until_reads_in_the_zone(self) -> None:
        utc_until = timed("20260302T0900", BERLIN, "FREQ=DAILY;UNTIL=20260304T080000Z")
        floating = timed("20260302T0900", BERLIN, "FREQ=DAILY;UNTIL=20260304T090000")
        date_until = timed("20260302T0900", BERLIN, "FREQ=DAILY;UNTIL=20260304")
        expected = ["20260302T0900", "20260303T0900", "20260304T0900"]
        for series in (utc_until, floating, date_until):
            assert walls(series, "20260301T0000", "20260401T0000") == expected
        all_day = Series.from_all_day("2026-03-02", "2026-03-02", BERLIN, "FREQ=DAILY;UNTIL=20260304")
        assert len(expand(all_day, day_ms("2026-03-01"), day_ms("2026-04-01")).occurrences) == 3


class TestExdateRdate:
    def test_exdate_in_every_form_removes_its_occurrence(self) -> None:
        series = timed(
            "20260302T0900",
            BERLIN,
            "FREQ=DAILY;COUNT=6",
            exdate=["2026-03-03", "20260304", "20260305T090000", "20260306T080000Z"],
        )
        assert walls(series, "20260301T0000", "20260401T0000") == ["20260302T0900", "20260307T0900"]

    def test_exdate_as_comma_separated_string(self) -> None:
        series = timed("20260302T0900", BERLIN, "FREQ=DAILY;COUNT=3", exdate="2026-03-03,2026-03-04")
        assert walls(series, "20260301T0000", "20260401T0000") == ["20260302T0900"]

    def test_date_exdate_on_a_sub_daily_series_removes_the_first_of_the_day_only(self) -> None:
        series = timed("20260302T0900", "UTC", "FREQ=HOURLY;INTERVAL=4;COUNT=6", minutes=30, exdate=["20260303"])
        # 09, 13, 17, 21 on Mar 2; 01 (first of Mar 3, removed), 05 on Mar 3
        assert walls(series, "20260301T0000", "20260401T0000") == [
            "20260302T0900",
            "20260302T1300",
            "20260302T1700",
            "20260302T2100",
            "20260303T0500",
        ]

    def test_rdate_adds_occurrences_and_duplicates_collapse(self) -> None:
        series = timed(
            "20260302T0900",
            BERLIN,
            "FREQ=WEEKLY;COUNT=2",
            rdate=["20260304T150000", "20260309", "20260320T120000Z"],
        )
        assert walls(series, "20260301T0000", "20260401T0000") == [
            "20260302T0900",
            "20260304T1500",
            "20260309T0900",
            "20260320T1300",
        ]

    def test_all_day_exdate_and_rdate(self) -> None:
        series = Series.from_all_day(
            "2026-03-02", "2026-03-02", BERLIN, "FREQ=WEEKLY;COUNT=3", exdate=["2026-03-09"], rdate=["2026-03-11"]
        )
        assert [d for d, _ in dates(expand(series, day_ms("2026-03-01"), day_ms("2026-04-01")))] == [
            "2026-03-02",
            "2026-03-11",
            "2026-03-16",
        ]


class TestOverrides:
    series = timed("20260302T0900", BERLIN, "FREQ=WEEKLY;BYDAY=MO")

    def test_child_replaces_its_occurrence_inside_the_window(self) -> None:
        # Given the Mar 9 occurrence moved to 14:00 the same day
        child = Override("20260309", ms("20260309T1400", BERLIN), ms("20260309T1500", BERLIN), key=42)
        found = expand(self.series, ms("20260301T0000"), ms("20260317T0000"), overrides=[child]).occurrences
        # Then it appears once, at the child's time, naming the original occurrence
        assert [wall(o.start_ms, BERLIN) for o in found] == ["20260302T0900", "20260309T1400", "20260316T0900"]
        assert found[1].override is child
        assert found[1].override.key == 42
        assert found[1].recurrence_id == "20260309"
        assert found[1].original_start_ms == ms("20260309T0900", BERLIN)

    def test_occurrence_moved_out_of_the_window_disappears(self) -> None:
        child = Override("20260309T090000", ms("20260401T0900", BERLIN), ms("20260401T1000", BERLIN))
        found = expand(self.series, ms("20260301T0000"), ms("20260317T0000"), overrides=[child])
        assert [o.recurrence_id for o in found.occurrences] == ["20260302", "20260316"]
        assert found.orphans == ()

    def test_occurrence_moved_into_the_window_appears_once(self) -> None:
        # Given the Apr 6 occurrence (outside) moved to Mar 11 (inside), named in UTC form
        child = Override("20260406T070000Z", ms("20260311T0900", BERLIN), ms("20260311T1000", BERLIN))
        found = expand(self.series, ms("20260301T0000"), ms("20260317T0000"), overrides=[child]).occurrences
        assert [(o.recurrence_id, o.override is child) for o in found] == [
            ("20260302", False),
            ("20260309", False),
            ("20260406", True),
            ("20260316", False),
        ]

    def test_exdate_wins_over_a_child_and_orphans_are_reported(self) -> None:
        series = timed("20260302T0900", BERLIN, "FREQ=WEEKLY;BYDAY=MO", exdate=["20260309"])
        deleted = Override("20260309", ms("20260310T0900", BERLIN), ms("20260310T1000", BERLIN))
        orphan = Override("20260311", ms("20260311T0900", BERLIN), ms("20260311T1000", BERLIN))
        found = expand(series, ms("20260301T0000"), ms("20260317T0000"), overrides=[deleted, orphan])
        assert [o.recurrence_id for o in found.occurrences] == ["20260302", "20260316"]
        assert found.orphans == (orphan,)

    def test_all_day_child_of_an_all_day_series(self) -> None:
        series = Series.from_all_day("2026-03-02", "2026-03-02", BERLIN, "FREQ=WEEKLY")
        child = Override.all_day_dates("20260309", "2026-03-10", "2026-03-11")
        found = expand(series, day_ms("2026-03-01"), day_ms("2026-03-15"), overrides=[child])
        assert dates(found) == [("2026-03-02", "2026-03-02"), ("2026-03-10", "2026-03-11")]
        assert found.occurrences[1].recurrence_id == "20260309"

    def test_child_in_a_sub_daily_series_named_by_full_local_time(self) -> None:
        series = timed("20260302T0900", "UTC", "FREQ=HOURLY;COUNT=3", minutes=10)
        child = Override("20260302T100000", ms("20260302T1030"), ms("20260302T1040"))
        found = expand(series, ms("20260302T0000"), ms("20260303T0000"), overrides=[child]).occurrences
        assert [wall(o.start_ms, "UTC") for o in found] == ["20260302T0900", "20260302T1030", "20260302T1100"]


class TestRecurrenceIdHelpers:
    series = timed("20260302T0900", BERLIN, "FREQ=WEEKLY;BYDAY=MO;COUNT=5", exdate=["20260316"])

    @pytest.mark.parametrize("rid", ["20260309", "2026-03-09", "20260309T090000", "20260309T080000Z"])
    def test_every_form_finds_the_occurrence(self, rid: str) -> None:
        found = find_occurrence(self.series, rid)
        assert found is not None
        assert found.start_ms == ms("20260309T0900", BERLIN)

    @pytest.mark.parametrize("rid", ["20260310", "20260309T100000", "20260316", "20270101"])
    def test_no_occurrence_or_a_removed_one_is_a_400(self, rid: str) -> None:
        assert find_occurrence(self.series, rid) is None
        with pytest.raises(RecurrenceIdNotFoundError) as caught:
            require_occurrence(self.series, rid)
        assert caught.value.errors == {"recurrenceId": "matches no occurrence of the series"}
        assert isinstance(caught.value, InvalidInputError)

    @pytest.mark.parametrize("rid", ["2026-3-9", "20260230", "20260309T250000", "20260309T0900", "", "x"])
    def test_malformed_recurrence_id(self, rid: str) -> None:
        with pytest.raises(RecurrenceError) as caught:
            find_occurrence(self.series, rid)
        assert set(caught.value.errors) == {"recurrenceId"}


class TestCap:
    def test_secondly_rule_is_capped_and_says_so(self) -> None:
        series = timed("20260302T0900", "UTC", "FREQ=SECONDLY", minutes=0)
        found = expand(series, ms("20260302T0000"), ms("20260401T0000"), limit=500)
        assert len(found.occurrences) == 500
        assert found.truncated
        assert found.occurrences[-1].start_ms == ms("20260302T0900") + 499_000

    def test_not_truncated_when_under_the_cap(self) -> None:
        series = timed("20260302T0900", "UTC", "FREQ=DAILY")
        found = expand(series, ms("20260302T0000"), ms("20260312T0000"), limit=10)
        assert len(found.occurrences) == 10
        assert not found.truncated


class TestBadInput:
    @pytest.mark.parametrize(
        ("event", "field"),
        [
            ({"startDate": 1, "endDate": 2, "allDayStart": "2026-03-02"}, "allDayStart"),
            ({}, "startDate"),
            ({"startDate": "1772442000000", "endDate": 1772445600000}, "startDate"),
            ({"startDate": 1772442000000, "endDate": 1772442000000 - 1}, "endDate"),
            ({"startDate": 1772442000000, "endDate": 1772445600000, "timeZone": "Europe/Berln"}, "timeZone"),
            ({"startDate": 1772442000000, "endDate": 1772445600000, "timeZone": "../etc/passwd"}, "timeZone"),
            ({"startDate": 1772442000000, "endDate": 1772445600000, "recurrence": "FREQ=SOMETIMES"}, "recurrence"),
            ({"startDate": 1772442000000, "recurrence": "FREQ=DAILY;UNTIL=20200101T000000Z"}, "recurrence"),
            ({"startDate": 1772442000000, "recurrence": "FREQ=DAILY", "exdate": ["2026/03/03"]}, "exdate"),
            ({"startDate": 1772442000000, "recurrence": "FREQ=DAILY", "rdate": [20260303]}, "rdate"),
            ({"allDayStart": "2026-03-02", "allDayEnd": "2026-03-01"}, "allDayEnd"),
            ({"allDayStart": "2026-02-30", "allDayEnd": "2026-03-01"}, "allDayStart"),
            ({"allDayEnd": "2026-03-01"}, "allDayStart"),
            ({"allDayStart": "2026-03-02", "recurrence": "FREQ=HOURLY"}, "recurrence"),
            ({"allDayStart": "2026-03-02", "recurrence": "FREQ=DAILY;BYHOUR=9"}, "recurrence"),
            ({"allDayStart": "2026-03-02", "recurrence": "FREQ=DAILY;UNTIL=20260301"}, "recurrence"),
            ({"startDate": 1772442000000, "recurrence": "FREQ=HOURLY;INTERVAL=6;BYHOUR=1,2,3"}, "recurrence"),
            ({"startDate": 1772442000000, "recurrence": "FREQ=MINUTELY;INTERVAL=120;BYHOUR=1"}, "recurrence"),
        ],
    )
    def test_bad_wire_fields_raise_a_field_error(self, event: dict[str, object], field: str) -> None:
        with pytest.raises(RecurrenceError) as caught:
            Series.from_wire(event, "Europe/Berlin")
        assert set(caught.value.errors) == {field}

    def test_from_wire_defaults(self) -> None:
        series = Series.from_wire({"allDayStart": "2026-03-02", "recurrence": "RRULE:FREQ=YEARLY"}, BERLIN)
        assert series.time_zone == BERLIN
        assert series.duration_ms == DAY_MS
        timed_series = Series.from_wire({"startDate": 1772442000000, "timeZone": "Asia/Tokyo"}, BERLIN)
        assert timed_series.duration_ms == 0
        assert timed_series.time_zone == "Asia/Tokyo"
