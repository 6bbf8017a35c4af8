"""Export (GET .ics, POST snapshot to S3), subscription feeds, and the round trip export → import
into an empty calendar → export, in-process against moto. Every export is parsed back with
icalendar."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import icalendar
import pytest

from teamcal.ids import now_ms
from tests.conftest import TEMPLATE
from tests.integration.ccj import ROOT, assert_jira_error, call, full, new_source, token
from tests.integration.ical import fixture, ical, import_ics, moto_resources, search, zoned_calendar

pytestmark = pytest.mark.integration

HOUR = 3_600_000
DAY = 24 * HOUR
BERLIN = ZoneInfo("Europe/Berlin")
VOLATILE = {"DTSTAMP", "CREATED", "LAST-MODIFIED", "X-COLOR"}


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with moto_resources():
        yield


def ms(text: str, zone: str = "Europe/Berlin") -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def add(ctx: Any, event: dict[str, Any], **body: Any) -> dict[str, Any]:
    status, created = call("events", "POST", "/event", {"event": event, "mode": "add", **body}, token=ROOT, ctx=ctx)
    assert status == 200, created
    return dict(created)


def populated(ctx: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A Berlin calendar with a meeting source (color #00aa55) holding: a weekly series with an
    EXDATE and a moved occurrence, a 3-day all-day event, a New York call with attendees."""
    cal = zoned_calendar(ctx, name='Development; team, "core"')
    source = new_source(ctx, cal["id"], value=json.dumps({"name": "Meetings", "color": "#00aa55"}))
    sid = source["id"]
    series = add(
        ctx,
        {
            "eventTypeConfigId": sid,
            "summary": "Weekly sync",
            "description": "Agenda: notes; links, and\nmore",
            "startDate": ms("2026-03-02T09:00"),
            "endDate": ms("2026-03-02T10:00"),
            "timeZone": "Europe/Berlin",
            "recurrence": "FREQ=WEEKLY;BYDAY=MO;COUNT=8",
            "userKeys": ["ann", "bob@example.com"],
        },
    )
    status, _ = call(
        "events",
        "DELETE",
        f"/event/{series['id']}/recur",
        {"mode": "delete", "select": "current", "exdate": "2026-03-23"},
        token=ROOT,
        ctx=ctx,
    )
    assert status == 200
    status, moved = call(
        "events",
        "PUT",
        "/event",
        {
            "event": {
                "parentId": series["id"],
                "recurrenceId": "20260316",
                "startDate": ms("2026-03-17T14:00"),
                "endDate": ms("2026-03-17T15:00"),
                "summary": "Weekly sync (Tuesday)",
            },
            "mode": "edit",
            "select": "current",
        },
        token=ROOT,
        ctx=ctx,
    )
    assert status == 200, moved
    add(ctx, {"eventTypeConfigId": sid, "summary": "Offsite", "allDayStart": "2026-03-10", "allDayEnd": "2026-03-12"})
    add(
        ctx,
        {
            "eventTypeConfigId": sid,
            "summary": "Call with New York",
            "startDate": ms("2026-03-05T09:00", "America/New_York"),
            "endDate": ms("2026-03-05T09:30", "America/New_York"),
            "timeZone": "America/New_York",
        },
    )
    return cal, source, series


def export(ctx: Any, calendar_id: int, tok: dict[str, Any] = ROOT) -> str:
    status, body, headers = ical("GET", f"/calendar/{calendar_id}/export", ctx, token=tok)
    assert status == 200, body
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert isinstance(body, str)
    return body


def vevents(text: str) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


