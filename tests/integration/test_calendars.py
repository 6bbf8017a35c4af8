"""``/calendar`` in-process against moto: every route, status code and permission rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamcal import aws as teamcal_aws
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError
from teamcal.models.calendars import CalendarRecord, CalendarUpdate
from teamcal.services import calendars as service
from teamcal.services.stores import ConfigStores
from teamcal.settings import get_settings
from teamcal.storage.calendars import CalendarRepository
from tests.conftest import api_event
from tests.integration.ccj import (
    CALENDAR_VALUE,
    ROOT,
    assert_jira_error,
    call,
    full,
    new_calendar,
    new_source,
    token,
)

pytestmark = pytest.mark.integration

DETAIL_KEYS = {
    "id",
    "publicCalendar",
    "calendarEditable",
    "permCalendarEdit",
    "eventsEditable",
    "permEventsEdit",
    "eventReporterEdit",
    "permCalendarView",
    "sources",
    "value",
    "user",
    "version",
    "created",
    "updated",
}


def get(ctx: Any, calendar_id: Any, tok: dict[str, Any] = ROOT) -> tuple[int, Any]:
    return call("calendars", "GET", f"/calendar/{calendar_id}", token=tok, ctx=ctx)


def put(ctx: Any, body: Any, tok: dict[str, Any] = ROOT, **kwargs: Any) -> tuple[int, Any]:
    return call("calendars", "PUT", "/calendar", body, token=tok, ctx=ctx, **kwargs)


# ---------------------------------------------------------------- GET /calendar
def test_list_embeds_sources_ordered_by_order(aws: None, lambda_context: Any) -> None:
    # Given a calendar whose sources were created out of order
    cal = new_calendar(lambda_context)
    third = new_source(lambda_context, cal["id"], order=3)
    first = new_source(lambda_context, cal["id"], order=1)
    second = new_source(lambda_context, cal["id"], order=2)
    # When an all-calendars token lists calendars
    status, body = call("calendars", "GET", "/calendar", token=full(), ctx=lambda_context)
    # Then it gets a plain JSON array, sources embedded in order
    assert status == 200
    assert isinstance(body, list)
    assert [c["id"] for c in body] == [cal["id"]]
    assert [s["id"] for s in body[0]["sources"]] == [first["id"], second["id"], third["id"]]
    assert set(body[0]) == {"id", "sources", "value", "user", "version", "created", "updated"}


def test_list_without_calendars_is_an_empty_array(aws: None, lambda_context: Any) -> None:
    assert call("calendars", "GET", "/calendar", token=full(), ctx=lambda_context) == (200, [])


def test_a_listing_past_the_byte_budget_ends_there_and_links_the_rest(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five calendars, and a byte budget that holds about two of them
    ids = [new_calendar(lambda_context, value=json.dumps({"name": f"cal {i}"}))["id"] for i in range(5)]
    one = len(json.dumps(call("calendars", "GET", "/calendar", token=full(), ctx=lambda_context)[1][0]))
    from teamcal.models.common import within_budget

    monkeypatch.setattr(service, "within_budget", lambda values: within_budget(values, budget=2 * one + 10))
    # When the listing is read, following Link: rel="next" (CCJ's array cannot say isLast)
    handler = __import__("functions.calendars.app", fromlist=["lambda_handler"]).lambda_handler
    seen: list[int] = []
    query: dict[str, str] | None = None
    for _ in range(5):
        out = handler(api_event("GET", "/calendar", authorizer=full(), query=query), lambda_context)
        assert out["statusCode"] == 200
        page = json.loads(out["body"])
        # Then every answer is a plain array within the budget
        assert isinstance(page, list)
        assert 1 <= len(page) <= 2
        seen += [c["id"] for c in page]
        link = ((out.get("multiValueHeaders") or {}).get("Link") or [""])[-1]
        if not link:
            break
        assert link.startswith("<?startAt=")
        assert link.endswith('>; rel="next"')
        query = {"startAt": link.removeprefix("<?startAt=").split(">")[0]}
    # And following the links yields every calendar once, oldest first
    assert seen == ids


def test_scoped_token_lists_only_its_calendars(aws: None, lambda_context: Any) -> None:
    # Given three calendars
    a, b, _ = (new_calendar(lambda_context) for _ in range(3))
    # When a token scoped to two of them (and to an id that does not exist) lists
    status, body = call(
        "calendars", "GET", "/calendar", token=token(calendars=[a["id"], b["id"], 999]), ctx=lambda_context
    )
    # Then it sees exactly those two
    assert status == 200
    assert sorted(c["id"] for c in body) == sorted([a["id"], b["id"]])


def test_scoped_listing_reads_more_than_one_batch_of_ids(aws: None, lambda_context: Any) -> None:
    # Given a token scoped to 250 ids (BatchGetItem takes 100 a call), one of which exists
    cal = new_calendar(lambda_context)
    scope = [*range(1, 250), cal["id"]]
    # Then the listing finds that one
    status, body = call("calendars", "GET", "/calendar", token=token(calendars=scope), ctx=lambda_context)
    assert (status, [c["id"] for c in body]) == (200, [cal["id"]])


def test_private_calendar_is_listed_only_for_who_may_view_it(aws: None, lambda_context: Any) -> None:
    # Given a private calendar of bob's, viewable by the group "team"
    private = new_calendar(
        lambda_context, publicCalendar=False, user="bob", permCalendarView={"groups": ["team"], "users": []}
    )
    public = new_calendar(lambda_context)
    # Then ann (not in the group) sees only the public one, a team member sees both
    _, ann = call("calendars", "GET", "/calendar", token=full("ann"), ctx=lambda_context)
    _, member = call("calendars", "GET", "/calendar", token=full("carl", groups=["team"]), ctx=lambda_context)
    _, owner = call("calendars", "GET", "/calendar", token=full("bob"), ctx=lambda_context)
    assert [c["id"] for c in ann] == [public["id"]]
    assert {c["id"] for c in member} == {public["id"], private["id"]}
    assert {c["id"] for c in owner} == {public["id"], private["id"]}


# ---------------------------------------------------------------- GET /calendar/{calendarId}
def test_get_one_adds_the_permission_properties(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, calendarEditable=True, permEventsEdit={"groups": ["g"], "users": ["u"]})
    new_source(lambda_context, cal["id"])
    status, body = get(lambda_context, cal["id"], full())
    assert status == 200
    assert set(body) == DETAIL_KEYS
    assert body["calendarEditable"] is True
    assert body["permEventsEdit"] == {"groups": ["g"], "users": ["u"]}
    assert body["permCalendarEdit"] == {"groups": [], "users": []}
    assert len(body["sources"]) == 1


@pytest.mark.parametrize("path_id", ["123456", "abc", "0", "-5", "99999999999999999999"])
def test_get_unknown_or_malformed_id_is_404(aws: None, lambda_context: Any, path_id: str) -> None:
    status, body = get(lambda_context, path_id)
    assert status == 404
    assert_jira_error(body)


def test_get_outside_the_token_scope_is_404(aws: None, lambda_context: Any) -> None:
    # Given a calendar and a token scoped to another one
    cal = new_calendar(lambda_context)
    # Then the calendar does not exist for that token
    status, body = get(lambda_context, cal["id"], token(calendars=[cal["id"] + 1]))
    assert status == 404
    assert body == {"errorMessages": [f"calendar {cal['id']} not found"], "errors": {}}


def test_private_calendar_of_another_user_is_404(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, publicCalendar=False, user="bob")
    assert get(lambda_context, cal["id"], full("ann"))[0] == 404
    assert get(lambda_context, cal["id"], full("bob"))[0] == 200
    assert get(lambda_context, cal["id"], full("ann", admin=True))[0] == 200


def test_route_without_authorizer_context_is_401(aws: None, lambda_context: Any) -> None:
    status, body = call("calendars", "GET", "/calendar", token={}, ctx=lambda_context)
    assert status == 401
    assert_jira_error(body)


# ---------------------------------------------------------------- POST /calendar
def test_post_creates_with_defaults_and_the_token_user_as_owner(aws: None, lambda_context: Any) -> None:
    # Given an all-calendars token that may edit calendars
    # When it posts the minimum
    status, body = call(
        "calendars", "POST", "/calendar", {"value": CALENDAR_VALUE}, token=full("ann"), ctx=lambda_context
    )
    # Then the calendar is private, owned by ann, at version 1, with a fresh integer id
    assert status == 200
    assert body["user"] == "ann"
    assert body["publicCalendar"] is False
    assert body["calendarEditable"] is False
    assert body["version"] == 1
    assert isinstance(body["id"], int)
    assert 0 < body["id"] < 2**53
    assert body["value"] == CALENDAR_VALUE
    assert body["sources"] == []
    # And it can be read back
    assert get(lambda_context, body["id"], full("ann"))[1] == body


def test_post_private_calendar_with_users_and_groups(aws: None, lambda_context: Any) -> None:
    grants = {
        "permCalendarEdit": {"groups": ["leads"], "users": ["u1"]},
        "permEventsEdit": {"groups": ["devs"], "users": []},
        "permCalendarView": {"groups": ["all-staff"], "users": ["u2"]},
    }
    body = new_calendar(lambda_context, full("ann"), publicCalendar=False, eventsEditable=True, **grants)
    assert body["publicCalendar"] is False
    assert body["eventsEditable"] is True
    for name, grant in grants.items():
        assert body[name] == grant


@pytest.mark.parametrize(
    ("tok", "extra"),
    [
        pytest.param(token(calendars=[1], edit_calendars=True), {}, id="scoped token"),
        pytest.param(token(edit_calendars=False), {}, id="no edit_calendars flag"),
        pytest.param(token(calendars=[1], edit_calendars=True), {"user": "bob"}, id="scoped token naming an owner"),
    ],
)
def test_post_needs_an_all_calendars_token_that_may_edit(
    aws: None, lambda_context: Any, tok: dict[str, Any], extra: dict[str, Any]
) -> None:
    status, err = call(
        "calendars", "POST", "/calendar", {"value": CALENDAR_VALUE, **extra}, token=tok, ctx=lambda_context
    )
    assert status == 403
    assert_jira_error(err)
    assert call("calendars", "GET", "/calendar", token=ROOT, ctx=lambda_context) == (200, [])


def test_admin_may_create_a_calendar_for_another_user(aws: None, lambda_context: Any) -> None:
    body = new_calendar(lambda_context, full("root", admin=True), user="bob")
    assert body["user"] == "bob"


@pytest.mark.parametrize(
    ("event_kwargs", "field"),
    [
        ({"raw_body": "{not json"}, None),
        ({"body": [1]}, None),
        ({"body": {}}, "value"),
        ({"body": {"value": {"name": "x"}}}, "value"),
        ({"body": {"value": "not json"}}, "value"),
        ({"body": {"value": "[1, 2]"}}, "value"),
        ({"body": {"value": '{"name": 1}'}}, "value.name"),
        ({"body": {"value": '{"description": "no name"}'}}, "value.name"),
        ({"body": {"value": '{"name": "x", "usersFromEvents": "yes"}'}}, "value.usersFromEvents"),
        ({"body": {"value": '{"name": "x", "timeZone": "Mars/Olympus"}'}}, "value.timeZone"),
        ({"body": {"value": '{"name": NaN}'}}, "value"),
        ({"body": {"value": CALENDAR_VALUE, "publicCalendar": "yes"}}, "publicCalendar"),
        ({"body": {"value": CALENDAR_VALUE, "permCalendarEdit": {"users": "ann"}}}, "permCalendarEdit.users"),
        ({"body": {"value": CALENDAR_VALUE, "permCalendarEdit": {"users": [5]}}}, "permCalendarEdit.users.0"),
        ({"body": {"value": "x" * 70_000}}, "value"),
        ({"body": {"value": CALENDAR_VALUE, "permCalendarView": {"users": ["u"] * 101}}}, "permCalendarView.users"),
    ],
)
def test_post_bad_input_is_400_naming_the_field(
    aws: None, lambda_context: Any, event_kwargs: dict[str, Any], field: str | None
) -> None:
    body = event_kwargs.pop("body", None)
    status, err = call("calendars", "POST", "/calendar", body, token=full(), ctx=lambda_context, **event_kwargs)
    assert status == 400
    assert_jira_error(err, field)


def test_value_keeps_unknown_keys_and_its_exact_bytes(aws: None, lambda_context: Any) -> None:
    raw = '{ "name":"Ops" ,"timeZone":"Europe/Vienna","x-client":{"theme":[1,2]},"description":"é \\u00e9"}'
    body = new_calendar(lambda_context, value=raw)
    assert body["value"] == raw
    assert get(lambda_context, body["id"])[1]["value"] == raw


# ---------------------------------------------------------------- PUT /calendar
def test_put_without_id_is_400_missing_calendar_id(aws: None, lambda_context: Any) -> None:
    status, body = put(lambda_context, {"value": CALENDAR_VALUE})
    assert status == 400
    assert body == {"errorMessages": ["Missing calendar ID"], "errors": {"id": "Missing calendar ID"}}


def test_put_replaces_value_whole_and_keeps_absent_properties(aws: None, lambda_context: Any) -> None:
    # Given a calendar with a description and an events-edit grant
    cal = new_calendar(
        lambda_context,
        value=json.dumps({"name": "A", "description": "old", "usersFromEvents": True}),
        permEventsEdit={"groups": ["g"], "users": []},
    )
    new_source(lambda_context, cal["id"])
    # When the value is PUT without its description
    new_value = json.dumps({"name": "B"})
    status, body = put(lambda_context, {"id": cal["id"], "value": new_value})
    # Then the value is exactly the new one, the grant is kept, the version moved on
    assert status == 200
    assert body["value"] == new_value
    assert body["permEventsEdit"] == {"groups": ["g"], "users": []}
    assert body["version"] == 2
    assert body["updated"] >= cal["updated"]
    assert len(body["sources"]) == 1
    assert get(lambda_context, cal["id"])[1] == body


def test_put_echoing_a_get_response_is_accepted(aws: None, lambda_context: Any) -> None:
    # Given what a client read (with sources and read-only fields)
    cal = new_calendar(lambda_context)
    new_source(lambda_context, cal["id"])
    _, read = get(lambda_context, cal["id"])
    # When it sends it back with a new value
    status, body = put(lambda_context, {**read, "value": json.dumps({"name": "Renamed"})})
    # Then the update succeeds
    assert status == 200
    assert json.loads(body["value"]) == {"name": "Renamed"}


def test_put_unknown_or_out_of_scope_calendar_is_404(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    assert put(lambda_context, {"id": 424242, "value": CALENDAR_VALUE})[0] == 404
    scoped = token(calendars=[cal["id"] + 1], edit_calendars=True)
    assert put(lambda_context, {"id": cal["id"], "value": CALENDAR_VALUE}, scoped)[0] == 404


def test_put_without_edit_calendars_flag_is_403(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, full("ann"))
    status, body = put(lambda_context, {"id": cal["id"], "value": CALENDAR_VALUE}, token("ann"))
    assert status == 403
    assert body["errorMessages"] == ["this token may not edit calendars"]


@pytest.mark.parametrize(
    ("settings", "editor", "expected"),
    [
        pytest.param({"calendarEditable": False}, full("ed"), 403, id="not editable: others refused"),
        pytest.param({"calendarEditable": True}, full("ed"), 200, id="editable, empty grant: everyone"),
        pytest.param(
            {"calendarEditable": True, "permCalendarEdit": {"groups": [], "users": ["x"]}},
            full("ed"),
            403,
            id="editable, not listed",
        ),
        pytest.param(
            {"calendarEditable": True, "permCalendarEdit": {"groups": ["leads"], "users": []}},
            full("ed", groups=["leads"]),
            200,
            id="editable, listed by group",
        ),
        pytest.param(
            {"calendarEditable": True, "permCalendarEdit": {"groups": [], "users": ["ed"]}},
            full("ed"),
            200,
            id="editable, listed by user",
        ),
        pytest.param({"calendarEditable": False}, full("owner"), 200, id="owner always"),
        pytest.param({"calendarEditable": False}, full("ed", admin=True), 200, id="admin always"),
    ],
)
def test_put_edit_permission(
    aws: None, lambda_context: Any, settings: dict[str, Any], editor: dict[str, Any], expected: int
) -> None:
    cal = new_calendar(lambda_context, full("root", admin=True), user="owner", **settings)
    status, _ = put(lambda_context, {"id": cal["id"], "value": json.dumps({"name": "edited"})}, editor)
    assert status == expected


def test_editor_may_not_change_permissions_but_the_owner_may(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, full("owner"), calendarEditable=True)
    # An editor (everyone may edit) sending the stored permissions unchanged is fine
    assert put(lambda_context, {"id": cal["id"], "calendarEditable": True}, full("ed"))[0] == 200
    # But publishing or re-granting is for the owner
    status, body = put(lambda_context, {"id": cal["id"], "publicCalendar": False}, full("ed"))
    assert (status, body["errorMessages"]) == (
        403,
        ["only the calendar's owner or an admin token may change its permissions"],
    )
    assert put(lambda_context, {"id": cal["id"], "permCalendarEdit": {"users": ["ed"]}}, full("ed"))[0] == 403
    assert put(lambda_context, {"id": cal["id"], "publicCalendar": False}, full("owner"))[0] == 200


def test_only_an_admin_token_changes_the_owner(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, full("owner"))
    assert put(lambda_context, {"id": cal["id"], "user": "other"}, full("owner"))[0] == 403
    status, body = put(lambda_context, {"id": cal["id"], "user": "other"}, full("root", admin=True))
    assert (status, body["user"]) == (200, "other")


def test_two_puts_from_the_same_version_one_wins_one_gets_409(aws: None, lambda_context: Any) -> None:
    # Given a calendar at version 1
    cal = new_calendar(lambda_context)
    # When two clients PUT based on version 1
    first = put(lambda_context, {"id": cal["id"], "version": 1, "value": json.dumps({"name": "first"})})
    second = put(lambda_context, {"id": cal["id"], "version": 1, "value": json.dumps({"name": "second"})})
    # Then one wins, the other gets 409, and the stored value is the winner's
    assert first[0] == 200
    assert second[0] == 409
    assert_jira_error(second[1])
    assert json.loads(get(lambda_context, cal["id"])[1]["value"]) == {"name": "first"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [("1", 200), ('"1"', 200), ('W/"1"', 200), ("*", 200), ("2", 409), ("abc", 400)],
)
def test_if_match_header_carries_the_version(aws: None, lambda_context: Any, header: str, expected: int) -> None:
    cal = new_calendar(lambda_context)
    status, body = put(lambda_context, {"id": cal["id"], "value": CALENDAR_VALUE}, headers={"If-Match": header})
    assert status == expected
    if expected == 400:
        assert_jira_error(body, "If-Match")


def test_if_match_and_body_version_must_agree(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context)
    status, body = put(lambda_context, {"id": cal["id"], "version": 1}, headers={"if-match": '"2"'})
    assert status == 400
    assert_jira_error(body, "version")


def test_a_write_racing_between_read_and_write_loses_with_409(aws: None) -> None:
    # Given a repository in which another request writes right after our read
    settings = get_settings()
    client = teamcal_aws.client("dynamodb")
    plain = ConfigStores.connect(client, settings.calendars_table, settings.sources_table)
    owner = Principal(token_id=1, user="ann", all_calendars=True, edit_calendars=True)
    from teamcal.models.calendars import CalendarCreate

    created = service.create_calendar(plain, owner, CalendarCreate(value=CALENDAR_VALUE))

    class RacingRepository(CalendarRepository):
        def get(self, calendar_id: int) -> CalendarRecord | None:
            found = super().get(calendar_id)
            assert found is not None
            super().update(calendar_id, {"value": '{"name":"other writer"}'}, found.version, 1)
            return found

    racing = ConfigStores(RacingRepository(client, settings.calendars_table), plain.sources, plain.event_types)
    # When our PUT (which sends no version at all) writes
    # Then it is refused instead of silently overwriting the other write
    with pytest.raises(ConflictError):
        service.update_calendar(racing, owner, CalendarUpdate(id=created.id, value='{"name":"mine"}'), None)
    assert json.loads(service.get_calendar(plain, owner, created.id).value) == {"name": "other writer"}


# ---------------------------------------------------------------- DELETE /calendar/{calendarId}
def test_delete_returns_the_calendar_and_removes_it_with_its_sources(aws: None, lambda_context: Any) -> None:
    cal = new_calendar(lambda_context, full("ann"))
    src = new_source(lambda_context, cal["id"], full("ann"))
    status, body = call("calendars", "DELETE", f"/calendar/{cal['id']}", token=full("ann"), ctx=lambda_context)
    assert status == 200
    assert body["id"] == cal["id"]
    assert set(body) == DETAIL_KEYS
    assert [s["id"] for s in body["sources"]] == [src["id"]]
    assert get(lambda_context, cal["id"])[0] == 404
    assert call("sources", "GET", f"/source/{src['id']}", token=ROOT, ctx=lambda_context)[0] == 404
    assert call("calendars", "DELETE", f"/calendar/{cal['id']}", token=full("ann"), ctx=lambda_context)[0] == 404


@pytest.mark.parametrize(
    ("tok", "expected"),
    [
        pytest.param(full("owner", delete_calendars=False), 403, id="no delete flag"),
        pytest.param(full("editor"), 403, id="an editor is not the owner"),
        pytest.param(full("owner"), 200, id="owner with the flag"),
        pytest.param(full("someone", admin=True), 200, id="admin with the flag"),
        pytest.param(full("someone", admin=True, delete_calendars=False), 403, id="admin without the flag"),
        pytest.param(token("owner", calendars=[1], delete_calendars=True), 404, id="out of scope"),
    ],
)
def test_delete_permission(aws: None, lambda_context: Any, tok: dict[str, Any], expected: int) -> None:
    cal = new_calendar(lambda_context, full("owner"), calendarEditable=True)
    status, body = call("calendars", "DELETE", f"/calendar/{cal['id']}", token=tok, ctx=lambda_context)
    assert status == expected, body
    assert get(lambda_context, cal["id"])[0] == (404 if expected == 200 else 200)
