"""The pure iCalendar package (no I/O): the reader's file checks, TZID resolution, VEVENT
conversion (time rules of RFC 5545) and the writer's escaping, folding and UNTIL forms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import icalendar
import pytest

from devstack.template import Template
from teamcal.ical import reader
from teamcal.ical.convert import Context, VEventData, generated_uid, parse_vevent, to_data
from teamcal.ical.errors import IcsFileError, VEventError, VEventSkipped
from teamcal.ical.writer import CalendarWriter, escape_text, fold
from teamcal.ical.zones import ZoneResolver, display_name_zone, named_zone

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
BERLIN_RULES = (
    "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n"
)


def vtimezone(tzid: str, rules: str = BERLIN_RULES) -> str:
    return f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n{rules}END:VTIMEZONE\r\n"


def convert(body: str, *, zone: str = "UTC", timezones: tuple[str, ...] = (), x_wr: str | None = None) -> VEventData:
    text = f"BEGIN:VEVENT\r\nUID:u@test\r\n{body}END:VEVENT\r\n"
    return to_data(parse_vevent(text), 0, text, Context(zone, ZoneResolver(timezones), x_wr))


# ---------------------------------------------------------------------------- reader
def test_reader_indexes_vevents_with_uid_and_recurrence_id_across_folded_lines() -> None:
    text = (
        "\ufeffBEGIN:VCALENDAR\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
        "BEGIN:VEVENT\r\nUID:a-very-long-\r\n uid\r\nDTSTART:20260101\r\nBEGIN:VALARM\r\nUID:alarm\r\n"
        "END:VALARM\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nEND:VTODO\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nRECURRENCE-ID;VALUE=DATE:20260108\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    doc = reader.read(text.encode())
    assert doc.properties["X-WR-TIMEZONE"] == "Europe/Berlin"
    assert [(e.uid, e.recurrence_id) for e in doc.events] == [("a-very-long-uid", None), ("b", ";VALUE=DATE:20260108")]
    assert doc.ignored == {"VTODO": 1}
    assert doc.vevent_text(doc.events[1]).startswith("BEGIN:VEVENT\r\nUID:b\r\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00gzip", "gzip"),
        (b"BEGIN:VCALENDAR\x00\x01", "binary"),
        (b"<!DOCTYPE html><html>", "HTML"),
        (b"BEGIN:VCARD\r\nEND:VCARD\r\n", "must start with BEGIN:VCALENDAR"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "truncated"),
        (b"BEGIN:VCALENDAR\r\nEND:VEVENT\r\n", "does not close"),
    ],
)
def test_reader_refuses_unusable_files_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(IcsFileError, match=message):
        reader.read(data)


def test_reader_caps_the_number_of_events() -> None:
    text = "BEGIN:VCALENDAR\r\n" + "BEGIN:VEVENT\r\nEND:VEVENT\r\n" * 3 + "END:VCALENDAR\r\n"
    with pytest.raises(IcsFileError, match="more than 2 events"):
        reader.read(text, max_events=2)


def test_reader_accepts_utf16_and_windows_1252_with_a_warning() -> None:
    text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Café\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert reader.read(text.encode("utf-16")).warnings == ["the file is UTF-16; it was read as such"]
    assert "Windows-1252" in reader.read(text.encode("cp1252")).warnings[0]


# ---------------------------------------------------------------------------- zones
@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ('"UTC"', "UTC"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time", "America/New_York"),
        ("/freeassociation.sourceforge.net/Tzfile/Europe/London", "Europe/London"),
        ("/mozilla.org/20050126_1/America/New_York", "America/New_York"),
        ("custom_Pacific/Fiji", "Pacific/Fiji"),
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
    ],
)
def test_named_zones(tzid: str, zone: str | None) -> None:
    assert named_zone(tzid) == zone


def test_custom_vtimezones_map_to_the_iana_zone_with_the_same_offsets() -> None:
    us_eastern = (
        "BEGIN:STANDARD\r\nDTSTART:16011104T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n"
        "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010311T020000\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\n"
    )
    fixed = "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\n"
    resolver = ZoneResolver(
        [
            vtimezone("Customized Time Zone", us_eastern),
            vtimezone("(UTC+01:00) Amsterdam, Berlin, Bern, Rome", BERLIN_RULES),
            vtimezone("Office", fixed),
        ]
    )
    assert resolver.resolve("Customized Time Zone") == "America/New_York"
    assert resolver.resolve("(UTC+01:00) Amsterdam, Berlin, Bern, Rome") == "Europe/Amsterdam"
    assert resolver.resolve("Office") == "Asia/Riyadh"  # UTC+3 all year, the CLDR zone of "Arab Standard Time"
    assert resolver.resolve("Not Defined") is None


# ---------------------------------------------------------------------------- convert
def test_all_day_dtend_is_exclusive_and_becomes_an_inclusive_all_day_end() -> None:
    data = convert("DTSTART;VALUE=DATE:20260305\r\nDTEND;VALUE=DATE:20260308\r\n", zone="Europe/Berlin")
    assert (data.fields["allDay"], data.fields["allDayStart"], data.fields["allDayEnd"]) == (
        True,
        "2026-03-05",
        "2026-03-07",
    )
    assert data.fields["timeZone"] == "Europe/Berlin"
    one = convert("DTSTART;VALUE=DATE:20260305\r\n")
    assert (one.fields["allDayStart"], one.fields["allDayEnd"]) == ("2026-03-05", "2026-03-05")


def test_zoned_utc_floating_and_x_wr_timezone_times() -> None:
    zoned = convert("DTSTART;TZID=Europe/Berlin:20260705T100000\r\nDURATION:PT90M\r\n")
    assert zoned.fields["timeZone"] == "Europe/Berlin"
    assert zoned.fields["startDate"] == 1783238400000  # 08:00 UTC in summer
    assert zoned.fields["endDate"] - zoned.fields["startDate"] == 90 * 60_000
    floating = convert("DTSTART:20260705T100000\r\n", zone="America/New_York")
    assert (floating.fields["timeZone"], floating.fields["endDate"]) == ("America/New_York", 1783260000000)
    google = convert("DTSTART:20260705T080000Z\r\nRRULE:FREQ=DAILY\r\n", x_wr="Europe/Berlin")
    assert (google.fields["timeZone"], google.fields["startDate"]) == ("Europe/Berlin", 1783238400000)


def test_exdate_and_recurrence_id_become_teamcal_recurrence_ids() -> None:
    data = convert(
        "DTSTART;TZID=Europe/Berlin:20260302T090000\r\nRRULE:FREQ=WEEKLY\r\n"
        "EXDATE;TZID=Europe/Berlin:20260309T090000\r\nEXDATE:20260316T080000Z\r\nEXDATE;VALUE=DATE:20260323\r\n"
    )
    assert data.fields["exdate"] == ["20260309T090000", "20260316T080000Z", "20260323"]
    child = convert("RECURRENCE-ID;TZID=W. Europe Standard Time:20260309T090000\r\nDTSTART:20260310T080000Z\r\n")
    assert child.recurrence_id is not None
    assert (child.recurrence_id.kind, child.recurrence_id.zone) == ("zoned", "Europe/Berlin")


def test_attendees_written_by_teamcal_become_user_keys_others_do_not() -> None:
    data = convert(
        "DTSTART:20260305T100000Z\r\nATTENDEE;CN=ann;X-TEAMCAL-USER=ann:urn:x-teamcal:user:ann\r\n"
        "ATTENDEE:urn:x-teamcal:user:bob\r\nATTENDEE;CN=Eve:mailto:eve@example.com\r\n"
    )
    assert data.fields["userKeys"] == ["ann", "bob"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("SUMMARY:x\r\n", "no DTSTART"),
        ("DTSTART:20260305T100000Z\r\nRRULE:FREQ=DAILY;COUNT=99999\r\n", "COUNT 99999 is too large"),
        ("DTSTART:2026\r\n", "invalid DTSTART"),
    ],
)
def test_unusable_vevents_are_refused_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(VEventError, match=reason):
        convert(body)


def test_sequence_then_last_modified_decides_what_is_newer() -> None:
    data = convert("DTSTART:20260305T100000Z\r\nSEQUENCE:2\r\nLAST-MODIFIED:20260301T000000Z\r\n")
    assert data.is_newer_than(1, None)
    assert not data.is_newer_than(3, None)
    assert data.is_newer_than(2, data.last_modified - 1)  # type: ignore[operator]
    assert not data.is_newer_than(2, data.last_modified)


def test_generated_uid_ignores_dtstamp() -> None:
    a = "BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260305\r\nEND:VEVENT\r\n"
    assert (
        generated_uid(a) == generated_uid(a.replace("20260101", "20270101")) != generated_uid(a.replace("0305", "0306"))
    )


# ---------------------------------------------------------------------------- writer
def test_text_escaping_and_folding_at_75_octets() -> None:
    assert escape_text("a\\b;c,d\r\ne\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    line = "SUMMARY:" + "é" * 60
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def _record(**fields: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "kind": "master",
        "calendarId": 1,
        "eventTypeConfigId": 2,
        "summary": "s",
        "version": 3,
        "created": 0,
        "updated": 0,
        "timeZone": "Europe/Berlin",
        "allDay": False,
        "startDate": 1772438400000,  # 2026-03-02 09:00 Berlin
        "endDate": 1772442000000,
    }
    return {**base, **fields}


def test_writer_puts_until_in_utc_for_timed_and_as_a_date_for_all_day_series() -> None:
    timed = _record(recurrence="FREQ=DAILY;UNTIL=20260310T090000")
    all_day = _record(
        id=8, allDay=True, allDayStart="2026-03-02", allDayEnd="2026-03-02", recurrence="FREQ=DAILY;UNTIL=20260310"
    )
    text = CalendarWriter("c", {2: "#123456"}).write([timed, all_day], horizon_year=2030)
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}
    assert events["7@teamcal"]["RRULE"].to_ical() == b"FREQ=DAILY;UNTIL=20260310T080000Z"
    assert events["8@teamcal"]["RRULE"].to_ical() == b"FREQ=DAILY;UNTIL=20260310"
    assert str(events["7@teamcal"]["SEQUENCE"]) == "2"
    assert str(events["8@teamcal"]["X-COLOR"]) == "#123456"
    assert icalendar.Calendar.from_ical(text).get_missing_tzids() == set()


def test_writer_keeps_an_imported_uid_and_sequence() -> None:
    record = _record(external={"ns": "ics", "key": "abc@google.com"}, sequence=5)
    event = next(
        iter(icalendar.Calendar.from_ical(CalendarWriter("c").write([record], horizon_year=2030)).walk("VEVENT"))
    )
    assert (str(event["UID"]), int(event["SEQUENCE"])) == ("abc@google.com", 5)


# ---------------------------------------------------------------------------- cold start
def test_only_the_ical_function_imports_icalendar() -> None:
    # Given every function module but ical, imported in a fresh interpreter with its environment
    tpl = Template.from_file(stack="coldstart")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(AWS_DEFAULT_REGION="us-east-1", PYTHONPATH=str(ROOT), POWERTOOLS_TRACE_DISABLED="true")
    modules = []
    for logical_id, _ in tpl.of_type("AWS::Serverless::Function"):
        module = tpl.function_module(logical_id)
        if module != "functions.ical.app":
            env.update(tpl.function_environment(logical_id))
            modules.append(module)
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('icalendar', 'x_wr_timezone', 'teamcal')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    # Then none of them loaded icalendar, x-wr-timezone or teamcal.ical
    loaded = out.stdout
    assert "teamcal.api" in loaded
    assert "'icalendar" not in loaded
    assert "x_wr_timezone" not in loaded
    assert "teamcal.ical" not in loaded


# ---------------------------------------------------------------------------- leniency (issue 14)
def test_swapped_dtstart_and_dtend_are_swapped_with_a_warning() -> None:
    # recurring-ical-events reads issue_132_swapped_start_and_end.ics this way
    data = convert("DTSTART:20260305T100000Z\r\nDTEND:20260305T090000Z\r\n")
    assert data.fields["endDate"] - data.fields["startDate"] == 3_600_000
    assert data.fields["startDate"] == 1772701200000  # 09:00 UTC
    assert data.warnings == ["DTEND is before DTSTART: the two were swapped"]
    day = convert("DTSTART;VALUE=DATE:20260310\r\nDTEND;VALUE=DATE:20260305\r\n")
    assert (day.fields["allDayStart"], day.fields["allDayEnd"]) == ("2026-03-05", "2026-03-09")


def test_mixed_date_and_date_time_become_timed_at_midnight_in_the_other_zone() -> None:
    # issue_201_mixed_datetime_and_date.ics: DATE start, UTC end
    data = convert("DTSTART;VALUE=DATE:20230724\r\nDTEND:20230817T000000Z\r\n", zone="Europe/Berlin")
    assert (data.fields["allDay"], data.fields["timeZone"]) == (False, "UTC")
    assert (data.fields["startDate"], data.fields["endDate"]) == (1690156800000, 1692230400000)
    assert "midnight" in data.warnings[0]
    other = convert("DTSTART;TZID=Europe/Berlin:20230724T100000\r\nDTEND;VALUE=DATE:20230725\r\n")
    assert other.fields["endDate"] == 1690236000000  # 2023-07-25 00:00 Berlin


def test_unknown_tzid_is_floating_in_the_calendar_zone_with_a_warning() -> None:
    data = convert("DTSTART;TZID=Western/Central Europe:20260305T100000\r\n", zone="Europe/Berlin")
    assert (data.fields["timeZone"], data.fields["startDate"]) == ("Europe/Berlin", 1772701200000)
    assert data.warnings == [
        "unknown TZID 'Western/Central Europe' (no VTIMEZONE defines it): "
        "its times were read in the calendar's zone Europe/Berlin"
    ]


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("(UTC-03:00) Brasília", "America/Sao_Paulo"),
        ("(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Amsterdam"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
        ("(UTC+02:00) Nowhere", "Etc/GMT-2"),
        ("(UTC+05:45) Nowhere", None),
        ("Western/Central Europe", None),
        ("CUSTOM_tzid", None),
    ],
)
def test_outlook_display_names_by_offset_and_city(tzid: str, zone: str | None) -> None:
    assert display_name_zone(tzid) == zone
    assert ZoneResolver().resolve(tzid) == zone


def test_rrule_whitespace_lower_case_and_empty_items_are_read_as_meant() -> None:
    data = convert("DTSTART:20260303T100000Z\r\nRRULE:freq=weekly; BYDAY= TU,;COUNT=3\r\n")
    assert data.fields["recurrence"] == "FREQ=WEEKLY;COUNT=3;BYDAY=TU"
    assert any("was read as" in w for w in data.warnings)


def test_count_that_is_not_positive_is_dropped_and_until_still_ends_the_rule() -> None:
    # issue_128_only_first_event.ics
    data = convert("DTSTART;VALUE=DATE:20231002\r\nRRULE:FREQ=WEEKLY;UNTIL=20240331;COUNT=-1;BYDAY=MO\r\n")
    assert data.fields["recurrence"] == "FREQ=WEEKLY;UNTIL=20240331;BYDAY=MO"
    assert data.warnings == ["RRULE COUNT=-1 is not a positive number: ignored"]


def test_several_rrules_identical_count_once_different_ones_are_extra_rules() -> None:
    same = convert("DTSTART:20260305T100000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nRRULE:FREQ=DAILY;COUNT=2\r\n")
    assert (same.fields["recurrence"], same.extra_rules) == ("FREQ=DAILY;COUNT=2", [])
    both = convert("DTSTART:20260305T100000Z\r\nRRULE:FREQ=DAILY\r\nRRULE:FREQ=MONTHLY;BYDAY=2MO\r\n")
    assert (both.fields["recurrence"], both.extra_rules) == ("FREQ=DAILY", ["FREQ=MONTHLY;BYDAY=2MO"])
    assert any("2 different RRULEs" in w for w in both.warnings)


def test_until_before_dtstart_has_no_occurrence_and_is_skipped() -> None:
    # issue_117_until_before_dtstart.ics: recurring-ical-events returns nothing
    with pytest.raises(VEventSkipped, match="UNTIL is before DTSTART"):
        convert("DTSTART;VALUE=DATE:20231002\r\nRRULE:FREQ=WEEKLY;UNTIL=20231001;BYDAY=MO\r\n")
    with pytest.raises(VEventSkipped):
        convert("DTSTART:20260305T100000Z\r\nRRULE:FREQ=DAILY;UNTIL=20260305T095959Z\r\n")
    kept = convert("DTSTART:20260305T100000Z\r\nRRULE:FREQ=DAILY;UNTIL=20260305T100000Z\r\n")
    assert kept.fields["recurrence"] == "FREQ=DAILY;UNTIL=20260305T100000Z"


def test_rdate_periods_that_last_otherwise_are_kept_with_their_times() -> None:
    data = convert(
        "DTSTART:20240912T120000Z\r\nDTEND:20240912T130000Z\r\n"
        "RDATE;VALUE=PERIOD:20240913T120000Z/PT2H,20240914T120000Z/20240914T130000Z\r\n"
    )
    assert data.fields["rdate"] == ["20240913T120000Z", "20240914T120000Z"]
    assert data.periods == [("20240913T120000Z", 1726228800000, 1726236000000)]
    assert data.warnings == []


def test_thisandfuture_is_kept_for_the_importer() -> None:
    data = convert("RECURRENCE-ID;RANGE=THISANDFUTURE:20260305T110000Z\r\nDTSTART:20260305T120000Z\r\n")
    assert data.this_and_future


def test_reader_skips_damaged_components_that_are_not_vevents() -> None:
    # issue_201_test_matrix.ics closes VTODOs with END:VTOOD
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTOOD\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALRM\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    doc = reader.read(text)
    assert [e.uid for e in doc.events] == ["a", "b"]
    assert doc.warnings == [
        "Line 2: a damaged VTODO was skipped (line 4: END:VTOOD does not close it)",
        "Line 7: a damaged VALARM was skipped (line 9: END:VALRM does not close it)",
    ]
    assert doc.vevent_text(doc.events[0]) == "BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"
    with pytest.raises(IcsFileError, match="does not close"):
        reader.read("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVNT\r\nEND:VCALENDAR\r\n")


def test_reader_reads_a_mistyped_end_and_ignores_content_after_the_calendar() -> None:
    # icalendar's timezone_same_start_and_offset.ics and issue_350.ics
    doc = reader.read("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDARD\r\nX-COMMENT:c\r\n")
    assert [e.uid for e in doc.events] == ["a"]
    assert doc.warnings == [
        "Line 5: END:VCALENDARD was read as END:VCALENDAR",
        "Line 6: content after END:VCALENDAR was ignored",
    ]
    with pytest.raises(IcsFileError, match="does not close"):
        reader.read("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDARD\r\n")
