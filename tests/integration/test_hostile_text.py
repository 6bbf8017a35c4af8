"""Control characters and oversized text on every way in (issue 16 items 1 and 3): the API
answers 400 naming the field; an import fails that VEVENT alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.ccj import ROOT, call, new_source
from tests.integration.ical import import_ics, moto_resources, search, zoned_calendar

pytestmark = pytest.mark.integration

ATTACK = "alice\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:1@teamcal\r\nSEQUENCE:99\r\nSUMMARY:CANCELLED"


@pytest.fixture
def aws() -> Iterator[None]:
    with moto_resources():
        yield


def event(source_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "mode": "add",
        "event": {
            "eventTypeConfigId": source_id,
            "summary": "Board meeting",
            "startDate": 1_772_704_800_000,
            "endDate": 1_772_708_400_000,
            **fields,
        },
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"userKeys": [ATTACK]}, "userKeys"),
        ({"userKeys": ["bob\x00"]}, "userKeys"),
        ({"summary": "a\x1bb"}, "summary"),
        ({"description": "a\x85b"}, "description"),
        ({"userKeys": [f"u{i}" for i in range(101)]}, "userKeys"),
        ({"description": "x" * 32_769}, "description"),
    ],
)
def test_the_api_refuses_control_characters_and_oversized_text(
    aws: None, lambda_context: Any, fields: dict[str, Any], field: str
) -> None:
    # Given a calendar with a source
    cal = zoned_calendar(lambda_context)
    source = new_source(lambda_context, cal["id"])
    # When an event arrives with a control character or past a limit in one field
    status, body = call("events", "POST", "/event", event(source["id"], **fields), token=ROOT, ctx=lambda_context)
    # Then it is a 400 naming the field, and nothing is stored
    assert status == 400, body
    assert any(field in key for key in body["errors"]), body
    assert search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z") == []


def test_line_breaks_in_a_description_are_kept_as_lf(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    source = new_source(lambda_context, cal["id"])
    body = event(source["id"], description="one\r\ntwo\rthree\n\tfour")
    status, created = call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)
    assert status == 200, created
    assert created["description"] == "one\ntwo\nthree\n\tfour"


def test_a_calendar_value_with_a_control_character_is_400(aws: None, lambda_context: Any) -> None:
    body = {"publicCalendar": True, "value": json.dumps({"name": "Team\u0000\u001b"})}
    status, answer = call("calendars", "POST", "/calendar", body, token=ROOT, ctx=lambda_context)
    assert status == 400, answer
    assert "value" in answer["errors"]


def test_a_token_for_a_user_with_a_line_break_is_400(aws: None, lambda_context: Any) -> None:
    status, answer = call("tokens", "POST", "/token", {"name": "x", "user": "ann\r\nX"}, token=ROOT, ctx=lambda_context)
    assert status == 400, answer


def test_an_import_fails_the_vevent_with_a_control_character_alone(aws: None, lambda_context: Any) -> None:
    # Given a file with one good VEVENT and one whose user key holds a line break (RFC 6868 ^n)
    cal = zoned_calendar(lambda_context)
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:bad@test\r\nDTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\n"
        'SUMMARY:bad\r\nATTENDEE;X-TEAMCAL-USER="a^nEND:VEVENT":urn:x-teamcal:user:a\r\nEND:VEVENT\r\n'
        "BEGIN:VEVENT\r\nUID:good@test\r\nDTSTART:20260306T100000Z\r\nDTEND:20260306T110000Z\r\n"
        "SUMMARY:fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    # When it is imported
    job = import_ics(lambda_context, cal["id"], text)
    # Then the good one is created and the bad one alone failed, with the reason
    assert (job["created"], job["failed"]) == (1, 1), job
    assert job["errors"][0]["uid"] == "bad@test"
    assert "control characters" in job["errors"][0]["reason"]
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    assert [v["summary"] for v in found] == ["fine"]


def test_a_search_ends_its_page_at_the_byte_budget(aws: None, lambda_context: Any) -> None:
    # Given a daily event whose description is at the limit in 2-byte characters (64 KB a copy)
    cal = zoned_calendar(lambda_context)
    source = new_source(lambda_context, cal["id"])
    body = event(source["id"], description="é" * 32_768, recurrence="FREQ=DAILY")
    status, created = call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)
    assert status == 200, created
    # When 91 days are searched without maxResults (about 6 MB of occurrences)
    window = {"calendarId": cal["id"], "startDateIso": "2026-03-05T00:00:00Z", "endDateIso": "2026-06-04T00:00:00Z"}
    status, page = call("events", "POST", "/event/search", window, token=ROOT, ctx=lambda_context)
    # Then the page ends under the budget, says it is not the last, and the next one follows on
    assert status == 200
    assert page["total"] == 91
    assert page["isLast"] is False
    assert len(json.dumps(page, ensure_ascii=False).encode()) < 4_500_000
    following = {**window, "startAt": len(page["values"])}
    status, rest = call("events", "POST", "/event/search", following, token=ROOT, ctx=lambda_context)
    assert status == 200
    assert len(page["values"]) + len(rest["values"]) == 91
    assert rest["isLast"] is True


def test_source_values_and_sources_per_calendar_are_capped(aws: None, lambda_context: Any) -> None:
    # Given a calendar
    cal = zoned_calendar(lambda_context)
    # When a source value passes 8,192 characters, it is a 400
    big = json.dumps({"name": "M", "color": "#7500ca", "notes": "x" * 8200})
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": big}
    status, answer = call("sources", "POST", "/source", body, token=ROOT, ctx=lambda_context)
    assert status == 400, answer
    # And past 50 sources the calendar takes no more
    for _ in range(50):
        new_source(lambda_context, cal["id"])
    small = json.dumps({"name": "M", "color": "#7500ca"})
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": small}
    status, answer = call("sources", "POST", "/source", body, token=ROOT, ctx=lambda_context)
    assert status == 400, answer
    assert "calendarConfigurationId" in answer["errors"]


def test_two_requests_racing_for_a_calendars_last_source_place_get_one_source(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a calendar with 49 sources
    cal = zoned_calendar(lambda_context)
    for _ in range(49):
        new_source(lambda_context, cal["id"])
    # And two requests for the last place that both read the calendar before either wrote (the
    # service's own check, made on what each read, lets both through)
    import teamcal.services.sources as sources_service

    monkeypatch.setattr(sources_service, "MAX_SOURCES_PER_CALENDAR", 51)
    small = json.dumps({"name": "M", "color": "#7500ca"})
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": small}
    first = call("sources", "POST", "/source", body, token=ROOT, ctx=lambda_context)
    second = call("sources", "POST", "/source", body, token=ROOT, ctx=lambda_context)
    # Then the first gets it and the second is the cap's 400 (the write holds the cap)
    assert first[0] == 200, first
    assert second[0] == 400, second
    assert "at most 50 sources" in second[1]["errors"]["calendarConfigurationId"]
    status, got = call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    assert status == 200, got
    assert len(got["sources"]) == 50


def test_an_import_vevent_past_the_item_limits_fails_alone(aws: None, lambda_context: Any) -> None:
    # Given a weekly series with 6,000 EXDATEs (an item near DynamoDB's 400 KB) beside a good VEVENT
    cal = zoned_calendar(lambda_context)
    exdates = ",".join(f"{2027 + i // 365:04d}{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}T100000Z" for i in range(6000))
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:huge@test\r\nDTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\n"
        f"RRULE:FREQ=DAILY\r\nEXDATE:{exdates}\r\nSUMMARY:huge\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:good@test\r\nDTSTART:20260306T100000Z\r\nDTEND:20260306T110000Z\r\n"
        "SUMMARY:fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    # When it is imported
    job = import_ics(lambda_context, cal["id"], text)
    # Then the good one is created and the huge one alone failed, with the reason
    assert (job["created"], job["failed"]) == (1, 1), job
    assert job["errors"][0]["uid"] == "huge@test"
    assert "EXDATE" in job["errors"][0]["reason"]
