"""Calendars, sources and event types over real HTTP through the local stack: every route and
status, the TOKEN authorizer in front, tokens created through the API itself."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

MEETING = json.dumps({"name": "Meetings", "color": "#7500ca", "concurrence": "allow"})
EVERY_FLAG = {"editCalendars": True, "deleteCalendars": True, "editSources": True, "deleteSources": True}


def assert_jira_error(body: Any, field: str | None = None) -> None:
    assert set(body) == {"errorMessages", "errors"}
    assert body["errorMessages"]
    if field is not None:
        assert field in body["errors"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def owner(stack: StackClient) -> dict[str, Any]:
    """An all-calendars token acting as a fresh user, with every CCJ flag (not admin)."""
    return stack.new_token(user=unique("owner"), allCalendars=True, **EVERY_FLAG)


def create_calendar(stack: StackClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"publicCalendar": True, "value": json.dumps({"name": unique("cal")}), **fields}
    response = stack.call("POST", "/calendar", token, json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def create_source(stack: StackClient, token: str, calendar_id: int, **fields: Any) -> dict[str, Any]:
    body = {"eventTypeId": "meeting", "calendarConfigurationId": calendar_id, "value": MEETING, **fields}
    response = stack.call("POST", "/source", token, json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


# ---------------------------------------------------------------- calendars
def test_calendar_lifecycle(stack: StackClient, owner: dict[str, Any]) -> None:
    token = owner["token"]
    # POST → 200 with a new integer id, owned by the token's user
    cal = create_calendar(stack, token, calendarEditable=True)
    assert isinstance(cal["id"], int)
    assert cal["user"] == owner["user"]
    # A source, then GET /calendar lists the calendar with the source embedded (plain array)
    src = create_source(stack, token, cal["id"])
    listed = stack.call("GET", "/calendar", token)
    assert listed.status_code == 200
    assert isinstance(listed.json(), list)
    mine = [c for c in listed.json() if c["id"] == cal["id"]]
    assert [s["id"] for s in mine[0]["sources"]] == [src["id"]]
    # GET one adds the permission properties
    one = stack.call("GET", f"/calendar/{cal['id']}", token).json()
    assert one["calendarEditable"] is True
    assert one["permCalendarEdit"] == {"groups": [], "users": []}
    # PUT replaces the value (If-Match carries the version), stale version → 409
    new_value = json.dumps({"name": "renamed", "timeZone": "Europe/Berlin"})
    put = stack.call("PUT", "/calendar", token, json={"id": cal["id"], "value": new_value}, headers={"If-Match": '"1"'})
    assert put.status_code == 200, put.text
    assert (put.json()["value"], put.json()["version"]) == (new_value, 2)
    stale = stack.call("PUT", "/calendar", token, json={"id": cal["id"], "value": new_value, "version": 1})
    assert stale.status_code == 409
    assert_jira_error(stale.json())
    # DELETE → 200 with the deleted calendar; then it and its source are gone
    deleted = stack.call("DELETE", f"/calendar/{cal['id']}", token)
    assert deleted.status_code == 200
    assert deleted.json()["id"] == cal["id"]
    assert stack.call("GET", f"/calendar/{cal['id']}", token).status_code == 404
    assert stack.call("GET", f"/source/{src['id']}", token).status_code == 404


def test_scoped_token_gets_404_for_a_calendar_outside_its_scope(stack: StackClient, owner: dict[str, Any]) -> None:
    inside = create_calendar(stack, owner["token"])
    outside = create_calendar(stack, owner["token"])
    src = create_source(stack, owner["token"], outside["id"])
    scoped = stack.new_token(user=owner["user"], calendarIds=[inside["id"]], **EVERY_FLAG)["token"]
    listed = stack.call("GET", "/calendar", scoped).json()
    assert [c["id"] for c in listed] == [inside["id"]]
    assert stack.call("GET", f"/calendar/{outside['id']}", scoped).status_code == 404
    assert stack.call("PUT", "/calendar", scoped, json={"id": outside["id"], "publicCalendar": True}).status_code == 404
    assert stack.call("DELETE", f"/calendar/{outside['id']}", scoped).status_code == 404
    assert stack.call("GET", f"/source/{src['id']}", scoped).status_code == 404
    post = stack.call(
        "POST",
        "/source",
        scoped,
        json={"eventTypeId": "meeting", "calendarConfigurationId": outside["id"], "value": MEETING},
    )
    assert post.status_code == 404
    assert_jira_error(post.json(), "calendarConfigurationId")
    # and a scoped token may not create calendars at all
    assert stack.call("POST", "/calendar", scoped, json={"value": json.dumps({"name": "x"})}).status_code == 403


def test_private_calendar_is_hidden_from_other_users(stack: StackClient, owner: dict[str, Any]) -> None:
    cal = create_calendar(stack, owner["token"], publicCalendar=False)
    other = stack.new_token(user=unique("other"), allCalendars=True, **EVERY_FLAG)["token"]
    assert stack.call("GET", f"/calendar/{cal['id']}", other).status_code == 404
    assert cal["id"] not in [c["id"] for c in stack.call("GET", "/calendar", other).json()]


@pytest.mark.parametrize(
    ("method", "body", "status", "field"),
    [
        ("POST", {"value": "not json"}, 400, "value"),
        ("POST", {"value": json.dumps({"name": "x"}), "publicCalendar": "yes"}, 400, "publicCalendar"),
        ("PUT", {"value": json.dumps({"name": "x"})}, 400, "id"),
        ("PUT", {"id": 9007199254740991, "value": json.dumps({"name": "x"})}, 404, None),
    ],
)
def test_calendar_refusals(
    stack: StackClient, owner: dict[str, Any], method: str, body: Any, status: int, field: str | None
) -> None:
    response = stack.call(method, "/calendar", owner["token"], json=body)
    assert response.status_code == status
    assert_jira_error(response.json(), field)


def test_calendar_permission_refusals_are_403(stack: StackClient, owner: dict[str, Any]) -> None:
    cal = create_calendar(stack, owner["token"])
    read_only = stack.new_token(user=owner["user"], allCalendars=True)["token"]
    stranger = stack.new_token(user=unique("stranger"), allCalendars=True, **EVERY_FLAG)["token"]
    value = json.dumps({"name": "x"})
    assert stack.call("POST", "/calendar", read_only, json={"value": value}).status_code == 403
    assert stack.call("PUT", "/calendar", read_only, json={"id": cal["id"], "value": value}).status_code == 403
    assert stack.call("PUT", "/calendar", stranger, json={"id": cal["id"], "value": value}).status_code == 403
    assert stack.call("DELETE", f"/calendar/{cal['id']}", read_only).status_code == 403
    assert stack.call("DELETE", f"/calendar/{cal['id']}", stranger).status_code == 403
    assert stack.call("GET", f"/calendar/{cal['id']}", stranger).status_code == 200


def test_calendar_routes_need_a_token(stack: StackClient) -> None:
    for method, path in (("GET", "/calendar"), ("GET", "/calendar/1"), ("POST", "/source"), ("GET", "/eventypes")):
        assert stack.call(method, path).status_code == 401


# ---------------------------------------------------------------- sources
def test_source_lifecycle(stack: StackClient, owner: dict[str, Any]) -> None:
    token = owner["token"]
    cal = create_calendar(stack, token)
    src = create_source(stack, token, cal["id"], emailsEnabled=True)
    assert src["eventType"] == {
        "issueRequired": False,
        "key": "meeting",
        "name": "Meetings",
        "projectRequired": False,
        "systemType": True,
        "usersRequired": True,
    }
    assert stack.call("GET", f"/source/{src['id']}", token).json() == src
    new_value = json.dumps({"name": "Renamed", "color": "#000000"})
    put = stack.call("PUT", "/source", token, json={"id": src["id"], "value": new_value, "version": 1})
    assert (put.status_code, put.json()["value"], put.json()["emailsEnabled"]) == (200, new_value, True)
    assert stack.call("PUT", "/source", token, json={"id": src["id"], "version": 1}).status_code == 409
    assert stack.call("PUT", "/source", token, json={"value": new_value}).status_code == 400
    no_delete = stack.new_token(user=owner["user"], allCalendars=True, editSources=True)["token"]
    assert stack.call("DELETE", f"/source/{src['id']}", no_delete).status_code == 403
    deleted = stack.call("DELETE", f"/source/{src['id']}", token)
    assert (deleted.status_code, deleted.json()["id"]) == (200, src["id"])
    assert stack.call("GET", f"/source/{src['id']}", token).status_code == 404
    assert stack.call("GET", "/source/not-a-number", token).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": json.dumps({"name": "x", "color": "red"})}, "value.color"),
        ({"value": {"name": "x"}}, "value"),
        ({"eventTypeId": "no-such-type"}, "eventTypeId"),
    ],
)
def test_source_bad_input_is_400(stack: StackClient, owner: dict[str, Any], change: dict[str, Any], field: str) -> None:
    cal = create_calendar(stack, owner["token"])
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": MEETING, **change}
    response = stack.call("POST", "/source", owner["token"], json=body)
    assert response.status_code == 400
    assert_jira_error(response.json(), field)


def test_source_edit_needs_the_flag_and_calendar_edit_rights(stack: StackClient, owner: dict[str, Any]) -> None:
    cal = create_calendar(stack, owner["token"])
    no_flag = stack.new_token(user=owner["user"], allCalendars=True)["token"]
    stranger = stack.new_token(user=unique("stranger"), allCalendars=True, **EVERY_FLAG)["token"]
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": MEETING}
    assert stack.call("POST", "/source", no_flag, json=body).status_code == 403
    assert stack.call("POST", "/source", stranger, json=body).status_code == 403


# ---------------------------------------------------------------- event types
@pytest.mark.parametrize("path", ["/eventypes", "/eventtypes"])
def test_event_types_are_listed_in_both_spellings(stack: StackClient, owner: dict[str, Any], path: str) -> None:
    response = stack.call("GET", path, owner["token"])
    assert response.status_code == 200
    keys = [t["key"] for t in response.json()]
    assert keys[:7] == ["vacation", "sickness", "trip", "meeting", "jira", "sprint", "version"]


def test_custom_event_type_lifecycle(stack: StackClient, owner: dict[str, Any]) -> None:
    key = unique("offsite")
    # Only admin tokens create types
    assert stack.call("POST", "/eventypes", owner["token"], json={"name": "Offsite", "key": key}).status_code == 403
    created = stack.admin("POST", "/eventypes", json={"name": "Offsite", "key": key, "usersRequired": True})
    assert created.status_code == 200, created.text
    assert created.json()["systemType"] is False
    # It is listed, and a source may use it
    assert key in [t["key"] for t in stack.call("GET", "/eventypes", owner["token"]).json()]
    cal = create_calendar(stack, owner["token"])
    src = create_source(stack, owner["token"], cal["id"], eventTypeId=key)
    assert src["eventType"]["key"] == key
    # PUT renames it; predefined types cannot change
    renamed = stack.admin("PUT", "/eventypes", json={"key": key, "name": "Offsites"})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Offsites")
    assert stack.admin("PUT", "/eventypes", json={"key": "meeting", "name": "x"}).status_code == 403
    assert stack.admin("DELETE", "/eventypes/vacation").status_code == 403
    # In use: 409; once the source is gone: 200, then 404
    assert stack.admin("DELETE", f"/eventypes/{key}").status_code == 409
    assert stack.call("DELETE", f"/source/{src['id']}", owner["token"]).status_code == 200
    assert stack.admin("DELETE", f"/eventypes/{key}").status_code == 200
    assert stack.admin("DELETE", f"/eventypes/{key}").status_code == 404
