"""RRULE parsing and the RFC 5545 §3.8.5.3 examples, checked exactly (America/New_York)."""

from __future__ import annotations

import pytest

from teamcal.recurrence import RecurrenceError, parse_rrule
from tests.unit.recurrence_helpers import timed, walls

pytestmark = pytest.mark.unit

NY = "America/New_York"


def _first(start: str, rule: str, n: int, end: str = "20100101T0000", **kwargs: object) -> list[str]:
    return walls(timed(start, NY, rule, **kwargs), "19960101T0000", end)[:n]


# (DTSTART, RRULE, expected first wall times) from RFC 5545 §3.8.5.3 "Examples".
RFC_EXAMPLES = [
    (
        "19970902T0900",
        "RRULE:FREQ=DAILY;COUNT=10",
        [f"199709{d:02d}T0900" for d in range(2, 12)],
    ),
    (
        "19970902T0900",
        "FREQ=DAILY;INTERVAL=10;COUNT=5",
        ["19970902T0900", "19970912T0900", "19970922T0900", "19971002T0900", "19971012T0900"],
    ),
    (
        "19970902T0900",
        "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
        [f"199709{d:02d}T0900" for d in (2, 4, 9, 11, 16, 18, 23, 25, 30)] + ["19971002T0900"],
    ),
    (
        "19970905T0900",
        "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
        [
            "19970905T0900",
            "19971003T0900",
            "19971107T0900",
            "19971205T0900",
            "19980102T0900",
            "19980206T0900",
            "19980306T0900",
            "19980403T0900",
            "19980501T0900",
            "19980605T0900",
        ],
    ),
    (
        "19970922T0900",
        "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
        ["19970922T0900", "19971020T0900", "19971117T0900", "19971222T0900", "19980119T0900", "19980216T0900"],
    ),
    (
        "19970928T0900",
        "FREQ=MONTHLY;BYMONTHDAY=-3",
        ["19970928T0900", "19971029T0900", "19971128T0900", "19971229T0900", "19980129T0900", "19980226T0900"],
    ),
    (
        "19970913T0900",
        "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
        ["19970913T0900", "19971011T0900", "19971108T0900", "19971213T0900", "19980110T0900", "19980207T0900"],
    ),
    (
        "19961105T0900",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
        ["19961105T0900", "20001107T0900", "20041102T0900", "20081104T0900"],
    ),
    (
        "19970904T0900",
        "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
        ["19970904T0900", "19971007T0900", "19971106T0900"],
    ),
    (
        "19970929T0900",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
        ["19970929T0900", "19971030T0900", "19971127T0900", "19971230T0900", "19980129T0900", "19980226T0900"],
    ),
    (
        "19970610T0900",
        "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
        [f"{y}0{m}10T0900" for y in range(1997, 2002) for m in (6, 7)],
    ),
    (
        "19970101T0900",
        "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200",
        [
            "19970101T0900",
            "19970410T0900",
            "19970719T0900",
            "20000101T0900",
            "20000409T0900",
            "20000718T0900",
            "20030101T0900",
            "20030410T0900",
            "20030719T0900",
            "20060101T0900",
        ],
    ),
    (
        "19970512T0900",
        "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
        ["19970512T0900", "19980511T0900", "19990517T0900"],
    ),
    (
        "19970902T0900",
        "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T210000Z",
        ["19970902T0900", "19970902T1200", "19970902T1500"],
    ),
    (
        "19970902T0900",
        "FREQ=MINUTELY;INTERVAL=15;COUNT=6",
        ["19970902T0900", "19970902T0915", "19970902T0930", "19970902T0945", "19970902T1000", "19970902T1015"],
    ),
    (
        "19970805T0900",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        ["19970805T0900", "19970810T0900", "19970819T0900", "19970824T0900"],
    ),
    (
        "19970805T0900",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        ["19970805T0900", "19970817T0900", "19970819T0900", "19970831T0900"],
    ),
]


@pytest.mark.parametrize(("start", "rule", "expected"), RFC_EXAMPLES, ids=[r for _, r, _ in RFC_EXAMPLES])
def test_rfc5545_examples(start: str, rule: str, expected: list[str]) -> None:
    # Given an RFC 5545 example series in New York, When expanded over years,
    # Then its first occurrences are exactly the RFC's (09:00 local in EDT and EST alike).
    assert _first(start, rule, len(expected)) == expected


def test_rfc_daily_until_counts_113_occurrences_across_the_dst_end() -> None:
    # Given "daily until December 24, 1997" (RFC 5545), When expanded,
    # Then 113 occurrences, all at 09:00 local though EDT ends on Oct 26.
    found = _first("19970902T0900", "FREQ=DAILY;UNTIL=19971224T000000Z", 500)
    assert len(found) == 113
    assert found[-1] == "19971223T0900"
    assert {w[-4:] for w in found} == {"0900"}


def test_rfc_every_day_in_january_for_3_years() -> None:
    rule = "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA"
    found = _first("19980101T0900", rule, 500)
    assert len(found) == 93
    assert found[0] == "19980101T0900"
    assert found[-1] == "20000131T0900"


