"""``/source`` in-process against moto: every route, status code and permission rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ccj import (
    MEETING_VALUE,
    ROOT,
    assert_jira_error,
    call,
    full,
    new_calendar,
    new_source,
    token,
)

pytestmark = pytest.mark.integration

SOURCE_KEYS = {"id", "calendarId", "emailsEnabled", "eventType", "order", "value", "version", "created", "updated"}
JIRA_VALUE = json.dumps({"name": "Due dates", "color": "#cc6fcc", "singleDates": ["duedate"], "dateRanges": []})
SPRINT_VALUE = json.dumps({"name": "Sprints", "color": "#cc6fcc", "boardId": 132, "show": 0, "state": 0})


def get(ctx: Any, source_id: Any, tok: dict[str, Any] = ROOT) -> tuple[int, Any]:
    return call("sources", "GET", f"/source/{source_id}", token=tok, ctx=ctx)


def post(ctx: Any, body: Any, tok: dict[str, Any] = ROOT, **kwargs: Any) -> tuple[int, Any]:
    return call("sources", "POST", "/source", body, token=tok, ctx=ctx, **kwargs)


def put(ctx: Any, body: Any, tok: dict[str, Any] = ROOT, **kwargs: Any) -> tuple[int, Any]:
    return call("sources", "PUT", "/source", body, token=tok, ctx=ctx, **kwargs)


def delete(ctx: Any, source_id: Any, tok: dict[str, Any] = ROOT) -> tuple[int, Any]:
    return call("sources", "DELETE", f"/source/{source_id}", token=tok, ctx=ctx)


# ---------------------------------------------------------------- POST /source
@pytest.mark.parametrize(
    ("type_ref", "value", "expected_type"),
    [
        ("meeting", MEETING_VALUE, {"key": "meeting", "name": "Meetings", "usersRequired": True}),
        (4, MEETING_VALUE, {"key": "meeting", "name": "Meetings", "usersRequired": True}),
        ("4", MEETING_VALUE, {"key": "meeting", "name": "Meetings", "usersRequired": True}),
        ("trip", MEETING_VALUE, {"key": "trip", "name": "Business trips", "usersRequired": True}),
        ("jira", JIRA_VALUE, {"key": "jira", "name": "Jira dates", "usersRequired": False}),
        ("sprint", SPRINT_VALUE, {"key": "sprint", "name": "Jira sprints", "usersRequired": False}),
    ],
)
def test_post_creates_a_source_with_its_event_type_embedded(
    aws: None, lambda_context: Any, type_ref: Any, value: str, expected_type: dict[str, Any]
) -> None:
    # Given a calendar
    cal = new_calendar(lambda_context)
    # When a source is posted naming its type by key or id
    status, body = post(lambda_context, {"eventTypeId": type_ref, "calendarConfigurationId": cal["id"], "value": value})
    # Then it comes back with the CCJ fields, its type embedded, at order 1, version 1
    assert status == 200, body
    assert set(body) == SOURCE_KEYS
    assert body["calendarId"] == cal["id"]
    assert body["order"] == 1
    assert body["version"] == 1
    assert body["emailsEnabled"] is False
    assert body["value"] == value
    assert set(body["eventType"]) == {"issueRequired", "key", "name", "projectRequired", "systemType", "usersRequired"}
    assert body["eventType"].items() >= {**expected_type, "systemType": True}.items()
    # And GET reads the same thing
    assert get(lambda_context, body["id"]) == (200, body)


def test_order_defaults_to_after_the_last_source(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    assert new_source(lambda_context, cal["id"], order=7)["order"] == 7
    assert new_source(lambda_context, cal["id"])["order"] == 8


def test_calendar_id_is_accepted_as_a_synonym(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    status, body = post(lambda_context, {"eventTypeId": "meeting", "calendarId": cal["id"], "value": MEETING_VALUE})
    assert (status, body["calendarId"]) == (200, cal["id"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"eventTypeId": "holiday"}, "eventTypeId"),
        ({"eventTypeId": 999}, "eventTypeId"),
        ({"eventTypeId": True}, "eventTypeId"),
        ({"eventTypeId": None}, "eventTypeId"),
        ({"calendarConfigurationId": "abc"}, "calendarConfigurationId"),
        ({"emailsEnabled": "no"}, "emailsEnabled"),
        ({"value": {"name": "x", "color": "#000000"}}, "value"),
        ({"value": "{"}, "value"),
        ({"value": '"a string"'}, "value"),
        ({"value": json.dumps({"color": "#7500ca"})}, "value.name"),
        ({"value": json.dumps({"name": "x"})}, "value.color"),
        ({"value": json.dumps({"name": "x", "color": "red"})}, "value.color"),
        ({"value": json.dumps({"name": "x", "color": "#12345"})}, "value.color"),
        ({"value": json.dumps({"name": "x", "color": "#7500ca", "concurrence": "maybe"})}, "value.concurrence"),
        (
            {"value": json.dumps({"name": "x", "color": "#7500ca", "issueFields": [{"id": "a", "showInfo": 1}]})},
            "value.issueFields.0.showInfo",
        ),
        ({"value": json.dumps({"name": "x", "color": "#7500ca", "projectId": "10"})}, "value.projectId"),
        ({"order": -1}, "order"),
    ],
)
def test_post_bad_input_is_400_naming_the_field(
    aws: None, lambda_context: Any, change: dict[str, Any], field: str
) -> None:
    cal = new_calendar(lambda_context)
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": MEETING_VALUE, **change}
    status, err = post(lambda_context, body)
    assert status == 400
    assert_jira_error(err, field)


def test_value_schema_depends_on_the_event_type(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    base = {"calendarConfigurationId": cal["id"]}
    bad_board = json.dumps({"name": "S", "color": "#cc6fcc", "boardId": "132"})
    bad_dates = json.dumps({"name": "J", "color": "#cc6fcc", "singleDates": "duedate"})
    assert post(lambda_context, {**base, "eventTypeId": "sprint", "value": bad_board})[1]["errors"] == {
        "value.boardId": "Input should be a valid integer"
    }
    assert "value.singleDates" in post(lambda_context, {**base, "eventTypeId": "jira", "value": bad_dates})[1]["errors"]
    # boardId means nothing to a meeting source: it is kept as an unknown key
    assert post(lambda_context, {**base, "eventTypeId": "meeting", "value": bad_board})[0] == 200


def test_post_malformed_json_is_400(aws: None, lambda_context: Any) -> None:
    status, body = post(lambda_context, None, raw_body='{"eventTypeId": ')
    assert status == 400
    assert body == {"errorMessages": ["The request body is not valid JSON"], "errors": {}}


@pytest.mark.parametrize(
    "case",
    ["missing", "out of scope", "private to others", "being deleted"],
)
def test_post_to_a_calendar_the_token_cannot_reach_is_404_naming_the_field(
    aws: None, lambda_context: Any, case: str
) -> None:
    # Given a calendar the token may not reach
    cal = new_calendar(lambda_context, publicCalendar=case != "private to others", user="bob")
    calendar_id = cal["id"] + (1 if case == "missing" else 0)
    tok = full("ann") if case != "out of scope" else token("ann", calendars=[cal["id"] + 1], edit_sources=True)
    if case == "being deleted":
        from teamcal import aws as teamcal_aws
        from teamcal.settings import get_settings
        from teamcal.storage.calendars import CalendarRepository

        CalendarRepository(teamcal_aws.client("dynamodb"), get_settings().calendars_table).mark_deleting(
            cal["id"], 1, 1
        )
    # When a source is posted to it
    status, body = post(
        lambda_context, {"eventTypeId": "meeting", "calendarConfigurationId": calendar_id, "value": MEETING_VALUE}, tok
    )
    # Then it is a 404 whose body names the field
    assert status == 404
    assert body["errors"] == {"calendarConfigurationId": f"calendar {calendar_id} not found"}


@pytest.mark.parametrize(
    ("settings", "tok", "expected"),
    [
        pytest.param({}, full("owner", edit_sources=False), 403, id="no edit_sources flag"),
        pytest.param({}, full("owner"), 200, id="owner with the flag"),
        pytest.param({"calendarEditable": False}, full("other"), 403, id="calendar not editable by others"),
        pytest.param({"calendarEditable": True}, full("other"), 200, id="editable by everyone who views"),
        pytest.param(
            {"calendarEditable": True, "permCalendarEdit": {"groups": ["ops"], "users": []}},
            full("other"),
            403,
            id="editable by a group the user is not in",
        ),
        pytest.param(
            {"calendarEditable": True, "permCalendarEdit": {"groups": ["ops"], "users": []}},
            full("other", groups=["ops"]),
            200,
            id="editable by the user's group",
        ),
        pytest.param({}, full("other", admin=True), 200, id="admin"),
    ],
)
def test_post_permission(
    aws: None, lambda_context: Any, settings: dict[str, Any], tok: dict[str, Any], expected: int
) -> None:
    cal = new_calendar(lambda_context, user="owner", **settings)
    body = {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": MEETING_VALUE}
    status, err = post(lambda_context, body, tok)
    assert status == expected, err


# ---------------------------------------------------------------- GET /source/{sourceId}
def test_get_source_outside_the_token_or_missing_is_404(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"])
    assert get(lambda_context, src["id"], token(calendars=[cal["id"]]))[0] == 200
    assert get(lambda_context, src["id"], token(calendars=[cal["id"] + 1]))[0] == 404
    assert get(lambda_context, src["id"] + 1)[0] == 404
    assert get(lambda_context, "nope")[0] == 404


def test_get_source_of_a_private_calendar_is_404_for_others(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, publicCalendar=False, user="bob")
    src = new_source(lambda_context, cal["id"])
    status, body = get(lambda_context, src["id"], full("ann"))
    assert status == 404
    assert body["errorMessages"] == [f"source {src['id']} not found"]
    assert get(lambda_context, src["id"], full("bob"))[0] == 200


# ---------------------------------------------------------------- PUT /source
def test_put_replaces_value_whole_and_keeps_absent_fields(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"], emailsEnabled=True, order=4)
    new_value = json.dumps({"name": "Renamed", "color": "#000000"})
    status, body = put(lambda_context, {"id": src["id"], "value": new_value})
    assert status == 200
    assert body["value"] == new_value
    assert body["emailsEnabled"] is True
    assert body["order"] == 4
    assert body["version"] == 2
    assert get(lambda_context, src["id"]) == (200, body)


def test_put_echoing_a_get_response_is_accepted(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"])
    status, body = put(lambda_context, {**src, "emailsEnabled": True, "eventTypeId": "meeting"})
    assert (status, body["emailsEnabled"], body["version"]) == (200, True, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"eventTypeId": "jira"}, "eventTypeId"),
        ({"eventTypeId": "unknown-type"}, "eventTypeId"),
        ({"calendarConfigurationId": 1}, "calendarConfigurationId"),
        ({"value": json.dumps({"name": "x", "color": "#GGGGGG"})}, "value.color"),
        ({"value": 5}, "value"),
    ],
)
def test_put_bad_input_is_400(aws: None, lambda_context: Any, change: dict[str, Any], field: str) -> None:
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"])
    body = {"id": src["id"], **change}
    status, err = put(lambda_context, {k: v for k, v in body.items() if v is not None})
    assert status == 400
    assert_jira_error(err, field)
    if field == "id":
        assert err["errorMessages"] == ["Missing source ID"]


def test_put_permission_and_scope(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, user="owner")
    src = new_source(lambda_context, cal["id"])
    body = {"id": src["id"], "emailsEnabled": True}
    assert put(lambda_context, body, full("owner", edit_sources=False))[0] == 403
    assert put(lambda_context, body, full("stranger"))[0] == 403
    assert put(lambda_context, body, token("owner", calendars=[cal["id"] + 1], edit_sources=True))[0] == 404
    assert put(lambda_context, {**body, "id": src["id"] + 1})[0] == 404
    assert put(lambda_context, body, full("owner"))[0] == 200


def test_two_puts_from_the_same_version_one_wins_one_gets_409(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"])
    first_value = json.dumps({"name": "first", "color": "#111111"})
    first = put(lambda_context, {"id": src["id"], "version": 1, "value": first_value})
    second = put(
        lambda_context,
        {"id": src["id"], "value": json.dumps({"name": "second", "color": "#222222"})},
        headers={"If-Match": "1"},
    )
    assert first[0] == 200
    assert second[0] == 409
    assert get(lambda_context, src["id"])[1]["value"] == first_value


# ---------------------------------------------------------------- DELETE /source/{sourceId}
def test_delete_returns_the_source_and_removes_it(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    keep = new_source(lambda_context, cal["id"])
    gone = new_source(lambda_context, cal["id"])
    status, body = delete(lambda_context, gone["id"])
    assert (status, body) == (200, gone)
    assert get(lambda_context, gone["id"])[0] == 404
    assert delete(lambda_context, gone["id"])[0] == 404
    _, calendar = call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    assert [s["id"] for s in calendar["sources"]] == [keep["id"]]


@pytest.mark.parametrize(
    ("tok", "expected"),
    [
        pytest.param(full("owner", delete_sources=False), 403, id="no delete_sources flag"),
        pytest.param(token("owner", edit_sources=True), 403, id="edit flag is not delete flag"),
        pytest.param(full("stranger"), 403, id="user may not edit the calendar"),
        pytest.param(token("owner", calendars=[1], delete_sources=True), 404, id="out of scope"),
        pytest.param(token("owner", delete_sources=True), 200, id="owner with the flag"),
    ],
)
def test_delete_permission(aws: None, lambda_context: Any, tok: dict[str, Any], expected: int) -> None:
    cal = new_calendar(lambda_context, user="owner")
    src = new_source(lambda_context, cal["id"])
    assert delete(lambda_context, src["id"], tok)[0] == expected
    assert get(lambda_context, src["id"])[0] == (404 if expected == 200 else 200)
