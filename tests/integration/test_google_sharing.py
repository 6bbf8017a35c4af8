"""Google sync and calendar sharing: the CCJ reference's three cases, and who sees the events of
public and private Google calendars (in-process against moto, the fake Google on loopback)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.google_fake import all_day
from tests.integration.ccj import assert_jira_error, call, full
from tests.integration.google_env import GoogleEnv, env

pytestmark = pytest.mark.integration
__all__ = ["env"]

ANN = "ann@example.com"
CLUB = "club@group.calendar.google.com"
WINDOW = ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
BOB = full("bob")
ADMIN = full("root", admin=True)


def seed(env: GoogleEnv) -> None:
    """Ann's private Google calendar and a public one she owns, one event each; connected."""
    env.fake.add_calendar(ANN, "Ann", ANN)
    env.fake.add_calendar(CLUB, "Club", ANN, public=True)
    env.fake.put(ANN, all_day("private-1", "2026-03-10", "2026-03-11", summary="doctor"))
    env.fake.put(CLUB, all_day("public-1", "2026-03-12", "2026-03-13", summary="club night"))
    env.connect_oauth()


def share(env: GoogleEnv, **settings: Any) -> tuple[int, Any]:
    return env.calendars("PUT", "/calendar", {"id": env.calendar_id, **settings})


def summaries(env: GoogleEnv, tok: dict[str, Any] | None = None) -> set[str]:
    return {v["summary"] for v in env.search(*WINDOW, tok=tok)}


def test_case_1_public_google_calendars_then_sharing_works(env: GoogleEnv) -> None:
    # Given only the public Google calendar is synced
    seed(env)
    status, body = env.select(CLUB)
    assert status == 200, body
    assert body["calendars"][0]["public"] is True
    env.sync()
    # When ann shares her calendar with bob, and makes it public
    assert share(env, permCalendarView={"users": ["bob"], "groups": []})[0] == 200
    assert share(env, publicCalendar=True)[0] == 200
    # Then bob sees the public Google events
    assert summaries(env, BOB) == {"club night"}


def test_case_2_private_google_calendar_synced_then_sharing_is_refused(env: GoogleEnv) -> None:
    # Given ann's private Google calendar is synced
    seed(env)
    assert env.select(ANN, CLUB)[0] == 200
    env.sync()
    # When she tries to make the calendar public, or to grant it to a user or a group
    for settings in (
        {"publicCalendar": True},
        {"permCalendarView": {"users": ["bob"], "groups": []}},
        {"permEventsEdit": {"users": [], "groups": ["devs"]}},
    ):
        status, body = share(env, **settings)
        # Then it is refused with 409, saying why
        assert status == 409, settings
        assert_jira_error(body, "publicCalendar")
        assert "private Google calendar" in body["errorMessages"][0]
    # and other changes still work
    assert share(env, calendarEditable=True)[0] == 200
    calendar = env.calendars("GET", f"/calendar/{env.calendar_id}")[1]
    assert calendar["publicCalendar"] is False
    assert calendar["permCalendarView"] == {"groups": [], "users": []}
    # When the private Google calendar is deselected, sharing works again
    assert env.select(CLUB)[0] == 200
    assert share(env, publicCalendar=True)[0] == 200


