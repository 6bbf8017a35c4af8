"""The iCalendar writer's one escaping path (RFC 5545 §3.1, §3.2, §3.3.11; RFC 6868) and its
bounded VTIMEZONEs (RFC 5545 §3.6.5).

Regression: issue 16 item 1 — a ``userKeys`` entry holding CR/LF was written raw into ATTENDEE
and added whole VEVENTs (a forged "CANCELLED" copy with a higher SEQUENCE and a VALARM) to the
export and the feed.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teamcal.ical.convert import USER_PARAM
from teamcal.ical.writer import CalendarWriter, UnsafeValueError, content_line, param_value, text, vtimezone

pytestmark = pytest.mark.unit

ATTACK = (
    "alice\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:1@teamcal\r\nSEQUENCE:99\r\nSUMMARY:Board meeting CANCELLED"
    "\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM"
)


def record(rid: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "kind": "single",
        "calendarId": 7,
        "eventTypeConfigId": 2,
        "allDay": False,
        "startDate": 1_767_261_600_000 + rid * 3_600_000,  # 2026-01-01T10:00Z + rid hours
        "endDate": 1_767_265_200_000 + rid * 3_600_000,
        "timeZone": "Europe/Berlin",
        "version": 1,
        "created": 1_767_000_000_000,
        "updated": 1_767_000_000_000,
        **fields,
    }


def parse(calendar_text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(calendar_text)


def test_crlf_in_a_user_key_adds_no_vevent_and_no_valarm() -> None:
    # Given an event whose userKeys entry carries the attack of issue 16
    events = [record(1, summary="Board meeting", userKeys=[ATTACK, "bob"])]
    # When it is exported
    out = CalendarWriter("Team").write(events, horizon_year=2027)
    # Then there is one VEVENT, no VALARM, and the key comes back whole
    lines = out.replace("\r\n ", "").split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1
    assert [line for line in lines if line.startswith("UID:")] == ["UID:1@teamcal"]
    assert not [line for line in lines if line.startswith(("BEGIN:VALARM", "SEQUENCE:99"))]
    (vevent,) = parse(out).walk("VEVENT")
    assert [str(a.params[USER_PARAM]) for a in vevent["ATTENDEE"]] == [ATTACK.replace("\r\n", "\n"), "bob"]
    assert int(vevent["SEQUENCE"]) == 0
    assert not parse(out).walk("VALARM")


@pytest.mark.parametrize("bad", ["\x00", "\x0b", "\x1b", "\x7f", "\x85", "\ud800"])
def test_a_value_with_a_control_character_is_refused_not_passed_through(bad: str) -> None:
    with pytest.raises(UnsafeValueError):
        text(f"a{bad}b")
    with pytest.raises(UnsafeValueError):
        param_value(f"a{bad}b")
    with pytest.raises(UnsafeValueError):
        content_line("X-A", f"a{bad}b")
    # and the writer leaves the event out instead of writing it or failing the export
    writer = CalendarWriter("Team")
    out = writer.write([record(1, summary=f"x{bad}y"), record(2, summary="fine")], horizon_year=2027)
    assert writer.refused == [1]
    assert [str(e["SUMMARY"]) for e in parse(out).walk("VEVENT")] == ["fine"]


def test_content_line_refuses_line_breaks_and_bad_names() -> None:
    for value, name in (("a\r\nb", "X-A"), ("a\nb", "X-A"), ("a", "X-A\r\nB"), ("a", "X;A")):
        with pytest.raises(UnsafeValueError):
            content_line(name, value)
    with pytest.raises(UnsafeValueError):
        content_line("X-A", "a", (("CN\n", "x"),))


def test_parameter_values_use_rfc_6868_and_quotes() -> None:
    assert param_value("plain") == "plain"
    assert param_value('a"b') == '"a^\'b"'
    assert param_value("a^b") == '"a^^b"'
    assert param_value("l1\r\nl2\nl3") == '"l1^nl2^nl3"'
    assert param_value("a:b;c,d") == '"a:b;c,d"'


# ---------------------------------------------------------------------------- property test
NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\t",
    ";",
    ":",
    ",",
    '"',
    "^",
    "^n",
    "^'",
    "\\",
    "\\n",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\u2028",
    "\ud800",
    "\U0001f600",
    "BEGIN:VEVENT",
    "END:VCALENDAR",
    " ",
    "é" * 40,
]
pieces = st.one_of(st.text(max_size=30), st.sampled_from(NASTY), st.text(min_size=60, max_size=200))
texts = st.lists(pieces, max_size=6).map("".join)
keys = texts.filter(bool)


def unsafe(value: str) -> bool:
    """Independent of the writer: a control character other than HTAB/CR/LF, or a surrogate."""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\r\n" for c in value)


def unescape_text(value: str) -> str:
    """RFC 5545 §3.3.11, read independently of the writer."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def breaks(value: str) -> str:
    return re.sub("\r\n|\r", "\n", value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
@given(
    name=texts,
    color=st.one_of(texts, st.sampled_from(["#7500ca", "#ABCDEF"])),
    events=st.lists(
        st.fixed_dictionaries(
            {"summary": texts, "description": texts, "userKeys": st.lists(keys, max_size=4), "uid": texts}
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_arbitrary_unicode_exports_and_parses_back_to_the_same_events_and_nothing_more(
    name: str, color: str, events: list[dict[str, Any]]
) -> None:
    # Given events whose every writable field holds arbitrary text
    records = []
    for i, fields in enumerate(events, start=1):
        external = {"ns": "ics", "key": fields["uid"]} if fields["uid"] else None
        records.append(
            record(
                i,
                summary=fields["summary"],
                description=fields["description"],
                userKeys=fields["userKeys"],
                external=external,
            )
        )
    # When they are exported
    writer = CalendarWriter(name, {2: color})
    out = writer.write(records, horizon_year=2027)
    calendar = parse(out)

    # Then exactly the events that hold no unsafe value are written, and nothing else
    def writable(fields: dict[str, Any]) -> bool:
        values = [fields["summary"], fields["description"], fields["uid"], *fields["userKeys"]]
        return not any(unsafe(v) for v in values)

    expected = [(i, f) for i, f in enumerate(events, start=1) if writable(f)]
    assert sorted(writer.refused) == [i for i, f in enumerate(events, start=1) if not writable(f)]
    assert {c.name for c in calendar.walk()} <= {"VCALENDAR", "VEVENT", "VTIMEZONE", "STANDARD", "DAYLIGHT"}
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == len(expected)
    for vevent, (i, fields) in zip(vevents, expected, strict=True):
        assert str(vevent["UID"]) == (breaks(fields["uid"]) if fields["uid"] else f"{i}@teamcal")
        assert str(vevent.get("SUMMARY", "")) == breaks(fields["summary"])
        assert str(vevent.get("DESCRIPTION", "")) == breaks(fields["description"])
        attendees = vevent.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a.params[USER_PARAM]) for a in attendees] == [breaks(k) for k in fields["userKeys"]]
        assert str(vevent.get("X-COLOR", "")) == (color if re.fullmatch("#[0-9a-fA-F]{6}", color) else "")
    # X-WR-CALNAME is TEXT for the clients that read it; icalendar keeps X- values raw
    written_name = unescape_text(str(calendar.get("X-WR-CALNAME", "")))
    assert written_name == ("" if unsafe(name) else breaks(name))


# ---------------------------------------------------------------------------- VTIMEZONE
@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Africa/Casablanca", "Asia/Kolkata"]
)
def test_vtimezone_offsets_match_the_tz_database_in_the_years_written(zone: str) -> None:
    # Given a VTIMEZONE for two separate runs of years
    years = (1899, 1900, 2025, 2026, 2027)
    component = icalendar.Timezone.from_ical(f"BEGIN:VCALENDAR\r\n{vtimezone(zone, years)}\r\nEND:VCALENDAR\r\n").walk(
        "VTIMEZONE"
    )[0]
    tz = component.to_tz()
    truth = ZoneInfo(zone)
    # Then a client reading it gets the tz database's offset at every instant of those years
    for year in (1900, 2025, 2026, 2027):
        instant = dt.datetime(year, 1, 1, 0, 30, tzinfo=dt.UTC)
        while instant.year == year:
            assert instant.astimezone(tz).utcoffset() == instant.astimezone(truth).utcoffset(), (zone, instant)
            instant += dt.timedelta(hours=7, minutes=13)


def test_far_apart_years_cost_only_their_own_transitions() -> None:
    # Given 60 events in 30 DST zones, in the years 1800 and 8999 (issue 16 item 4: 15.5 s, 4.5 MB)
    zones = sorted(_dst_zones())[:30]
    events = []
    for i, zone in enumerate(zones):
        for j, year in enumerate((1800, 8999)):
            start = int(dt.datetime(year, 6, 1, 12, tzinfo=dt.UTC).timestamp() * 1000)
            events.append(record(2 * i + j + 1, timeZone=zone, startDate=start, endDate=start + 3_600_000))
    began = time.perf_counter()
    out = CalendarWriter("Team").write(events, horizon_year=2036)
    elapsed = time.perf_counter() - began
    # Then the export is small and quick
    assert out.count("BEGIN:VTIMEZONE") == 30
    assert len(out.encode()) < 200_000
    assert elapsed < 3.0


def _dst_zones() -> set[str]:
    return {
        "Europe/Berlin",
        "Europe/London",
        "Europe/Paris",
        "Europe/Madrid",
        "Europe/Rome",
        "Europe/Vienna",
        "Europe/Prague",
        "Europe/Warsaw",
        "Europe/Athens",
        "Europe/Helsinki",
        "Europe/Kyiv",
        "Europe/Lisbon",
        "Europe/Dublin",
        "Europe/Oslo",
        "Europe/Stockholm",
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Halifax",
        "America/St_Johns",
        "America/Anchorage",
        "America/Havana",
        "America/Santiago",
        "America/Asuncion",
        "Australia/Sydney",
        "Australia/Adelaide",
        "Australia/Lord_Howe",
        "Pacific/Auckland",
        "Pacific/Chatham",
    }


@pytest.mark.parametrize("key", ["\t", " ", " x", "x\t", "\t\t"])
def test_a_user_key_with_white_space_at_its_edges_is_written_quoted_and_read_back_whole(key: str) -> None:
    # Given a user key that begins or ends with white space (the property test found "\t" read back as "")
    writer = CalendarWriter("n", {2: "#7500ca"})
    # When it is exported
    vevent = parse(writer.write([record(1, userKeys=[key])], horizon_year=2027)).walk("VEVENT")[0]
    # Then a parser reads the key back unchanged
    assert str(vevent["ATTENDEE"].params[USER_PARAM]) == key
