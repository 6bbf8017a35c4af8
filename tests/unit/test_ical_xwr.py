"""teamcal.ical.xwr against x-wr-timezone itself (a development dependency only): the same values
come out for every kind of property value the importer meets."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import x_wr_timezone

from teamcal.ical import xwr

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
EVENT = """BEGIN:VCALENDAR\r
BEGIN:VEVENT\r
UID:x\r
DTSTART:{start}\r
{end}RDATE:20260302T080000Z,20260303T080000Z\r
EXDATE:20260310T080000\r
EXDATE;VALUE=DATE:20260311\r
RECURRENCE-ID:20260317T080000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("20260301T080000Z", "DTEND:20260301T090000Z\r\n"),  # UTC: same instant, Berlin time
        ("20260301T080000", "DTEND:20260301T090000\r\n"),  # floating: that wall time in Berlin
        ("20260301", "DTEND;VALUE=DATE:20260302\r\n"),  # dates stay dates
        ("20260301T080000Z", ""),
    ],
)
def test_the_same_values_as_x_wr_timezone(start: str, end: str) -> None:
    event = icalendar.Calendar.from_ical(EVENT.format(start=start, end=end)).walk("VEVENT")[0]
    theirs = x_wr_timezone.UTCChangingWalker(BERLIN)
    assert tuple(theirs.VALUE_ATTRIBUTES) == xwr.DATE_TIME_PROPERTIES
    for name in xwr.DATE_TIME_PROPERTIES:
        value = event.get(name)
        if value is None:
            continue
        ours, expected = xwr.to_zone(value, BERLIN), theirs.walk_value(value)
        assert (ours is value) == (expected is value), name
        assert icalendar.Event({name: ours}).to_ical() == icalendar.Event({name: expected}).to_ical(), name


def test_utc_moves_floating_gets_the_zone_and_other_zones_stay() -> None:
    utc = dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)
    assert xwr.to_zone(utc, BERLIN) == utc
    assert xwr.to_zone(utc, BERLIN).tzinfo is BERLIN
    assert xwr.to_zone(dt.datetime(2026, 7, 1, 9, 0), BERLIN) == dt.datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN)
    tokyo = dt.datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert xwr.to_zone(tokyo, BERLIN) is tokyo
    day = dt.date(2026, 7, 1)
    assert xwr.to_zone(day, BERLIN) is day
