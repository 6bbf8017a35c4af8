"""Issue 16 end to end over the local stack: the CR/LF injection through ``userKeys`` and the
token escalation of a calendar-scoped admin."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

FORGED = (
    "alice\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@teamcal\r\nSEQUENCE:99\r\n"
    "SUMMARY:Board meeting CANCELLED\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM"
)


def test_crlf_in_user_keys_is_refused_and_the_export_has_only_the_real_event(stack: StackClient) -> None:
    # Given the owner's calendar with one event, and an editor's token on it
    created = stack.admin(
        "POST",
        "/calendar",
        json={"publicCalendar": True, "eventsEditable": True, "value": json.dumps({"name": "Board"})},
    )
    assert created.status_code == 200, created.text
    calendar = created.json()
    value = json.dumps({"name": "Meetings", "color": "#7500ca"})
    made = stack.admin(
        "POST", "/source", json={"eventTypeId": "meeting", "calendarConfigurationId": calendar["id"], "value": value}
    )
    assert made.status_code == 200, made.text
    source = made.json()
    real = {"eventTypeConfigId": source["id"], "summary": "Board meeting", "startDate": 1_780_000_000_000}
    real["endDate"] = real["startDate"] + 3_600_000
    assert stack.admin("POST", "/event", json={"mode": "add", "event": real}).status_code == 200
    editor = stack.new_token(user="mallory", calendarIds=[calendar["id"]])["token"]
    # When the editor sends a userKeys entry carrying CR/LF and a whole forged VEVENT
    forged = {**real, "summary": "Copy", "userKeys": [FORGED]}
    response = stack.call("POST", "/event", editor, json={"mode": "add", "event": forged})
    # Then it is a 400 with Jira's body naming userKeys
    assert response.status_code == 400, response.text
    assert any("userKeys" in key for key in response.json()["errors"])
    # And the export holds the one real VEVENT, no forged UID, no VALARM
    export = stack.admin("GET", f"/calendar/{calendar['id']}/export")
    assert export.status_code == 200, export.text
    lines = export.text.replace("\r\n ", "").split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 1
    assert not [line for line in lines if line.startswith(("UID:forged", "BEGIN:VALARM", "SEQUENCE:99"))]


def test_a_scoped_admin_cannot_mint_an_all_calendars_admin_nor_see_other_tokens(stack: StackClient) -> None:
    # Given an admin token scoped to one calendar
    created = stack.admin("POST", "/calendar", json={"publicCalendar": True, "value": json.dumps({"name": "Scoped"})})
    calendar = created.json()
    scoped = stack.new_token(user="eve", calendarIds=[calendar["id"]], admin=True)
    # When it asks for an all-calendars admin token for another user
    asked = {"name": "escalate", "user": "root", "allCalendars": True, "admin": True, "deleteCalendars": True}
    response = stack.call("POST", "/token", scoped["token"], json=asked)
    # Then it is refused, naming what reaches too far
    assert response.status_code == 403, response.text
    assert {"allCalendars", "admin", "user", "deleteCalendars"} <= set(response.json()["errors"])
    # And it lists only the tokens it created, and cannot revoke the bootstrap admin's
    own = stack.call("POST", "/token", scoped["token"], json={"name": "own", "user": "eve"}).json()
    listing = stack.call("GET", "/token", scoped["token"]).json()
    assert [t["id"] for t in listing["values"]] == [own["id"]]
    assert stack.call("DELETE", f"/token/{scoped['createdBy']}", scoped["token"]).status_code == 404
