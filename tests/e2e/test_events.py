"""Events over real HTTP through the local stack: every route and mode, the 400s, the 404 outside a
token's scope, and concurrent edits of one event (exactly one winner per version)."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

HOUR = 3_600_000
DAY = 24 * HOUR
MAR2_0900_BERLIN = 1_772_438_400_000  # Monday 2026-03-02 09:00 CET
EVERY_FLAG = {"editCalendars": True, "deleteCalendars": True, "editSources": True, "deleteSources": True}


@pytest.fixture(scope="module")
def world(stack: StackClient) -> dict[str, Any]:
    """A token, a calendar in Europe/Berlin and a meeting source, all made through the API."""
    owner = stack.new_token(user=f"owner-{uuid.uuid4().hex[:6]}", allCalendars=True, **EVERY_FLAG)
    value = json.dumps({"name": "team", "timeZone": "Europe/Berlin"})
    calendar = stack.call("POST", "/calendar", owner["token"], json={"publicCalendar": True, "value": value}).json()
    source = stack.call(
        "POST",
        "/source",
        owner["token"],
        json={
            "eventTypeId": "meeting",
            "calendarConfigurationId": calendar["id"],
            "value": json.dumps({"name": "Meetings", "color": "#7500ca"}),
        },
    ).json()
    return {"token": owner["token"], "calendar": calendar, "source": source}


def call(stack: StackClient, world: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = stack.call(method, path, world["token"], json=body)
    return response.status_code, response.json()


def search(stack: StackClient, world: dict[str, Any], start: int, end: int, **extra: Any) -> dict[str, Any]:
    status, page = call(
        stack,
        world,
        "POST",
        "/event/search",
        {"calendarId": world["calendar"]["id"], "startDate": start, "endDate": end, **extra},
    )
    assert status == 200, page
    return dict(page)


def create_series(stack: StackClient, world: dict[str, Any], summary: str, start: int) -> dict[str, Any]:
    status, created = call(
        stack,
        world,
        "POST",
        "/event",
        {
            "mode": "add",
            "event": {
                "summary": summary,
                "eventTypeConfigId": world["source"]["id"],
                "startDate": start,
                "endDate": start + HOUR,
                "recurrence": "FREQ=WEEKLY;COUNT=6",
            },
        },
    )
    assert status == 200, created
    return dict(created)


def test_single_all_day_and_timed_events_round_trip(stack: StackClient, world: dict[str, Any]) -> None:
    status, all_day = call(
        stack,
        world,
        "POST",
        "/event",
        {
            "mode": "add",
            "event": {
                "summary": "off",
                "eventTypeConfigId": world["source"]["id"],
                "allDayStart": "2027-01-04",
                "allDayEnd": "2027-01-04",
            },
        },
    )
    assert status == 200
    status, got = call(stack, world, "GET", f"/event/{all_day['id']}")
    assert status == 200
    assert got == all_day
    page = search(stack, world, 1_799_020_800_000, 1_799_020_800_000 + 2 * DAY)  # 2027-01-04T00:00Z
    assert [(v["id"], v["allDayStart"], v["allDayEnd"]) for v in page["values"]] == [
        (all_day["id"], "2027-01-04", "2027-01-04")
    ]
    status, deleted = call(stack, world, "DELETE", f"/event/{all_day['id']}")
    assert status == 200
    assert deleted["id"] == all_day["id"]
    assert call(stack, world, "GET", f"/event/{all_day['id']}")[0] == 404


def test_recurring_lifecycle_over_http(stack: StackClient, world: dict[str, Any]) -> None:
    start = MAR2_0900_BERLIN
    master = create_series(stack, world, "weekly", start)
    # edit current: the 2nd occurrence moves by two hours
    status, child = call(
        stack,
        world,
        "PUT",
        "/event",
        {
            "mode": "edit",
            "select": "current",
            "event": {
                "parentId": master["id"],
                "recurrenceId": "20260309",
                "startDate": start + 7 * DAY + 2 * HOUR,
                "endDate": start + 7 * DAY + 3 * HOUR,
            },
        },
    )
    assert status == 200, child
    # delete one occurrence by exdate
    status, _ = call(
        stack,
        world,
        "DELETE",
        f"/event/{master['id']}/recur",
        {"mode": "delete", "select": "current", "exdate": "20260316"},
    )
    assert status == 200
    # edit following from the 4th occurrence
    status, second = call(
        stack,
        world,
        "PUT",
        "/event",
        {
            "mode": "edit",
            "select": "following",
            "event": {"id": master["id"], "recurrenceId": "20260323", "summary": "weekly v2"},
        },
    )
    assert status == 200, second
    page = search(stack, world, start, start + 60 * DAY)
    rows = [(v["summary"], v["recurrenceId"]) for v in page["values"] if v["parentId"] in (master["id"], second["id"])]
    assert rows == [
        ("weekly", "20260302"),
        ("weekly", "20260309"),
        ("weekly v2", "20260323"),
        ("weekly v2", "20260330"),
        ("weekly v2", "20260406"),
    ]
    # the moved occurrence is the child, at its own time; DST moved the later ones to 07:00Z
    assert page["values"][1]["id"] == child["id"]
    assert page["values"][3]["startDate"] % DAY == 7 * HOUR
    # delete the first chain (master + child) through …/recur with select all
    status, _ = call(stack, world, "DELETE", f"/event/{child['id']}/recur", {"mode": "delete", "select": "all"})
    assert status == 200
    assert call(stack, world, "GET", f"/event/{master['id']}")[0] == 404
    assert call(stack, world, "GET", f"/event/{child['id']}")[0] == 404
    status, _ = call(stack, world, "DELETE", f"/event/{second['id']}")
    assert status == 200
    assert search(stack, world, start, start + 60 * DAY)["values"] == []


def test_bad_input_is_400_with_jira_body(stack: StackClient, world: dict[str, Any]) -> None:
    cases = [
        (
            "POST",
            "/event",
            {
                "event": {
                    "eventTypeConfigId": world["source"]["id"],
                    "startDate": 0,
                    "endDate": 1,
                    "recurrence": "FREQ=NEVER",
                }
            },
            "recurrence",
        ),
        (
            "POST",
            "/event",
            {
                "event": {
                    "eventTypeConfigId": world["source"]["id"],
                    "startDate": 0,
                    "endDate": 1,
                    "timeZone": "Nowhere/City",
                }
            },
            "timeZone",
        ),
        ("PUT", "/event", {"mode": "edit", "event": {"summary": "no id"}}, "id"),
        (
            "POST",
            "/event/search",
            {"calendarId": world["calendar"]["id"], "startDate": 0, "endDate": 92 * DAY},
            "endDate",
        ),
    ]
    for method, path, body, field in cases:
        status, answer = call(stack, world, method, path, body)
        assert status == 400, (path, answer)
        assert set(answer) == {"errorMessages", "errors"}
        assert field in answer["errors"], answer
    response = stack.call(
        "POST", "/event", world["token"], data=b"{broken", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_calendar_outside_the_token_is_404(stack: StackClient, world: dict[str, Any]) -> None:
    scoped = stack.new_token(user="scoped", calendarIds=[world["calendar"]["id"] + 1])
    master = create_series(stack, world, "private-ish", MAR2_0900_BERLIN + 400 * DAY)
    response = stack.call("GET", f"/event/{master['id']}", scoped["token"])
    assert response.status_code == 404
    response = stack.call(
        "POST",
        "/event/search",
        scoped["token"],
        json={"calendarId": world["calendar"]["id"], "startDate": 0, "endDate": DAY},
    )
    assert response.status_code == 404
    assert response.json()["errorMessages"]


def test_sixteen_concurrent_puts_one_winner_per_version(stack: StackClient, world: dict[str, Any]) -> None:
    status, event = call(
        stack,
        world,
        "POST",
        "/event",
        {"event": {"summary": "v1", "eventTypeConfigId": world["source"]["id"], "startDate": 0, "endDate": HOUR}},
    )
    assert status == 200

    def put(i: int) -> tuple[int, Any]:
        return call(
            stack,
            world,
            "PUT",
            "/event",
            {"mode": "edit", "event": {"id": event["id"], "version": 1, "summary": f"writer {i}"}},
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(put, range(16)))
    winners = [body for status, body in results if status == 200]
    assert len(winners) == 1
    assert sorted(status for status, _ in results) == [200] + [409] * 15
    _, stored = call(stack, world, "GET", f"/event/{event['id']}")
    assert stored["summary"] == winners[0]["summary"]
    assert stored["version"] == 2
