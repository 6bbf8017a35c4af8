"""POST /calendar/{id}/import and GET /import/{jobId} in-process against moto: the big providers'
export shapes, idempotency by UID, duplicates, and every kind of bad input (400, never 500)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.ccj import ROOT, assert_jira_error, call, new_source, token
from tests.integration.ical import fixture, ical, import_ics, moto_resources, search, zoned_calendar

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto for the module (each test creates its own calendar)."""
    with moto_resources():
        yield


BERLIN = ZoneInfo("Europe/Berlin")


def wall(ms: int, zone: str) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def by_summary(values: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for v in values:
        out.setdefault(str(v["summary"]), []).append(v)
    return out


def vevent(uid: str, body: str) -> str:
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n{body}END:VEVENT\r\n"


def calendar_of(*vevents: str, head: str = "") -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + head + "".join(vevents) + "END:VCALENDAR\r\n"


SIMPLE = vevent("simple@test", "DTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\nSUMMARY:Simple\r\n")


# ---------------------------------------------------------------------------- provider shapes
def test_google_export_keeps_wall_time_across_dst_moves_and_cancels_occurrences(aws: None, lambda_context: Any) -> None:
    # Given a Berlin calendar and Google's export (UTC times + X-WR-TIMEZONE)
    cal = zoned_calendar(lambda_context)
    # When it is imported
    job = import_ics(lambda_context, cal["id"], fixture("google.ics"))
    # Then every VEVENT was taken and the job says so
    assert (job["status"], job["total"], job["processed"], job["failed"]) == ("SUCCEEDED", 5, 5, 0)
    found = by_summary(search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"))
    weekly = [wall(v["startDate"], "Europe/Berlin") for v in found["Weekly sync"]]
    # the series stays at 09:00 Berlin after the change to summer time (29 March) ...
    assert weekly == [
        "2026-03-02 09:00",
        "2026-03-09 09:00",
        "2026-03-30 09:00",
        "2026-04-06 09:00",
        "2026-04-13 09:00",
        "2026-04-20 09:00",
        "2026-04-27 09:00",
    ]
    assert {v["timeZone"] for v in found["Weekly sync"]} == {"Europe/Berlin"}
    # ... the 16 March occurrence moved to Tuesday 13:00, the cancelled 23 March one is gone
    assert [wall(v["startDate"], "Europe/Berlin") for v in found["Weekly sync (moved to Tuesday)"]] == [
        "2026-03-17 13:00"
    ]
    # and the two-day all-day event keeps its dates (DTEND exclusive → allDayEnd inclusive)
    assert [(v["allDayStart"], v["allDayEnd"]) for v in found["Offsite"]] == [("2026-03-05", "2026-03-06")]
    assert found["Call with New York"][0]["timeZone"] == "America/New_York"
    assert found["Weekly sync"][0]["description"] == "Agenda in the doc, as usual.\nBring coffee."


def test_outlook_windows_and_customized_zones_become_iana_zones(aws: None, lambda_context: Any) -> None:
    # Given Outlook's export: Windows zone names and a "Customized Time Zone" definition
    cal = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, cal["id"], fixture("outlook.ics"))
    assert job["status"] == "SUCCEEDED", job
    found = by_summary(search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"))
    # Then W. Europe Standard Time is Europe/Berlin, with its EXDATE applied (6 Wednesdays - 1)
    planning = found["Planning"]
    assert {v["timeZone"] for v in planning} == {"Europe/Berlin"}
    assert [wall(v["startDate"], "Europe/Berlin")[:10] for v in planning] == [
        "2026-03-04",
        "2026-03-11",
        "2026-03-25",
        "2026-04-01",
        "2026-04-08",
    ]
    assert {wall(v["startDate"], "Europe/Berlin")[11:] for v in planning} == {"10:00"}
    # and the customized zone is recognised by its rules as New York (US DST began 8 March)
    standup = found["Standup (New York office)"]
    assert {v["timeZone"] for v in standup} == {"America/New_York"}
    assert [wall(v["startDate"], "America/New_York") for v in standup] == [
        "2026-03-09 09:00",
        "2026-03-10 09:00",
        "2026-03-11 09:00",
    ]
    assert [(v["allDayStart"], v["allDayEnd"]) for v in found["Public holiday"]] == [("2026-03-10", "2026-03-10")]


def test_apple_export_floating_time_takes_the_calendar_zone(aws: None, lambda_context: Any) -> None:
    # Given an iCloud export imported into a calendar in Europe/Berlin
    cal = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, cal["id"], fixture("apple.ics"))
    assert job["status"] == "SUCCEEDED", job
    found = by_summary(search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"))
    # Then the floating lunch is 12:00 in the calendar's zone
    assert [wall(v["startDate"], "Europe/Berlin") for v in found["Lunch (floating time)"]] == ["2026-03-09 12:00"]
    assert found["Lunch (floating time)"][0]["timeZone"] == "Europe/Berlin"
    # the daily run stays at 10:00 New York across the US change, UNTIL (UTC) included
    runs = [wall(v["startDate"], "America/New_York") for v in found["Morning run"]]
    assert runs == [f"2026-03-{d:02d} 10:00" for d in range(6, 11)]
    # and the yearly birthday is an all-day occurrence on 12 March
    assert [(v["allDayStart"], v["allDayEnd"]) for v in found["Birthday"]] == [("2026-03-12", "2026-03-12")]


def test_thunderbird_vendor_prefixed_tzid_and_moved_occurrence(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, cal["id"], fixture("thunderbird.ics"))
    assert job["status"] == "SUCCEEDED", job
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    # Then the zone is Europe/London and the April occurrence is a week later
    assert {v["timeZone"] for v in found} == {"Europe/London"}
    assert [(v["summary"], wall(v["startDate"], "Europe/London")) for v in found] == [
        ("Book club", "2026-03-05 19:00"),
        ("Book club (a week later)", "2026-04-09 19:00"),
    ]


def test_ccj_moved_occurrence_written_before_its_series(aws: None, lambda_context: Any) -> None:
    # Given CCJ's export: a moved all-day occurrence as a second VEVENT (before the series here)
    cal = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, cal["id"], fixture("ccj.ics"))
    assert (job["status"], job["created"]) == ("SUCCEEDED", 4), job
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    duty = [(v["summary"], v["allDayStart"]) for v in found if v["summary"].startswith("On duty")]
    # Then the 16 March Monday is replaced by the Tuesday, once
    assert duty == [
        ("On duty", "2026-03-02"),
        ("On duty", "2026-03-09"),
        ("On duty (moved)", "2026-03-17"),
        ("On duty", "2026-03-23"),
        ("On duty", "2026-03-30"),
    ]
    moved = next(v for v in found if v["summary"] == "On duty (moved)")
    assert moved["recurrenceId"] == "20260316"
    assert moved["parentId"] == next(v for v in found if v["summary"] == "On duty")["id"]


# ---------------------------------------------------------------------------- idempotency
def test_importing_the_same_file_twice_creates_nothing_new(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    first = import_ics(lambda_context, cal["id"], fixture("google.ics"))
    before = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    # When the same file comes again
    second = import_ics(lambda_context, cal["id"], fixture("google.ics"))
    # Then everything is skipped and the calendar is unchanged
    assert first["created"] == 4
    assert (second["created"], second["updated"], second["skipped"], second["failed"]) == (0, 0, 5, 0)
    assert search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z") == before


def test_newer_sequence_or_last_modified_updates_older_is_skipped(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)

    def one(summary: str, extra: str) -> str:
        return calendar_of(
            vevent("rev@test", f"DTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\nSUMMARY:{summary}\r\n{extra}")
        )

    import_ics(lambda_context, cal["id"], one("v1", "SEQUENCE:1\r\nLAST-MODIFIED:20260301T000000Z\r\n"))
    # When an older SEQUENCE arrives it is skipped; a newer LAST-MODIFIED with the same SEQUENCE updates
    older = import_ics(lambda_context, cal["id"], one("v0", "SEQUENCE:0\r\nLAST-MODIFIED:20260310T000000Z\r\n"))
    newer = import_ics(lambda_context, cal["id"], one("v2", "SEQUENCE:1\r\nLAST-MODIFIED:20260302T000000Z\r\n"))
    newest = import_ics(lambda_context, cal["id"], one("v3", "SEQUENCE:2\r\n"))
    assert (older["skipped"], newer["updated"], newest["updated"]) == (1, 1, 1)
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    # Then one event holds the newest version
    assert [(v["summary"], v["version"]) for v in found] == [("v3", 3)]


def test_same_uid_twice_without_recurrence_id_keeps_the_newest_and_reports(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    text = calendar_of(
        vevent("dup@test", "DTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\nSUMMARY:First\r\nSEQUENCE:2\r\n"),
        vevent("dup@test", "DTSTART:20260306T100000Z\r\nDTEND:20260306T110000Z\r\nSUMMARY:Second\r\nSEQUENCE:1\r\n"),
    )
    job = import_ics(lambda_context, cal["id"], text)
    # Then one event (the higher SEQUENCE), the other skipped and named in the errors
    assert (job["created"], job["skipped"], job["failed"], job["status"]) == (1, 1, 0, "SUCCEEDED")
    assert job["errors"][0]["uid"] == "dup@test"
    assert "duplicate UID" in job["errors"][0]["reason"]
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    assert [v["summary"] for v in found] == ["First"]


def test_explicit_source_and_default_source_created_once(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    source = new_source(lambda_context, cal["id"])
    # When importing into a chosen source, then twice into the default one
    chosen = import_ics(lambda_context, cal["id"], calendar_of(SIMPLE), query={"sourceId": str(source["id"])})
    default_1 = import_ics(lambda_context, cal["id"], fixture("ccj.ics"))
    default_2 = import_ics(lambda_context, cal["id"], fixture("apple.ics"))
    # Then the chosen source holds the first event; one "Imported events" source holds the rest
    assert chosen["sourceId"] == source["id"]
    assert default_1["sourceId"] == default_2["sourceId"] != source["id"]
    status, calendar = call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    assert status == 200
    names = sorted(s["value"] for s in calendar["sources"])
    assert sum('"Imported events"' in n for n in names) == 1
    imported = next(s for s in calendar["sources"] if s["id"] == default_1["sourceId"])
    assert imported["eventType"]["key"] == "meeting"


def test_unknown_source_is_404_and_viewer_may_not_import(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    status, body, _ = ical(
        "POST", f"/calendar/{cal['id']}/import", lambda_context, raw=calendar_of(SIMPLE), query={"sourceId": "12345"}
    )
    assert status == 404
    assert_jira_error(body, "sourceId")
    viewer = token("viewer", calendars=[cal["id"]])
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, token=viewer, raw=SIMPLE)
    assert status == 403, body


def test_job_is_readable_in_scope_and_404_outside(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, cal["id"], calendar_of(SIMPLE))
    status, shown, _ = ical("GET", f"/import/{job['id']}", lambda_context)
    assert (status, shown["status"], shown["created"]) == (200, "SUCCEEDED", 1)
    outsider = token("eve", calendars=[999])
    status, body, _ = ical("GET", f"/import/{job['id']}", lambda_context, token=outsider)
    assert status == 404
    assert_jira_error(body)
    assert ical("GET", "/import/424242", lambda_context)[0] == 404


# ---------------------------------------------------------------------------- bad input
HTML = "<!DOCTYPE html>\n<html><head><title>Error 404</title></head><body>Not Found</body></html>"
BAD_FILES = {
    "empty": "",
    "whitespace": "  \r\n\r\n",
    "not-icalendar": "Subject,Start Date,Start Time\nMeeting,03/05/2026,10:00 AM\n",
    "html-error-page": HTML,
    "html-after-blank-lines": "\r\n\r\n<html><body>Sign in</body></html>",
    "truncated": calendar_of(SIMPLE)[:-40],
    "end-mismatch": "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    "vcard": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unusable_files_are_a_clear_400(aws: None, lambda_context: Any, name: str) -> None:
    cal = zoned_calendar(lambda_context)
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, raw=BAD_FILES[name])
    assert status == 400, body
    assert_jira_error(body, "file")
    assert search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z") == []


def test_binary_upload_is_400(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, base64_body=png)
    assert status == 400
    assert_jira_error(body)
    zip_ok_utf8 = b"PK\x03\x04" + b"A" * 100
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, base64_body=zip_ok_utf8)
    assert status == 400
    assert "ZIP" in body["errorMessages"][0]


def test_50_mb_body_is_413_before_any_parsing(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    big = calendar_of(SIMPLE * 400_000)
    assert len(big) > 50_000_000
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, raw=big)
    assert status == 413
    assert_jira_error(body)


def test_json_content_type_is_415(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    status, body, _ = ical(
        "POST", f"/calendar/{cal['id']}/import", lambda_context, raw='{"a": 1}', content_type="application/json"
    )
    assert status == 415
    assert_jira_error(body)


BAD_VEVENTS = {
    "no-dtstart": ("DTEND:20260305T110000Z\r\nSUMMARY:x\r\n", "no DTSTART"),
    "rrule-bomb-count": ("DTSTART:20260305T110000Z\r\nRRULE:FREQ=SECONDLY;COUNT=100000000\r\n", "COUNT"),
    "garbage-date": ("DTSTART:2026-03-05 11:00\r\n", "DTSTART"),
}


@pytest.mark.parametrize("name", sorted(BAD_VEVENTS))
def test_a_file_of_bad_vevents_is_a_400_naming_uid_and_reason(aws: None, lambda_context: Any, name: str) -> None:
    body_text, reason = BAD_VEVENTS[name]
    cal = zoned_calendar(lambda_context)
    status, body, _ = ical(
        "POST", f"/calendar/{cal['id']}/import", lambda_context, raw=calendar_of(vevent(f"{name}@test", body_text))
    )
    assert status == 400, body
    assert_jira_error(body, f"VEVENT {name}@test")
    assert reason in body["errors"][f"VEVENT {name}@test"]


def test_good_and_bad_vevents_import_the_good_and_report_the_bad(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    text = calendar_of(SIMPLE, vevent("bad@test", "DTEND:20260305T100000Z\r\n"))
    job = import_ics(lambda_context, cal["id"], text)
    assert (job["status"], job["created"], job["failed"]) == ("COMPLETED_WITH_ERRORS", 1, 1)
    assert job["errors"] == [{"uid": "bad@test", "recurrenceId": None, "reason": "the VEVENT has no DTSTART"}]
    status, shown, _ = ical("GET", f"/import/{job['id']}", lambda_context)
    assert shown == job


def test_rdate_periods_last_as_long_as_each_period(aws: None, lambda_context: Any) -> None:
    # Given RDATE periods of 3 hours and 5 minutes on a one-hour event (issue_113_period_*.ics)
    cal = zoned_calendar(lambda_context)
    text = calendar_of(
        vevent(
            "periods@test",
            "DTSTART:20260305T110000Z\r\nDTEND:20260305T120000Z\r\nSUMMARY:p\r\n"
            "RDATE;VALUE=PERIOD:20260306T090000Z/PT3H,20260307T100000Z/20260307T100500Z\r\n",
        )
    )
    job = import_ics(lambda_context, cal["id"], text)
    assert (job["status"], job["created"]) == ("SUCCEEDED", 1)
    # Then every occurrence starts and ends as its period says (each period a moved occurrence)
    found = search(lambda_context, cal["id"], "2026-03-05T00:00:00Z", "2026-03-08T00:00:00Z")
    assert [(v["startDate"] - found[0]["startDate"]) // 3_600_000 for v in found] == [0, 22, 47]
    assert [v["endDate"] - v["startDate"] for v in found] == [3_600_000, 3 * 3_600_000, 5 * 60_000]
    # and importing it again creates nothing new
    again = import_ics(lambda_context, cal["id"], text)
    assert (again["created"], again["skipped"]) == (0, 1)


def test_what_recurring_ical_events_forgives_imports_with_warnings(aws: None, lambda_context: Any) -> None:
    # Given VEVENTs real exporters write: swapped times, an unknown TZID, a sloppy RRULE, two
    # RRULEs, UNTIL before DTSTART, and a damaged VTODO between them
    cal = zoned_calendar(lambda_context)
    text = calendar_of(
        vevent("swapped@test", "DTSTART:20260305T110000Z\r\nDTEND:20260305T100000Z\r\nSUMMARY:s\r\n"),
        "BEGIN:VTODO\r\nUID:todo@test\r\nEND:VTOOD\r\n",
        vevent("tz@test", "DTSTART;TZID=Western/Central Europe:20260305T090000\r\nSUMMARY:t\r\n"),
        vevent("sloppy@test", "DTSTART:20260303T080000Z\r\nRRULE:freq=weekly; byday= TU,;count=2\r\nSUMMARY:r\r\n"),
        vevent(
            "two@test",
            "DTSTART:20260305T070000Z\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nRRULE:FREQ=MONTHLY;BYDAY=1FR;COUNT=2\r\n"
            "SUMMARY:two\r\n",
        ),
        vevent("never@test", "DTSTART:20260305T110000Z\r\nRRULE:FREQ=DAILY;UNTIL=20250101T000000Z\r\n"),
        vevent("odd@test", "DTSTART:20260305T120000Z\r\nRRULE:FREQ=FORTNIGHTLY\r\nSUMMARY:odd\r\n"),
    )
    job = import_ics(lambda_context, cal["id"], text)
    # Then every readable VEVENT with an occurrence is imported, the job says what was guessed
    assert (job["status"], job["created"], job["skipped"], job["failed"]) == ("SUCCEEDED", 5, 1, 0)
    assert job["errors"] == [{"uid": "never@test", "recurrenceId": None, "reason": ANY_UNTIL}]
    warnings = "\n".join(job["warnings"])
    assert "a damaged VTODO was skipped" in warnings
    assert "VEVENT swapped@test: DTEND is before DTSTART: the two were swapped" in warnings
    assert "VEVENT tz@test: unknown TZID 'Western/Central Europe'" in warnings
    assert "VEVENT sloppy@test: RRULE" in warnings
    assert "VEVENT two@test: 2 different RRULEs" in warnings
    assert "VEVENT odd@test: RRULE 'FREQ=FORTNIGHTLY' cannot be read" in warnings
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    starts = sorted((v["summary"], v["startDate"]) for v in found)
    day = 86_400_000
    assert starts == [
        ("odd", 1772712000000),  # once, at DTSTART
        ("r", 1772524800000),  # Tue 3 March 08:00 UTC
        ("r", 1772524800000 + 7 * day),
        ("s", 1772704800000),  # 10:00 UTC, one hour
        ("t", 1772697600000),  # 09:00 in the calendar's zone (Berlin: 08:00 UTC)
        ("two", 1772694000000),  # Thu 5 March 07:00 UTC (DTSTART, once)
        ("two", 1772694000000 + day),  # Fri 6 March, the first Friday (second RRULE)
        ("two", 1772694000000 + 7 * day),  # Thu 12 March (first RRULE)
        ("two", 1772694000000 + 29 * day),  # Fri 3 April (second RRULE)
    ]


ANY_UNTIL = "RRULE UNTIL is before DTSTART: the series has no occurrence (nothing imported)"


def test_an_exception_carrying_an_rrule_is_one_moved_occurrence(aws: None, lambda_context: Any) -> None:
    # Given an exception that repeats its series' RRULE (issue_148_edge_case_2.ics)
    cal = zoned_calendar(lambda_context)
    text = calendar_of(
        vevent(
            "w@test",
            "DTSTART;VALUE=DATE:20240701\r\nDTEND;VALUE=DATE:20240708\r\nSUMMARY:w\r\n"
            "RRULE:FREQ=WEEKLY;UNTIL=20240801;INTERVAL=2;BYDAY=MO\r\nSEQUENCE:3\r\n",
        ),
        vevent(
            "w@test",
            "RECURRENCE-ID;VALUE=DATE:20240715\r\nDTSTART;VALUE=DATE:20240702\r\nDTEND;VALUE=DATE:20240709\r\n"
            "SUMMARY:edited\r\nRRULE:FREQ=WEEKLY;UNTIL=20240801;INTERVAL=2;BYDAY=MO\r\nSEQUENCE:2\r\n",
        ),
    )
    job = import_ics(lambda_context, cal["id"], text)
    assert (job["status"], job["created"]) == ("SUCCEEDED", 2)
    # Then the occurrence of 15 July is replaced by the edited one, once
    found = search(lambda_context, cal["id"], "2024-06-25T00:00:00Z", "2024-09-01T00:00:00Z")
    assert [(v["allDayStart"], v["allDayEnd"], v["summary"]) for v in found] == [
        ("2024-07-01", "2024-07-07", "w"),
        ("2024-07-02", "2024-07-08", "edited"),
        ("2024-07-29", "2024-08-04", "w"),
    ]


def test_unbounded_secondly_rule_imports_without_expanding(aws: None, lambda_context: Any) -> None:
    # Given a rule that would produce billions of occurrences
    cal = zoned_calendar(lambda_context)
    text = calendar_of(vevent("forever@test", "DTSTART:20260305T110000Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:tick\r\n"))
    # When imported, it is stored as a rule (nothing is expanded on import)
    job = import_ics(lambda_context, cal["id"], text)
    assert job["created"] == 1
    found = search(lambda_context, cal["id"], "2026-03-05T11:00:00Z", "2026-03-05T11:00:10Z")
    assert len(found) == 10


def test_thisandfuture_moves_that_occurrence_and_every_later_one(aws: None, lambda_context: Any) -> None:
    # Given a daily series, an exception RANGE=THISANDFUTURE moving 3 March 3 hours earlier and
    # making it 4 hours long, and a plain exception of 5 March (issue_75_range_parameter.ics)
    cal = zoned_calendar(lambda_context)
    text = calendar_of(
        vevent(
            "t@test", "DTSTART:20260301T120000Z\r\nDTEND:20260301T140000Z\r\nRRULE:FREQ=DAILY;COUNT=6\r\nSUMMARY:a\r\n"
        ),
        vevent(
            "t@test",
            "RECURRENCE-ID;RANGE=THISANDFUTURE:20260303T120000Z\r\nDTSTART:20260303T090000Z\r\n"
            "DTEND:20260303T130000Z\r\nSUMMARY:b\r\nSEQUENCE:1\r\n",
        ),
        vevent(
            "t@test",
            "RECURRENCE-ID:20260305T120000Z\r\nDTSTART:20260305T170000Z\r\nDTEND:20260305T180000Z\r\n"
            "SUMMARY:c\r\nSEQUENCE:1\r\n",
        ),
    )
    for attempt in range(2):
        job = import_ics(lambda_context, cal["id"], text)
        assert (job["status"], job["failed"]) == ("SUCCEEDED", 0), job
        # Then the occurrences before it are unchanged, it and the later ones moved, and the
        # plain exception replaces its (moved) occurrence; importing again changes nothing
        found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z")
        hour = 3_600_000
        day0 = 1772323200000  # 2026-03-01T00:00Z
        assert [
            ((v["startDate"] - day0) / hour, (v["endDate"] - v["startDate"]) / hour, v["summary"]) for v in found
        ] == [
            (12, 2, "a"),
            (24 + 12, 2, "a"),
            (48 + 9, 4, "b"),
            (72 + 9, 4, "b"),
            (96 + 17, 1, "c"),
            (120 + 9, 4, "b"),
        ], attempt
