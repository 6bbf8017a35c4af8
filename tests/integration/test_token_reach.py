"""Tokens create, see and revoke only tokens within their reach (issue 16 item 2).

Regression: a calendar-scoped admin token minted an all-calendars admin token for another user
and could list and revoke every token; ``POST /token`` checked only ``admin``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamcal.auth.principal import Principal
from tests.conftest import api_event

pytestmark = pytest.mark.integration

ROOT = Principal(token_id=1, user="root", admin=True, all_calendars=True).to_context()
SCOPED = Principal(
    token_id=2, user="ann", admin=True, calendar_ids=frozenset({7, 8}), groups=frozenset({"dev"}), edit_sources=True
).to_context()


def call(method: str, path: str, body: Any = None, *, who: dict[str, Any], ctx: Any) -> tuple[int, Any]:
    from functions.tokens import app

    out = app.lambda_handler(api_event(method, path, body, authorizer=who), ctx)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"allCalendars": True}, "allCalendars"),
        ({"calendarIds": [7, 9]}, "calendarIds"),
        ({"calendarIds": [7], "admin": True}, "admin"),
        ({"calendarIds": [7], "editCalendars": True}, "editCalendars"),
        ({"calendarIds": [7], "deleteSources": True}, "deleteSources"),
        ({"calendarIds": [7], "user": "bob"}, "user"),
        ({"calendarIds": [7], "groups": ["dev", "admins"]}, "groups"),
    ],
)
def test_a_scoped_admin_cannot_mint_a_token_beyond_its_own_reach(
    aws: None, lambda_context: Any, asked: dict[str, Any], field: str
) -> None:
    # Given an admin token scoped to calendars 7 and 8, with editSources only
    # When it asks for a token reaching further in one respect
    status, body = call("POST", "/token", {"name": "x", "user": "ann", **asked}, who=SCOPED, ctx=lambda_context)
    # Then it is refused and the field is named
    assert status == 403, body
    assert field in body["errors"]


def test_a_scoped_admin_mints_tokens_within_its_reach(aws: None, lambda_context: Any) -> None:
    asked = {"name": "x", "user": "ann", "calendarIds": [8], "groups": ["dev"], "editSources": True}
    status, body = call("POST", "/token", asked, who=SCOPED, ctx=lambda_context)
    assert status == 201, body
    assert body["createdBy"] == 2


def test_an_all_calendars_admin_mints_anything(aws: None, lambda_context: Any) -> None:
    asked = {"name": "x", "user": "bob", "allCalendars": True, "admin": True, "deleteCalendars": True}
    status, body = call("POST", "/token", asked, who=ROOT, ctx=lambda_context)
    assert status == 201, body


def test_a_scoped_admin_lists_and_revokes_only_the_tokens_it_created(aws: None, lambda_context: Any) -> None:
    # Given one token made by the root admin and one made by the scoped admin
    _, theirs = call(
        "POST", "/token", {"name": "root's", "user": "bob", "allCalendars": True}, who=ROOT, ctx=lambda_context
    )
    _, mine = call(
        "POST", "/token", {"name": "mine", "user": "ann", "calendarIds": [7]}, who=SCOPED, ctx=lambda_context
    )
    # When the scoped admin lists tokens
    status, page = call("GET", "/token", who=SCOPED, ctx=lambda_context)
    # Then it sees only its own
    assert status == 200
    assert [t["id"] for t in page["values"]] == [mine["id"]]
    assert page["total"] == 1
    # And it cannot revoke the other one (404: existence is not revealed), but can revoke its own
    assert call("DELETE", f"/token/{theirs['id']}", who=SCOPED, ctx=lambda_context)[0] == 404
    assert call("DELETE", f"/token/{mine['id']}", who=SCOPED, ctx=lambda_context)[0] == 200
    # And the root admin still sees the other token and may revoke it
    _, everything = call("GET", "/token", who=ROOT, ctx=lambda_context)
    assert theirs["id"] in [t["id"] for t in everything["values"]]
    assert call("DELETE", f"/token/{theirs['id']}", who=ROOT, ctx=lambda_context)[0] == 200
