"""Regression tests of the access gate's rules over the functions in-process (moto): calendar
creation, creating events, and import reach (issue 11, cases 4, 5 and 7)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ccj import call, full, new_source, token
from tests.integration.ical import ical
from tests.plan_ics import plan_ics

pytestmark = pytest.mark.integration

HOUR = 3_600_000
MAR10_0900 = 1_773_133_200_000


def _calendar(ctx: Any, owner: dict[str, Any], **settings: Any) -> dict[str, Any]:
    body = {"value": json.dumps({"name": "Team", "timeZone": "UTC"}), **settings}
    status, created = call("calendars", "POST", "/calendar", body, token=owner, ctx=ctx)
    assert status == 200, created
    return dict(created)


def test_calendar_creation_ccj_all_calendars_token_may_create_for_any_user(aws: None, lambda_context: Any) -> None:
    """Case 7 (failed before: 403 unless the token was an admin token)."""
    body = {"user": "userID", "value": json.dumps({"name": "Vendor sample"})}
    status, created = call("calendars", "POST", "/calendar", body, token=full("zed"), ctx=lambda_context)
    assert status == 200, created
    assert created["user"] == "userID"
    scoped = token("zed", calendars=[created["id"]], edit_calendars=True)
    assert call("calendars", "POST", "/calendar", body, token=scoped, ctx=lambda_context)[0] == 403


def test_creating_an_event_needs_the_events_edit_right(aws: None, lambda_context: Any) -> None:
    """Case 5 (failed before: ``eventReporterEdit`` let any viewer create events)."""
    owner = full("owen")
    calendar = _calendar(lambda_context, owner, publicCalendar=True, eventReporterEdit=True)
    source = new_source(lambda_context, calendar["id"], tok=owner)
    event = {
        "eventTypeConfigId": source["id"],
        "summary": "mine",
        "startDate": MAR10_0900,
        "endDate": MAR10_0900 + HOUR,
    }
    viewer = token("vic", calendars=[calendar["id"]])
    status, body = call("events", "POST", "/event", {"event": event}, token=viewer, ctx=lambda_context)
    assert status == 403, body
    # And the owner creates one for vic: vic, its reporter, may then change and delete it
    status, created = call("events", "POST", "/event", {"event": event}, token=owner, ctx=lambda_context)
    assert status == 200, created
    status, body = call(
        "events", "PUT", "/event", {"event": {"id": created["id"], "summary": "x"}}, token=viewer, ctx=lambda_context
    )
    assert status == 403, body  # reported by owen, not by vic


def test_import_touches_only_its_own_calendar(aws: None, lambda_context: Any) -> None:
    """Case 4 (failed before: bob's re-import rewrote the event ann had moved to her private
    calendar, and gave it calendar A's id with calendar B's source)."""
    ann = full("ann")
    team = _calendar(lambda_context, ann, publicCalendar=True, eventsEditable=True)
    mine = _calendar(lambda_context, ann)
    mine_source = new_source(lambda_context, mine["id"], tok=ann)
    # Given ann imported plan-1 into the team calendar and moved it to her private calendar
    status, job, _ = ical("POST", f"/calendar/{team['id']}/import", lambda_context, token=ann, raw=plan_ics(0, "Plan"))
    assert status == 202, job
    status, page = call(
        "events",
        "POST",
        "/event/search",
        {"calendarId": team["id"], "startDate": MAR10_0900 - HOUR, "endDate": MAR10_0900 + 2 * HOUR},
        token=ann,
        ctx=lambda_context,
    )
    event_id = page["values"][0]["id"]
    moved = {"event": {"id": event_id, "eventTypeConfigId": mine_source["id"]}}
    status, body = call("events", "PUT", "/event", moved, token=ann, ctx=lambda_context)
    assert status == 200, body
    # When bob, tied to the team calendar, imports plan-1 again with a higher SEQUENCE
    bob = token("bob", calendars=[team["id"]])
    status, job, _ = ical(
        "POST", f"/calendar/{team['id']}/import", lambda_context, token=bob, raw=plan_ics(5, "Hijack")
    )
    # Then nothing is imported, and ann's event is as she left it
    assert status == 400, job
    status, event = call("events", "GET", f"/event/{event_id}", token=ann, ctx=lambda_context)
    assert status == 200, event
    assert (event["summary"], event["eventTypeConfigId"]) == ("Plan", mine_source["id"])
