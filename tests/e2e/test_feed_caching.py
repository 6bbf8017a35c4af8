"""Feeds that subscribers can poll cheaply, over real HTTP through the local stack: ETag and
Last-Modified from the calendar's change stamp, 304 without reading events (the moto server's
recorder counts the storage calls), HEAD, REFRESH-INTERVAL / X-PUBLISHED-TTL, Content-Disposition;
the export answers the same conditional GETs."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from typing import Any

import icalendar
import pytest
import requests

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

HOUR = 3_600_000
EVERY_FLAG = {"editCalendars": True, "deleteCalendars": True, "editSources": True, "deleteSources": True}


def _world(stack: StackClient) -> dict[str, Any]:
    owner = stack.new_token(user=f"feed-{uuid.uuid4().hex[:6]}", allCalendars=True, **EVERY_FLAG)["token"]
    value = json.dumps({"name": "polled", "timeZone": "Europe/Berlin"})
    cal = stack.call("POST", "/calendar", owner, json={"publicCalendar": True, "value": value}).json()
    source = stack.call(
        "POST",
        "/source",
        owner,
        json={
            "eventTypeId": "meeting",
            "calendarConfigurationId": cal["id"],
            "value": json.dumps({"name": "m", "color": "#7500ca"}),
        },
    ).json()
    now = int(time.time() * 1000)
    start = now - now % HOUR + 7 * 24 * HOUR  # next week: inside the feed's window
    event = stack.call(
        "POST",
        "/event",
        owner,
        json={
            "mode": "add",
            "event": {
                "summary": "standup",
                "eventTypeConfigId": source["id"],
                "startDate": start,
                "endDate": start + HOUR,
            },
        },
    ).json()
    feed = stack.call("POST", f"/calendar/{cal['id']}/feed", owner).json()
    return {"owner": owner, "calendar": cal, "event": event, "url": feed["url"]}


def _recorded_calls(stack: StackClient, action: Any) -> tuple[Any, Counter[str]]:
    """Run ``action`` with moto's recorder on; returns its result and the DynamoDB operations on
    the events table (``"Query"``, ``"GetItem"``, ...; other tables' reads, e.g. the access
    gate's, are not counted)."""
    moto = f"{stack.aws_endpoint}/moto-api/recorder"
    session = requests.Session()
    session.trust_env = False
    session.post(f"{moto}/reset-recording", timeout=10).raise_for_status()
    session.post(f"{moto}/start-recording", timeout=10).raise_for_status()
    try:
        result = action()
    finally:
        session.post(f"{moto}/stop-recording", timeout=10).raise_for_status()
    assert stack.recording is not None
    ops: Counter[str] = Counter()
    for line in stack.recording.read_text().splitlines():
        entry = json.loads(line)
        target = {k.lower(): v for k, v in entry["headers"].items()}.get("x-amz-target", "")
        if not target.startswith("DynamoDB_"):
            continue
        raw = entry.get("body") or "{}"
        body = json.loads(base64.b64decode(raw) if entry.get("body_encoded") else raw)
        tables = {body.get("TableName"), *(body.get("RequestItems") or {})}
        if any(str(t).endswith("-EventsTable") for t in tables):
            ops[target.split(".", 1)[1]] += 1
    return result, ops


def test_unchanged_feed_is_304_without_an_event_read_and_a_change_is_200(stack: StackClient) -> None:
    world = _world(stack)
    session = stack.session
    # Given a first poll of the feed
    first = session.get(world["url"], timeout=60)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"')
    assert first.headers["Content-Disposition"] == f'attachment; filename="calendar-{world["calendar"]["id"]}.ics"'
    calendar = icalendar.Calendar.from_ical(first.content)
    assert str(calendar["REFRESH-INTERVAL"].to_ical().decode()) == "PT1H"
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["standup"]
    # When the calendar is polled again with its ETag
    again, ops = _recorded_calls(stack, lambda: session.get(world["url"], headers={"If-None-Match": etag}, timeout=60))
    # Then 304 with no body, and the feed cost no event Query nor BatchGetItem of events
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert ops["Query"] == 0
    assert ops["BatchGetItem"] == 0
    assert ops["GetItem"] == 1  # the calendar's change stamp
    # And If-Modified-Since with its Last-Modified is 304 as well
    assert session.get(world["url"], headers={"If-Modified-Since": modified}, timeout=60).status_code == 304
    # And HEAD answers the headers of GET without a body
    head = session.head(world["url"], timeout=60)
    assert (head.status_code, head.headers["ETag"], head.content) == (200, etag, b"")
    # When one event changes
    edited = stack.call(
        "PUT",
        "/event",
        world["owner"],
        json={"mode": "edit", "event": {"id": world["event"]["id"], "summary": "retro"}},
    )
    assert edited.status_code == 200, edited.text
    # Then the same conditional GET is 200 with the new content and a new ETag
    changed = session.get(world["url"], headers={"If-None-Match": etag}, timeout=60)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    summaries = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(changed.content).walk("VEVENT")]
    assert summaries == ["retro"]


def test_export_answers_conditional_gets(stack: StackClient) -> None:
    world = _world(stack)
    path = f"/calendar/{world['calendar']['id']}/export"
    first = stack.call("GET", path, world["owner"])
    assert first.status_code == 200
    assert first.headers["Content-Disposition"].endswith(f'filename="calendar-{world["calendar"]["id"]}.ics"')
    etag = first.headers["ETag"]
    again, ops = _recorded_calls(
        stack, lambda: stack.call("GET", path, world["owner"], headers={"If-None-Match": etag})
    )
    assert again.status_code == 304
    assert (ops["Query"], ops["BatchGetItem"], ops["GetItem"]) == (0, 0, 1)
    # a token that sees the calendar differently gets its own ETag
    other = stack.new_token(user="someone-else", allCalendars=True)["token"]
    assert stack.call("GET", path, other).headers["ETag"] != etag
