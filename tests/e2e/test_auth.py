"""Authentication and the gateway's edges over real HTTP: the TOKEN authorizer in front of every
route, gateway responses from template.yaml, and the body checks of the functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

UNAUTHORIZED = {"errorMessages": ["Missing or invalid token: send Authorization: Bearer <token>"], "errors": {}}
NO_SUCH_RESOURCE = {"errorMessages": ["No such resource"], "errors": {}}


def assert_jira_error(body: Any) -> None:
    assert set(body) == {"errorMessages", "errors"}
    assert body["errorMessages"]
    assert all(isinstance(m, str) and m for m in body["errorMessages"])


def test_admin_creates_a_scoped_token_and_the_caller_reaches_the_function(stack: StackClient) -> None:
    # Given the bootstrap admin token
    # When it creates a token scoped to two calendars
    response = stack.admin("POST", "/token", json={"name": "scoped", "user": "ann", "calendarIds": [42, 7]})
    # Then the plaintext comes back once, with the scope
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["token"].startswith("tcal_")
    assert created["calendarIds"] == [7, 42]
    assert created["admin"] is False
    # And createdBy is the admin token's id: the authorizer's context reached the function
    listing = stack.admin("GET", "/token").json()
    admins = [t for t in listing["values"] if t["admin"] and t["name"] == "devstack admin"]
    assert [t["id"] for t in admins] == [created["createdBy"]]


def test_request_without_authorization_header_is_401_from_the_gateway(stack: StackClient) -> None:
    response = stack.call("GET", "/token")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_token_is_401(stack: StackClient) -> None:
    response = stack.call("GET", "/token", "tcal_" + "x" * 43)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer two words", "tcal_no_scheme"])
def test_malformed_authorization_header_is_401(stack: StackClient, header: str) -> None:
    response = stack.call("GET", "/token", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_revoked_token_is_401(stack: StackClient) -> None:
    # Given a token that was never used (the authorizer cache holds nothing for it)
    token = stack.new_token()
    # When the admin revokes it
    assert stack.admin("DELETE", f"/token/{token['id']}").status_code == 200
    # Then it is refused
    response = stack.call("GET", "/token", token["token"])
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_revoked_token_is_refused_at_once_though_its_answer_was_cached(stack: StackClient) -> None:
    # Given a token that has been used once (its policy is cached for AuthorizerResultTtl seconds)
    token = stack.new_token()
    assert stack.call("GET", "/token", token["token"]).status_code == 403
    # When the admin revokes it (which flushes the stage's authorizer cache)
    assert stack.admin("DELETE", f"/token/{token['id']}").status_code == 200
    # Then the gateway refuses it on its next request
    assert stack.call("GET", "/token", token["token"]).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/token", {"name": "x", "user": "u"}), ("GET", "/token", None), ("DELETE", "/token/12", None)],
)
def test_non_admin_token_gets_403_with_jira_body_on_token_routes(
    stack: StackClient, method: str, path: str, body: Any
) -> None:
    token = stack.new_token(allCalendars=True, editCalendars=True, deleteCalendars=True)
    response = stack.call(method, path, token["token"], json=body)
    assert response.status_code == 403
    assert_jira_error(response.json())
    assert "admin" in response.json()["errorMessages"][0]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/no-such-thing"), ("PUT", "/token"), ("GET", "/token/1/extra"), ("GET", "/calendarz")],
)
@pytest.mark.parametrize("with_token", [True, False])
def test_unknown_route_is_404_with_jira_body(stack: StackClient, method: str, path: str, with_token: bool) -> None:
    response = stack.call(method, path, stack.admin_token if with_token else None)
    assert response.status_code == 404
    assert response.json() == NO_SUCH_RESOURCE


def test_malformed_json_is_400_with_jira_body(stack: StackClient) -> None:
    response = stack.admin(
        "POST", "/token", data=b'{"name": "x", "user":', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_jira_error(response.json())


def test_non_utf8_body_is_400_with_jira_body(stack: StackClient) -> None:
    response = stack.admin("POST", "/token", data=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert_jira_error(response.json())


def test_body_over_one_mebibyte_is_413(stack: StackClient) -> None:
    padding = "x" * (1024 * 1024)
    response = stack.admin(
        "POST",
        "/token",
        data=f'{{"name": "{padding}", "user": "u"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert_jira_error(response.json())


def test_calendar_outside_the_token_scope_is_404_like_a_missing_one(stack: StackClient) -> None:
    # Given two public calendars and a token tied to the first one only
    ids = []
    for name in ("In scope", "Out of scope"):
        response = stack.admin("POST", "/calendar", json={"value": json.dumps({"name": name}), "publicCalendar": True})
        assert response.status_code in (200, 201), response.text
        ids.append(response.json()["id"])
    token = stack.new_token(calendarIds=[ids[0]])["token"]
    # When the token reads each calendar and one that does not exist
    mine = stack.call("GET", f"/calendar/{ids[0]}", token)
    other = stack.call("GET", f"/calendar/{ids[1]}", token)
    missing = stack.call("GET", "/calendar/9007199254740991", token)
    # Then its own calendar is served and the other is as absent as a missing one (existence not revealed)
    assert mine.status_code == 200
    assert mine.json()["id"] == ids[0]
    assert (other.status_code, missing.status_code) == (404, 404)
    assert_jira_error(other.json())
    assert_jira_error(missing.json())
    assert other.json()["errorMessages"][0].replace(str(ids[1]), "#") == missing.json()["errorMessages"][0].replace(
        "9007199254740991", "#"
    )