def test_export_is_rfc5545_with_timezones_stable_uids_and_exceptions(aws: None, lambda_context: Any) -> None:
    # Given a calendar with a series, an EXDATE, a moved occurrence, an all-day and a NY event
    cal, source, series = populated(lambda_context)
    # When it is exported
    text = export(lambda_context, cal["id"])
    parsed = icalendar.Calendar.from_ical(text)
    # Then it is a VCALENDAR with its name and a VTIMEZONE for every TZID used
    assert str(parsed["PRODID"]).startswith("-//teamcal//")
    assert str(parsed["VERSION"]) == "2.0"
    assert parsed["X-WR-CALNAME"].to_ical() == b'Development\\; team\\, "core"'  # TEXT, escaped (RFC 5545 3.3.11)
    assert {str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")} == {"Europe/Berlin", "America/New_York"}
    assert parsed.get_missing_tzids() == set()
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    events = {str(e["SUMMARY"]): e for e in parsed.walk("VEVENT")}
    weekly, moved, offsite = events["Weekly sync"], events["Weekly sync (Tuesday)"], events["Offsite"]
    # the series: stable UID, zoned DTSTART, RRULE, EXDATE, attendees, the source color, escaped text
    assert str(weekly["UID"]) == f"{series['id']}@teamcal"
    assert weekly["DTSTART"].dt == dt.datetime(2026, 3, 2, 9, tzinfo=BERLIN)
    assert weekly["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert weekly["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=8;BYDAY=MO"
    assert [d.dt for d in weekly["EXDATE"].dts] == [dt.datetime(2026, 3, 23, 9, tzinfo=BERLIN)]
    assert str(weekly["DESCRIPTION"]) == "Agenda: notes; links, and\nmore"
    assert sorted(a.params["X-TEAMCAL-USER"] for a in weekly["ATTENDEE"]) == ["ann", "bob@example.com"]
    assert "mailto:bob@example.com" in [str(a) for a in weekly["ATTENDEE"]]
    assert str(weekly["X-COLOR"]) == "#00aa55" == json.loads(source["value"])["color"]
    # the moved occurrence: a second VEVENT with the same UID and the original start
    assert str(moved["UID"]) == str(weekly["UID"])
    assert moved["RECURRENCE-ID"].dt == dt.datetime(2026, 3, 16, 9, tzinfo=BERLIN)
    assert moved["DTSTART"].dt == dt.datetime(2026, 3, 17, 14, tzinfo=BERLIN)
    # all-day: dates, DTEND exclusive (allDayEnd 12 March → DTEND 13 March)
    assert (offsite["DTSTART"].dt, offsite["DTEND"].dt) == (dt.date(2026, 3, 10), dt.date(2026, 3, 13))
    assert events["Call with New York"]["DTSTART"].params["TZID"] == "America/New_York"
    # and the next export gives every event the same UID
    assert {str(e["UID"]) for e in vevents(export(lambda_context, cal["id"]))} == {
        str(e["UID"]) for e in parsed.walk("VEVENT")
    }


def test_export_of_another_tokens_calendar_is_404(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    outsider = token("eve", calendars=[1])
    for method in ("GET", "POST"):
        status, body, _ = ical(method, f"/calendar/{cal['id']}/export", lambda_context, token=outsider)
        assert status == 404
        assert_jira_error(body)


def test_snapshot_goes_to_the_bucket_with_a_presigned_url(aws: None, lambda_context: Any) -> None:
    cal, _, _ = populated(lambda_context)
    before = now_ms()
    status, snapshot, _ = ical("POST", f"/calendar/{cal['id']}/export", lambda_context)
    assert status == 201, snapshot
    # Then the key names the calendar and the time, the URL is presigned for it and expires later
    assert set(snapshot) == {"snapshotId", "key", "url", "expires", "events"}
    assert snapshot["key"].startswith(f"snapshots/{cal['id']}/")
    assert snapshot["key"].endswith(f"-{snapshot['snapshotId']}.ics")
    stamp = snapshot["key"].split("/")[-1][:16]
    assert abs(dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp() * 1000 - before) < 5000
    assert snapshot["key"] in snapshot["url"]
    assert "Signature" in snapshot["url"] or "X-Amz-Signature" in snapshot["url"]
    assert snapshot["expires"] >= before + 900_000
    assert snapshot["events"] == 4  # the series, its moved occurrence, the all-day and the NY event
    stored = boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=TEMPLATE.physical_name("SnapshotsBucket"), Key=snapshot["key"]
    )
    assert stored["ContentType"].startswith("text/calendar")
    assert stored["Body"].read().decode() == export(lambda_context, cal["id"])


def _occurrences(ctx: Any, calendar_id: int, start: str, end: str) -> list[tuple[Any, ...]]:
    return sorted(
        (v["summary"], v["startDate"], v["endDate"], v["allDay"], v.get("allDayStart"), v.get("allDayEnd"))
        for v in search(ctx, calendar_id, start, end)
    )


def _comparable(text: str) -> list[dict[str, bytes]]:
    out = []
    for event in vevents(text):
        out.append(
            {
                k: event[k].to_ical() if hasattr(event[k], "to_ical") else repr(event[k])
                for k in event
                if k not in VOLATILE
            }
        )
    return sorted(out, key=lambda e: (e["UID"], e.get("RECURRENCE-ID", b"")))


@pytest.mark.parametrize("origin", ["teamcal", "google.ics", "outlook.ics", "ccj.ics", "thunderbird.ics"])
def test_round_trip_export_import_export_keeps_events_and_occurrences(
    aws: None, lambda_context: Any, origin: str
) -> None:
    # Given a calendar made through the API, or by importing a provider's file
    if origin == "teamcal":
        first, _, _ = populated(lambda_context)
    else:
        first = zoned_calendar(lambda_context)
        import_ics(lambda_context, first["id"], fixture(origin))
    exported = export(lambda_context, first["id"])
    # When the export is imported into an empty calendar and exported again
    second = zoned_calendar(lambda_context)
    job = import_ics(lambda_context, second["id"], exported)
    assert (job["status"], job["failed"]) == ("SUCCEEDED", 0), job
    again = export(lambda_context, second["id"])
    # Then the two exports hold the same events (UIDs, times, rules, exceptions, texts) ...
    assert _comparable(again) == _comparable(exported)
    # ... and both calendars show the same occurrences in any window
    for start, end in [
        ("2026-02-20T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("2026-03-28T00:00:00Z", "2026-05-15T00:00:00Z"),
        ("2026-10-20T00:00:00Z", "2026-11-10T00:00:00Z"),
    ]:
        assert _occurrences(lambda_context, second["id"], start, end) == _occurrences(
            lambda_context, first["id"], start, end
        )


# ---------------------------------------------------------------------------- feeds
def _feed(ctx: Any, url: str) -> tuple[int, Any, dict[str, str]]:
    path = url.split("/rest/brizo-calendar/api/1", 1)[1]
    return ical("GET", path, ctx, token=None)


def test_feed_serves_three_months_back_to_a_year_ahead_without_a_token(aws: None, lambda_context: Any) -> None:
    owner = full("owner")
    status, cal = call(
        "calendars",
        "POST",
        "/calendar",
        {"value": json.dumps({"name": "Feed", "timeZone": "UTC"})},
        token=owner,
        ctx=lambda_context,
    )
    assert status == 200, cal
    source = new_source(lambda_context, cal["id"], tok=owner)
    now = now_ms()
    for summary, start in [("old", now - 200 * DAY), ("recent", now - 30 * DAY), ("soon", now + 10 * DAY)]:
        add(
            lambda_context,
            {"eventTypeConfigId": source["id"], "summary": summary, "startDate": start, "endDate": start + HOUR},
        )
    add(
        lambda_context,
        {
            "eventTypeConfigId": source["id"],
            "summary": "daily",
            "startDate": now - 400 * DAY,
            "endDate": now - 400 * DAY + HOUR,
            "recurrence": "FREQ=DAILY",
        },
    )
    # When the owner creates the feed
    status, feed, _ = ical("POST", f"/calendar/{cal['id']}/feed", lambda_context, token=owner)
    assert status == 201, feed
    assert feed["url"].startswith("http://")
    assert "/rest/brizo-calendar/api/1/feed/tcf_" in feed["url"]
    assert feed["url"].endswith(".ics")
    assert feed["webcalUrl"] == "webcal://" + feed["url"].split("://", 1)[1]
    assert feed["hint"] == feed["url"][-8:-4]
    # Then anyone with the URL gets the calendar, without Authorization
    status, body, headers = _feed(lambda_context, feed["url"])
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    assert sorted(str(e["SUMMARY"]) for e in vevents(body)) == ["daily", "recent", "soon"]
    # and the feed shows without its secret afterwards
    status, shown, _ = ical("GET", f"/calendar/{cal['id']}/feed", lambda_context, token=owner)
    assert (status, shown["hint"], shown["url"]) == (200, feed["hint"], None)


def test_feed_rotation_revocation_and_unknown_secrets(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    first = ical("POST", f"/calendar/{cal['id']}/feed", lambda_context)[1]
    second = ical("POST", f"/calendar/{cal['id']}/feed", lambda_context)[1]
    # a new feed replaces the old one at once
    assert _feed(lambda_context, first["url"])[0] == 404
    assert _feed(lambda_context, second["url"])[0] == 200
    # revoking makes it 404; unknown and malformed secrets are 404 too
    status, revoked, _ = ical("DELETE", f"/calendar/{cal['id']}/feed", lambda_context)
    assert (status, revoked["hint"]) == (200, second["hint"])
    status, body, _ = _feed(lambda_context, second["url"])
    assert status == 404
    assert_jira_error(body)
    assert ical("GET", "/feed/tcf_unknownunknownunknownunknownunknownunknown.ics", lambda_context, token=None)[0] == 404
    assert ical("GET", "/feed/nope", lambda_context, token=None)[0] == 404
    assert ical("GET", f"/calendar/{cal['id']}/feed", lambda_context)[0] == 404
    assert ical("DELETE", f"/calendar/{cal['id']}/feed", lambda_context)[0] == 404


def test_only_the_owner_or_an_admin_manages_the_feed(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    editor = full("someone-else")
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/feed", lambda_context, token=editor)
    assert status == 403
    assert_jira_error(body)
    viewer = token("root", calendars=[cal["id"]])
    assert ical("POST", f"/calendar/{cal['id']}/feed", lambda_context, token=viewer)[0] == 403