def test_rfc_friday_the_13th_with_exdate_of_dtstart() -> None:
    # Given DTSTART excluded by EXDATE (RFC 5545's "every Friday the 13th" example)
    found = _first("19970902T0900", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", 5, exdate=["19970902T090000"])
    assert found == ["19980213T0900", "19980313T0900", "19981113T0900", "19990813T0900", "20001013T0900"]


def test_rfc_every_20_minutes_daily_and_minutely_forms_agree() -> None:
    daily = _first("19970902T0900", "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", 48)
    minutely = _first("19970902T0900", "FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", 48)
    assert daily == minutely
    assert daily[:4] == ["19970902T0900", "19970902T0920", "19970902T0940", "19970902T1000"]
    assert daily[24] == "19970903T0900"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "FREQ=SECONDLY;INTERVAL=20;COUNT=4",
            ["20240101T090000", "20240101T090020", "20240101T090040", "20240101T090100"],
        ),
        ("FREQ=MINUTELY;BYSECOND=0,30;COUNT=3", ["20240101T090000", "20240101T090030", "20240101T090100"]),
        ("FREQ=HOURLY;BYMINUTE=0,45;COUNT=3", ["20240101T090000", "20240101T094500", "20240101T100000"]),
    ],
)
def test_sub_daily_frequencies_and_second_minute_parts(rule: str, expected: list[str]) -> None:
    series = timed("20240101T0900", "Europe/Berlin", rule, minutes=0)
    from teamcal.recurrence import expand
    from tests.unit.recurrence_helpers import ms

    found = expand(series, ms("20240101T0000"), ms("20240102T0000")).occurrences
    assert [o.recurrence_id_full for o in found] == expected


class TestParse:
    def test_prefix_case_and_trailing_semicolon_are_accepted_and_normalised(self) -> None:
        rule = parse_rrule("rrule:freq=weekly;byday=mo,we;interval=2;")
        assert rule.to_ical() == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE"

    def test_every_part_round_trips(self) -> None:
        text = (
            "FREQ=YEARLY;UNTIL=20301231T230000Z;INTERVAL=2;BYSECOND=0;BYMINUTE=0,30;BYHOUR=9;"
            "BYDAY=-1SU,2MO;BYMONTHDAY=1,-1;BYMONTH=3,10;BYSETPOS=1;WKST=SU"
        )
        assert parse_rrule(text).to_ical() == text

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("", "exactly one RRULE"),
            ("BYDAY=MO", "FREQ is required"),
            ("FREQ=FORTNIGHTLY", "FREQ=FORTNIGHTLY is not one of"),
            ("FREQ=DAILY;COUNT=3;UNTIL=20250101", "UNTIL and COUNT"),
            ("FREQ=DAILY;COUNT=0", "COUNT value 0 is out of range"),
            ("FREQ=DAILY;COUNT=100001", "out of range"),
            ("FREQ=DAILY;INTERVAL=-1", "not an integer"),
            ("FREQ=DAILY;BYHOUR=24", "BYHOUR value 24 is out of range"),
            ("FREQ=DAILY;BYMINUTE=60", "BYMINUTE value 60"),
            ("FREQ=DAILY;BYSECOND=60", "BYSECOND value 60"),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY value 0"),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY value 32"),
            ("FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY value 367"),
            ("FREQ=YEARLY;BYWEEKNO=54", "BYWEEKNO value 54"),
            ("FREQ=YEARLY;BYMONTH=13", "BYMONTH value 13"),
            ("FREQ=MONTHLY;BYDAY=XX", "does not end in a weekday"),
            ("FREQ=WEEKLY;BYDAY=2MO", "needs FREQ=MONTHLY or YEARLY"),
            ("FREQ=MONTHLY;BYDAY=6MO", "ordinal is out of range"),
            ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY must not be used with FREQ=WEEKLY"),
            ("FREQ=MONTHLY;BYYEARDAY=1", "BYYEARDAY must not be used"),
            ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO may only be used"),
            ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS must be used together"),
            ("FREQ=DAILY;WKST=XX", "WKST=XX is not a weekday"),
            ("FREQ=DAILY;FREQ=WEEKLY", "occurs more than once"),
            ("FREQ=DAILY;X-FOO=1", "unknown or unsupported rule part"),
            ("FREQ=DAILY;RSCALE=GREGORIAN", "unknown or unsupported"),
            ("FREQ=DAILY;UNTIL=2025-13-01", "is not a valid date"),
            ("FREQ=DAILY;BYHOUR", "is not NAME=VALUE"),
            ("RRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY", "exactly one RRULE"),
        ],
    )
    def test_bad_rules_name_the_field_and_the_part(self, text: str, fragment: str) -> None:
        with pytest.raises(RecurrenceError) as caught:
            parse_rrule(text)
        assert set(caught.value.errors) == {"recurrence"}
        assert fragment in caught.value.errors["recurrence"]

    def test_errors_are_value_errors(self) -> None:
        with pytest.raises(ValueError, match="FREQ"):
            parse_rrule("FREQ=NEVER")
