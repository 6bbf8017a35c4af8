"""Expansion in local time across DST and other UTC offset changes (RFC 5545 §3.3.5, §3.3.10)."""

from __future__ import annotations

import pytest

from teamcal.recurrence import Series, expand
from tests.unit.recurrence_helpers import DAY_MS, dates, day_ms, ms, timed, wall, walls

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("zone", "start", "window", "offsets_h"),
    [
        # a weekly 09:00 meeting keeps 09:00 local; its UTC hour moves by the DST shift
        ("Europe/Berlin", "20260302T0900", ("20260301T0000", "20260406T0000"), {8, 7}),
        ("America/New_York", "20260302T0900", ("20260301T0000", "20260406T0000"), {14, 13}),
        ("Australia/Sydney", "20260316T0900", ("20260315T0000", "20260419T2000"), {22, 23}),
        # Sao Paulo's last DST ended 2019-02-17 (UTC-2 -> UTC-3)
        ("America/Sao_Paulo", "20190204T0900", ("20190201T0000", "20190310T0000"), {11, 12}),
        # Tehran observed DST until 2022 (+03:30 <-> +04:30 on Mar 21/22)
        ("Asia/Tehran", "20220307T0900", ("20220301T0000", "20220410T0000"), {5, 4}),
    ],
)
def test_weekly_meeting_stays_at_local_time_across_dst(
    zone: str, start: str, window: tuple[str, str], offsets_h: set[int]
) -> None:
    # Given a weekly 09:00 series in a zone that changes offset inside the window
    series = timed(start, zone, "FREQ=WEEKLY")
    # When expanded over the window
    found = expand(series, ms(window[0]), ms(window[1])).occurrences
    # Then every occurrence is at 09:00 local and the UTC hour takes both values
    assert len(found) == 5
    assert {wall(o.start_ms, zone)[-4:] for o in found} == {"0900"}
    assert {(o.start_ms // 3_600_000) % 24 for o in found} == offsets_h
    assert all(o.end_ms - o.start_ms == 3_600_000 for o in found)


def test_spring_forward_gap_time_moves_forward_by_the_gap() -> None:
    # Given a daily 02:30 series in Berlin (02:30 does not exist on 2026-03-29)
    series = timed("20260327T0230", "Europe/Berlin", "FREQ=DAILY;COUNT=4")
    found = expand(series, ms("20260326T0000"), ms("20260401T0000")).occurrences
    # Then that day's occurrence is read with the offset before the gap: 01:30Z = 03:30 CEST
    assert [wall(o.start_ms, "Europe/Berlin") for o in found] == [
        "20260327T0230",
        "20260328T0230",
        "20260329T0330",
        "20260330T0230",
    ]
    assert found[2].start_ms == ms("20260329T0130")
    # and its recurrence id still names the original wall time
    assert found[2].recurrence_id_full == "20260329T023000"


def test_ambiguous_fall_back_time_takes_the_first_instance() -> None:
    # Given a daily 02:30 series in New York... the fall-back hour is 01:00-02:00 there
    series = timed("20261030T0130", "America/New_York", "FREQ=DAILY;COUNT=3")
    found = expand(series, ms("20261030T0000"), ms("20261103T0000")).occurrences
    # Then 2026-11-01 01:30 is the first instance, EDT (05:30Z), not EST (06:30Z)
    assert found[2].start_ms == ms("20261101T0530")


def test_dtstart_given_as_the_second_instance_of_an_ambiguous_time_keeps_its_instant() -> None:
    # Given a series whose startDate is 01:30 EST on the fall-back day (the second 01:30)
    start = ms("20261101T0630")  # 01:30 EST
    series = Series.from_timed(start, start + 1_800_000, "America/New_York", "FREQ=DAILY;COUNT=2")
    found = expand(series, start - DAY_MS, start + 2 * DAY_MS).occurrences
    # Then the first occurrence is exactly the given instant; the next day is 01:30 EST too
    assert [o.start_ms for o in found] == [start, start + DAY_MS]


def test_all_day_series_never_shift_across_dst_or_zones() -> None:
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin"):
        # Given a weekly all-day Sunday event in a zone far from UTC, crossing DST
        series = Series.from_all_day("2026-03-22", "2026-03-22", zone, "FREQ=WEEKLY;COUNT=3")
        found = expand(series, day_ms("2026-03-01"), day_ms("2026-05-01"))
        # Then the dates are the written dates and the instants are UTC midnights
        assert dates(found) == [
            ("2026-03-22", "2026-03-22"),
            ("2026-03-29", "2026-03-29"),
            ("2026-04-05", "2026-04-05"),
        ]
        assert [o.start_ms for o in found.occurrences] == [day_ms("2026-03-22") + i * 7 * DAY_MS for i in range(3)]
        assert all(o.end_ms - o.start_ms == DAY_MS for o in found.occurrences)


def test_apia_skipped_2011_12_30() -> None:
    # Given Pacific/Apia, which jumped from UTC-10 to UTC+14 skipping 2011-12-30 entirely
    zone = "Pacific/Apia"
    series = timed("20111228T1200", zone, "FREQ=DAILY;COUNT=5")
    found = expand(series, ms("20111227T0000"), ms("20120105T0000")).occurrences
    # Then the Dec 30 occurrence, whose wall time never existed, is read with the offset before
    # the gap (-10): the same instant as Dec 31 12:00 (+14), and it keeps its recurrence id
    assert [o.recurrence_id for o in found] == ["20111228", "20111229", "20111230", "20111231", "20120101"]
    assert found[2].start_ms == found[3].start_ms == ms("20111230T2200")
    assert found[1].start_ms == ms("20111229T2200")
    # and an all-day series there keeps Dec 30 as a date
    all_day = Series.from_all_day("2011-12-29", "2011-12-29", zone, "FREQ=DAILY;COUNT=3")
    assert [d for d, _ in dates(expand(all_day, day_ms("2011-12-01"), day_ms("2012-01-31")))] == [
        "2011-12-29",
        "2011-12-30",
        "2011-12-31",
    ]


def test_hourly_rule_repeats_in_wall_time_through_a_gap() -> None:
    # Given an hourly series in Berlin on the spring-forward night
    series = timed("20260329T0000", "Europe/Berlin", "FREQ=HOURLY;COUNT=5", minutes=0)
    found = expand(series, ms("20260328T0000"), ms("20260330T0000")).occurrences
    # Then wall times 00..04 are generated; 02:00 (nonexistent) lands on 03:00 CEST
    assert [o.recurrence_id_full[-6:] for o in found] == ["000000", "010000", "020000", "030000", "040000"]
    assert [wall(o.start_ms, "Europe/Berlin")[-4:] for o in found] == ["0000", "0100", "0300", "0300", "0400"]


def test_sydney_monthly_across_southern_dst_end() -> None:
    series = timed("20260105T1800", "Australia/Sydney", "FREQ=MONTHLY;BYDAY=1MO;COUNT=6")
    assert walls(series, "20260101T0000", "20260701T0000") == [
        "20260105T1800",
        "20260202T1800",
        "20260302T1800",
        "20260406T1800",
        "20260504T1800",
        "20260601T1800",
    ]
