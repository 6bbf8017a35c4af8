"""``/eventypes`` (and ``/eventtypes``) in-process against moto: predefined and custom types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ccj import ROOT, assert_jira_error, call, full, new_calendar, new_source

pytestmark = pytest.mark.integration

PREDEFINED = [
    ("vacation", True),
    ("sickness", True),
    ("trip", True),
    ("meeting", True),
    ("jira", False),
    ("sprint", False),
    ("version", False),
]


def types(ctx: Any, path: str = "/eventypes") -> list[dict[str, Any]]:
    status, body = call("event_types", "GET", path, token=full(), ctx=ctx)
    assert status == 200
    assert isinstance(body, list)
    return list(body)


def create(ctx: Any, body: Any, tok: dict[str, Any] = ROOT) -> tuple[int, Any]:
    return call("event_types", "POST", "/eventypes", body, token=tok, ctx=ctx)


@pytest.mark.parametrize("path", ["/eventypes", "/eventtypes"])
def test_list_has_the_predefined_types_in_both_spellings(aws: None, lambda_context: Any, path: str) -> None:
    listed = types(lambda_context, path)
    assert [(t["key"], t["usersRequired"]) for t in listed] == PREDEFINED
    assert all(t["systemType"] is True for t in listed)
    assert all(t["issueRequired"] is False and t["projectRequired"] is False for t in listed)
    names = {t["key"]: t["name"] for t in listed}
    assert (names["trip"], names["meeting"], names["jira"], names["sprint"], names["version"]) == (
        "Business trips",
        "Meetings",
        "Jira dates",
        "Jira sprints",
        "Jira versions",
    )
    assert [t["id"] for t in listed] == [1, 2, 3, 4, 5, 6, 7]


def test_admin_creates_a_custom_type_usable_by_sources(aws: None, lambda_context: Any) -> None:
    # Given an admin token
    # When it creates a custom type without a key
    status, created = create(lambda_context, {"name": "Team offsite", "usersRequired": True})
    # Then the key is a slug of the name and the type is custom
    assert status == 200
    assert created["key"] == "team-offsite"
    assert created["systemType"] is False
    assert created["usersRequired"] is True
    assert created["version"] == 1
    assert types(lambda_context)[-1] == created
    # And a source may use it by key or by id, with it embedded
    cal = new_calendar(lambda_context)
    by_key = new_source(lambda_context, cal["id"], eventTypeId="team-offsite")
    by_id = new_source(lambda_context, cal["id"], eventTypeId=created["id"])
    expected = {
        k: created[k] for k in ("issueRequired", "key", "name", "projectRequired", "systemType", "usersRequired")
    }
    assert by_key["eventType"] == expected
    assert by_id["eventType"] == expected


@pytest.mark.parametrize(
    ("body", "expected", "field"),
    [
        ({"name": "Meeting", "key": "meeting"}, 409, None),
        ({"key": "x"}, 400, "name"),
        ({"name": "X", "key": "Not A Key"}, 400, "key"),
        ({"name": "X", "key": "123"}, 400, "key"),
        ({"name": "X", "usersRequired": "yes"}, 400, "usersRequired"),
    ],
)
def test_create_refusals(
    aws: None, lambda_context: Any, body: dict[str, Any], expected: int, field: str | None
) -> None:
    status, err = create(lambda_context, body)
    assert status == expected
    assert_jira_error(err, field)


def test_duplicate_custom_key_is_409_and_a_symbol_only_name_gets_a_generated_key(
    aws: None, lambda_context: Any
) -> None:
    assert create(lambda_context, {"name": "Offsite"})[0] == 200
    assert create(lambda_context, {"name": "offsite!"})[0] == 409
    status, body = create(lambda_context, {"name": "???"})
    assert status == 200
    assert body["key"] == f"custom-{body['id']}"


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_only_admin_tokens_manage_custom_types(aws: None, lambda_context: Any, method: str) -> None:
    status, body = call(
        "event_types", method, "/eventypes", {"name": "x", "key": "x"}, token=full(), ctx=lambda_context
    )
    assert status == 403
    assert body["errorMessages"] == ["custom event types are managed with an admin token"]
    assert call("event_types", "DELETE", "/eventypes/x", token=full(), ctx=lambda_context)[0] == 403


def test_update_custom_type_shows_in_embedding_sources(aws: None, lambda_context: Any) -> None:
    _, created = create(lambda_context, {"name": "Offsite", "key": "offsite"})
    cal = new_calendar(lambda_context)
    src = new_source(lambda_context, cal["id"], eventTypeId="offsite")
    status, updated = call(
        "event_types",
        "PUT",
        "/eventtypes",
        {"key": "offsite", "name": "Offsites", "usersRequired": True, "version": 1},
        token=ROOT,
        ctx=lambda_context,
    )
    assert status == 200
    assert (updated["name"], updated["usersRequired"], updated["version"], updated["id"]) == (
        "Offsites",
        True,
        2,
        created["id"],
    )
    _, read = call("sources", "GET", f"/source/{src['id']}", token=ROOT, ctx=lambda_context)
    assert read["eventType"]["name"] == "Offsites"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"key": "meeting", "name": "Meets"}, 403),
        ({"id": 4, "name": "Meets"}, 403),
        ({"key": "nope", "name": "x"}, 404),
        ({"name": "x"}, 400),
        ({"key": "offsite", "name": "x", "version": 7}, 409),
        ({"key": "offsite", "name": ""}, 400),
    ],
)
def test_update_refusals(aws: None, lambda_context: Any, body: dict[str, Any], expected: int) -> None:
    create(lambda_context, {"name": "Offsite", "key": "offsite"})
    status, err = call("event_types", "PUT", "/eventypes", body, token=ROOT, ctx=lambda_context)
    assert status == expected
    assert_jira_error(err)


def test_delete_custom_type_is_409_while_a_source_uses_it(aws: None, lambda_context: Any) -> None:
    # Given a custom type used by a source
    _, created = create(lambda_context, {"name": "Offsite", "key": "offsite"})
    cal = new_calendar(lambda_context)
    src = new_source(
        lambda_context, cal["id"], eventTypeId="offsite", value=json.dumps({"name": "o", "color": "#123456"})
    )
    # Then it cannot be deleted
    status, body = call("event_types", "DELETE", "/eventypes/offsite", token=ROOT, ctx=lambda_context)
    assert status == 409
    assert body["errorMessages"] == ["event type 'offsite' is used by 1 source(s); delete them first"]
    # When the source goes, the type may go (by id, with the other spelling)
    assert call("sources", "DELETE", f"/source/{src['id']}", token=ROOT, ctx=lambda_context)[0] == 200
    status, deleted = call("event_types", "DELETE", f"/eventtypes/{created['id']}", token=ROOT, ctx=lambda_context)
    assert (status, deleted["key"]) == (200, "offsite")
    assert [t["key"] for t in types(lambda_context)] == [k for k, _ in PREDEFINED]
    # And a source can no longer name it
    status, err = call(
        "sources",
        "POST",
        "/source",
        {
            "eventTypeId": "offsite",
            "calendarConfigurationId": cal["id"],
            "value": json.dumps({"name": "o", "color": "#123456"}),
        },
        token=ROOT,
        ctx=lambda_context,
    )
    assert status == 400
    assert_jira_error(err, "eventTypeId")


def test_deleting_a_calendar_releases_its_custom_types(aws: None, lambda_context: Any) -> None:
    create(lambda_context, {"name": "Offsite", "key": "offsite"})
    cal = new_calendar(lambda_context)
    new_source(lambda_context, cal["id"], eventTypeId="offsite")
    new_source(lambda_context, cal["id"], eventTypeId="offsite")
    assert call("event_types", "DELETE", "/eventypes/offsite", token=ROOT, ctx=lambda_context)[0] == 409
    assert call("calendars", "DELETE", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)[0] == 200
    assert call("event_types", "DELETE", "/eventypes/offsite", token=ROOT, ctx=lambda_context)[0] == 200


@pytest.mark.parametrize(("ref", "expected"), [("meeting", 403), ("4", 403), ("nope", 404), ("999", 404)])
def test_delete_refusals(aws: None, lambda_context: Any, ref: str, expected: int) -> None:
    status, body = call("event_types", "DELETE", f"/eventypes/{ref}", token=ROOT, ctx=lambda_context)
    assert status == expected
    assert_jira_error(body)