def test_case_3_selecting_a_private_calendar_for_a_shared_calendar_needs_confirmation(env: GoogleEnv) -> None:
    # Given ann's calendar is shared (public, and granted to bob and to a group) and syncs the public one
    seed(env)
    assert env.select(CLUB)[0] == 200
    env.sync()
    assert share(env, publicCalendar=True, permCalendarView={"users": ["bob"], "groups": ["devs"]})[0] == 200
    assert summaries(env, BOB) == {"club night"}
    # When she selects her private Google calendar without confirming
    status, body = env.select(CLUB, ANN)
    # Then she gets a warning (409) and nothing changed
    assert status == 409
    assert_jira_error(body, "confirm")
    assert "loses access" in body["errorMessages"][0]
    assert [c["id"] for c in env.status()["calendars"]] == [CLUB]
    assert env.calendars("GET", f"/calendar/{env.calendar_id}")[1]["publicCalendar"] is True
    # When she confirms
    status, body = env.select(CLUB, ANN, confirm=True)
    assert status == 200, body
    env.sync()
    # Then the shares are gone: the calendar is private and granted to nobody; bob lost access
    calendar = env.calendars("GET", f"/calendar/{env.calendar_id}")[1]
    assert calendar["publicCalendar"] is False
    assert calendar["permCalendarView"] == {"groups": [], "users": []}
    status, _ = env.events(
        "POST",
        "/event/search",
        {"calendarId": env.calendar_id, "startDateIso": WINDOW[0], "endDateIso": WINDOW[1]},
        BOB,
    )
    assert status == 404
    assert summaries(env) == {"club night", "doctor"}


def test_private_google_events_are_shown_to_the_calendars_owner_only(env: GoogleEnv) -> None:
    # Given both Google calendars synced into ann's calendar
    seed(env)
    assert env.select(ANN, CLUB)[0] == 200
    env.sync()
    state = {c["id"]: c for c in env.status()["calendars"]}
    private_source = state[ANN]["sourceId"]
    # Then ann sees everything, an admin (who may view every calendar) only the public events
    assert summaries(env) == {"doctor", "club night"}
    assert summaries(env, ADMIN) == {"club night"}
    doctor = next(v for v in env.search(*WINDOW) if v["summary"] == "doctor")
    assert env.events("GET", f"/event/{doctor['id']}")[0] == 200
    assert env.events("GET", f"/event/{doctor['id']}", tok=ADMIN)[0] == 404
    body = {"sourceId": private_source, "startDateIso": WINDOW[0], "endDateIso": WINDOW[1]}
    assert env.events("POST", "/event/search", body, ADMIN)[0] == 404
    assert env.events("POST", "/event/search", body)[0] == 200


def test_private_google_events_appear_only_to_the_calendars_creator(env: GoogleEnv) -> None:
    """Issue 11, case 3 (failed before: export, the feed, GET /source and GET /calendar showed the
    private Google calendar's source or events to an admin and to the feed's anonymous reader)."""
    from tests.integration.ical import ical

    # Given ann's private and public Google calendars synced into her calendar
    seed(env)
    assert env.select(ANN, CLUB)[0] == 200
    env.sync()
    private_source = {c["id"]: c for c in env.status()["calendars"]}[ANN]["sourceId"]
    path = f"/calendar/{env.calendar_id}/export"
    # Then the export holds the private event for ann only, never for an admin
    status, text, _ = ical("GET", path, env.ctx, token=env.owner)
    assert status == 200, text
    assert "doctor" in text
    assert "club night" in text
    status, text, _ = ical("GET", path, env.ctx, token=ADMIN)
    assert status == 200, text
    assert "club night" in text
    assert "doctor" not in text
    # And the subscription feed (anonymous) never holds it, even one ann created
    status, feed, _ = ical("POST", f"/calendar/{env.calendar_id}/feed", env.ctx, token=env.owner)
    assert status == 201, feed
    feed_path = feed["url"].split("/rest/brizo-calendar/api/1", 1)[1]
    status, text, _ = ical("GET", feed_path, env.ctx, token=None)
    assert status == 200, text
    assert "doctor" not in text
    # And its source exists for ann only: GET /source and the calendar's embedded sources
    assert call("sources", "GET", f"/source/{private_source}", token=env.owner, ctx=env.ctx)[0] == 200
    assert call("sources", "GET", f"/source/{private_source}", token=ADMIN, ctx=env.ctx)[0] == 404
    status, shown = env.calendars("GET", f"/calendar/{env.calendar_id}", tok=ADMIN)
    assert status == 200, shown
    assert private_source not in [s["id"] for s in shown["sources"]]
    status, shown = env.calendars("GET", f"/calendar/{env.calendar_id}")
    assert private_source in [s["id"] for s in shown["sources"]]
