"""Google Calendar sync in-process against moto, with the real Google client library talking to the
fake Google on 127.0.0.1: full then incremental sync, edits and cancellations of single and
recurring events (search shows what Google shows), 410, throttling, revoked grants, read-only
synced events, the schedule, and the scheduled invocation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from teamcal import aws
from teamcal.services import google_sync
from teamcal.services.google import run_sync
from teamcal.services.google_sync import SyncClock
from tests.google_fake import all_day, instance, shown, timed
from tests.integration.ccj import full, new_calendar
from tests.integration.google_env import BASE, CLIENT_ID, CLIENT_SECRET, GoogleEnv, env, google_env

pytestmark = pytest.mark.integration
__all__ = ["env"]

ANN = "ann@example.com"
MARCH = ("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
WINDOW_MS = (1_772_323_200_000, 1_777_593_600_000)  # the same window in epoch ms


def berlin(day: str, hm: str) -> dict[str, str]:
    offset = "+02:00" if day >= "2026-03-29" else "+01:00"
    return {"dateTime": f"{day}T{hm}:00{offset}", "timeZone": "Europe/Berlin"}


def seed(env: GoogleEnv) -> None:
    """Ann's Google calendar: a single event, an all-day event, a weekly series in Berlin crossing
    the DST change, and a daily series in New York with a moved and a cancelled instance."""
    env.fake.add_calendar(ANN, "Ann", ANN, time_zone="Europe/Berlin")
    env.fake.put(
        ANN,
        {
            "id": "one",
            "summary": "dentist",
            "start": berlin("2026-03-04", "10:00"),
            "end": berlin("2026-03-04", "11:00"),
        },
    )
    env.fake.put(ANN, all_day("trip", "2026-03-12", "2026-03-15", summary="trip"))
    env.fake.put(
        ANN,
        {
            "id": "weekly",
            "summary": "standup",
            "start": berlin("2026-03-02", "09:00"),
            "end": berlin("2026-03-02", "09:15"),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8", "EXDATE;TZID=Europe/Berlin:20260316T090000"],
        },
    )
    env.fake.put(
        ANN,
        timed(
            "nyc",
            "2026-04-01T08:00:00-04:00",
            "2026-04-01T08:30:00-04:00",
            "America/New_York",
            summary="sync call",
            recurrence=["RRULE:FREQ=DAILY;UNTIL=20260410T120000Z"],
        ),
    )
    env.fake.put(
        ANN,
        instance(
            "nyc",
            {"dateTime": "2026-04-03T08:00:00-04:00"},
            {"dateTime": "2026-04-03T15:00:00-04:00"},
            {"dateTime": "2026-04-03T15:30:00-04:00"},
            summary="sync call (moved)",
        ),
    )
    env.fake.cancel_instance(ANN, "nyc", {"dateTime": "2026-04-06T08:00:00-04:00"})


def ours(env: GoogleEnv, tok: dict[str, Any] | None = None) -> list[tuple[int, str | None]]:
    return sorted(
        ((v["startDate"], v["summary"]) for v in env.search(*MARCH, tok=tok)), key=lambda p: (p[0], p[1] or "")
    )


def google_shows(env: GoogleEnv) -> list[tuple[int, str | None]]:
    return shown(env.fake, ANN, *WINDOW_MS)


@pytest.fixture
def ddb_calls() -> Iterator[list[str]]:
    """Every DynamoDB operation the functions' shared client makes (botocore event hook)."""
    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", count, unique_id="test-count")
    yield calls
    client.meta.events.unregister("before-call.dynamodb", unique_id="test-count")


def connected(env: GoogleEnv) -> str:
    seed(env)
    refresh = env.connect_oauth()
    status, out = env.select(ANN)
    assert status == 200, out
    return refresh


# ---------------------------------------------------------------------------- full and incremental
def test_full_then_incremental_sync_shows_what_google_shows(env: GoogleEnv) -> None:
    # Given ann's Google calendar selected for her teamcal calendar
    connected(env)
    # When the first sync runs
    status = env.sync()
    # Then it was a full sync, and search shows exactly what Google shows (an independent
    # dateutil expansion of the same data: DST, EXDATE, moved and cancelled instances)
    run = status["lastRun"]["calendars"][0]
    assert (run["mode"], run["complete"], run["created"]) == ("full", True, 5)  # 2 masters, 1 child, 2 singles
    assert status["calendars"][0]["mode"] == "incremental"
    assert status["lastSyncAt"] is not None
    assert ours(env) == google_shows(env)
    assert (1_772_440_200_000 + 3_600_000, "trip") not in ours(env)  # the all-day trip is one item
    trip = [v for v in env.search(*MARCH) if v["summary"] == "trip"]
    assert [(t["allDayStart"], t["allDayEnd"]) for t in trip] == [("2026-03-12", "2026-03-14")]
    # When events change in Google: a single event edited, another deleted, an instance of a
    # series moved, another cancelled, the series renamed, a new event added
    env.fake.put(
        ANN,
        {
            "id": "one",
            "summary": "dentist (late)",
            "start": berlin("2026-03-04", "16:00"),
            "end": berlin("2026-03-04", "17:00"),
        },
    )
    env.fake.delete(ANN, "trip")
    env.fake.put(
        ANN,
        instance(
            "weekly",
            berlin("2026-03-23", "09:00"),
            berlin("2026-03-24", "11:00"),
            berlin("2026-03-24", "11:15"),
            summary="standup (Tue)",
        ),
    )
    env.fake.cancel_instance(ANN, "weekly", berlin("2026-04-06", "09:00"))
    env.fake.put(
        ANN,
        {
            "id": "weekly",
            "summary": "daily standup",
            "start": berlin("2026-03-02", "09:00"),
            "end": berlin("2026-03-02", "09:15"),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8", "EXDATE;TZID=Europe/Berlin:20260316T090000"],
        },
    )
    env.fake.put(ANN, all_day("new", "2026-04-20", "2026-04-21", summary="new"))
    listings_before = env.fake.count("/events")
    status = env.sync()
    # Then one incremental request brought the 6 changes, and search still matches Google
    run = status["lastRun"]["calendars"][0]
    assert run["mode"] == "incremental"
    assert env.fake.count("/events") == listings_before + 1
    assert "syncToken" in env.fake.requests[-1][2]
    assert (run["created"], run["deleted"]) == (2, 1)
    assert ours(env) == google_shows(env)
    assert (1_772_636_400_000, "dentist (late)") in ours(env)
    assert not [v for v in env.search(*MARCH) if v["summary"] == "trip"]


def test_a_rerun_without_changes_writes_nothing(env: GoogleEnv, ddb_calls: list[str]) -> None:
    connected(env)
    env.sync()
    count = env.status()["calendars"][0]["eventCount"]
    ddb_calls.clear()
    env.sync()
    assert "TransactWriteItems" not in ddb_calls
    assert "BatchWriteItem" not in ddb_calls
    assert env.status()["calendars"][0]["eventCount"] == count
    assert ours(env) == google_shows(env)


def test_incremental_cost_scales_with_changes_not_size(
    env: GoogleEnv, ddb_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(google_sync, "PAGE_SIZE", 40)

    def two_changes(tag: str) -> tuple[int, int]:
        env.fake.put(
            ANN,
            {
                "id": "one",
                "summary": f"dentist {tag}",
                "start": berlin("2026-03-04", "10:00"),
                "end": berlin("2026-03-04", "11:00"),
            },
        )
        env.fake.put(ANN, all_day(f"extra-{tag}", "2026-04-22", "2026-04-23", summary=tag))
        listings, ddb_calls[:] = env.fake.count("/events"), []
        run = env.sync()["lastRun"]["calendars"][0]
        assert (run["mode"], run["created"], run["updated"]) == ("incremental", 1, 1)
        return env.fake.count("/events") - listings, len(ddb_calls)

    # Given a small calendar, fully synced
    connected(env)
    env.sync()
    small = two_changes("a")
    # When the calendar grows by 150 events (3+ pages) and two more changes follow
    for i in range(150):
        env.fake.put(ANN, all_day(f"bulk{i}", "2026-04-01", "2026-04-02", summary=f"bulk {i}"))
    env.sync()
    large = two_changes("b")
    # Then the two-change sync costs the same Google requests and DynamoDB calls either way
    assert small == large
    assert small[0] == 1
    assert small[1] <= 16, ddb_calls


def test_instances_that_arrive_before_their_master(env: GoogleEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a listing that returns the newest changes first, two events a page
    monkeypatch.setattr(google_sync, "PAGE_SIZE", 2)
    env.fake.reverse_listing = True
    connected(env)
    # When the full sync runs (moved and cancelled instances come pages before their master)
    status = env.sync()
    # Then the masters picked them up when they arrived
    assert status["lastRun"]["calendars"][0]["pages"] >= 3
    assert ours(env) == google_shows(env)
    assert not status["calendars"][0]["error"]


def test_410_drops_the_synced_events_and_syncs_in_full(env: GoogleEnv) -> None:
    connected(env)
    env.sync()
    # Given Google expired the sync token, and an event was deleted meanwhile
    env.fake.expire_sync_tokens(ANN)
    env.fake.delete(ANN, "one")
    # When the next sync runs
    status = env.sync()
    # Then it dropped what it had and listed everything again
    run = status["lastRun"]["calendars"][0]
    assert run["fullSyncs"] == 1
    assert run["cleared"] == 5
    assert run["mode"] == "full"
    assert any("410" in n for n in run["notes"])
    assert status["calendars"][0]["fullSyncs"] == 2
    assert ours(env) == google_shows(env)
    assert "dentist" not in {s for _, s in ours(env)}


# ---------------------------------------------------------------------------- throttling
def test_rate_limits_back_off_with_jitter(env: GoogleEnv) -> None:
    from functions.google import app

    connected(env)
    # Given Google answers 403 rateLimitExceeded, then 429, then succeeds
    env.fake.fail_next(1, 403, "rateLimitExceeded")
    env.fake.fail_next(1, 429, "rateLimitExceeded")
    slept: list[float] = []
    clock = SyncClock(time_left_ms=lambda: 60_000, sleep=slept.append, random=lambda: 0.5)
    # When a sync runs
    result = run_sync(app.stores(), app.gateway(), env.calendar_id, clock, trigger="schedule")
    # Then it waited 1 s ±50 %, then 2 s ±50 % (exponential, jittered) and completed
    assert result.outcome == "synced", result
    assert slept == [0.75, 1.5]
    assert result.calendars[0]["retries"] == 2
    assert ours(env) == google_shows(env)


def test_throttling_that_outlasts_the_retries_resumes_from_the_stored_page(
    env: GoogleEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.google import app

    monkeypatch.setattr(google_sync, "PAGE_SIZE", 3)
    connected(env)
    clock = SyncClock(time_left_ms=lambda: 60_000, sleep=lambda _: None, random=lambda: 0.0)
    # Given the first page comes through, then Google keeps answering 429
    original = app.gateway().list_events
    calls = {"n": 0}

    def first_page_then_throttled(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 2:
            env.fake.fail_next(google_sync.MAX_ATTEMPTS, 429)
        return original(*args, **kwargs)

    monkeypatch.setattr(app.gateway(), "list_events", first_page_then_throttled)
    result = run_sync(app.stores(), app.gateway(), env.calendar_id, clock, trigger="schedule")
    # Then the run stops with a resumable error, keeping the first page and where to go on
    assert result.outcome == "partial"
    assert "429" in (result.error or "")
    assert "resumes" in (result.error or "")
    status = env.status()
    assert status["calendars"][0]["eventCount"] == 3
    assert "resumes" in status["calendars"][0]["error"]
    # When the next run comes
    listed = env.fake.count("/events")
    result = run_sync(app.stores(), app.gateway(), env.calendar_id, clock, trigger="schedule")
    # Then it starts at the stored page, not from scratch
    assert result.outcome == "synced", result
    first_request = [r for r in env.fake.requests if r[1].endswith("/events")][listed]
    assert "pageToken" in first_request[2]
    assert ours(env) == google_shows(env)


def test_a_page_token_google_no_longer_takes_restarts_the_listing(env: GoogleEnv) -> None:
    from functions.google import app

    connected(env)
    env.sync()
    env.fake.put(ANN, all_day("late", "2026-03-20", "2026-03-21", summary="late"))
    repo = app.stores().google
    (state,) = [s for s in repo.load(env.calendar_id).states if s.google_calendar_id == ANN]
    repo.update_state(env.calendar_id, state.evolved(page_token="bm90IGEgdG9rZW4="), state)
    run = env.sync()["lastRun"]["calendars"][0]
    assert run["complete"] is True
    assert any("page token" in n for n in run["notes"])
    assert ours(env) == google_shows(env)


def test_the_time_budget_stops_a_run_between_pages(env: GoogleEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.google import app

    monkeypatch.setattr(google_sync, "PAGE_SIZE", 2)
    connected(env)
    budget = iter([60_000, 60_000, 0] + [60_000] * 100)  # the lease, page 1, then out of time
    clock = SyncClock(time_left_ms=lambda: next(budget), sleep=lambda _: None)
    result = run_sync(app.stores(), app.gateway(), env.calendar_id, clock, trigger="schedule")
    assert result.outcome == "partial"
    assert result.calendars[0]["pages"] == 1
    assert result.calendars[0]["complete"] is False
    result = run_sync(app.stores(), app.gateway(), env.calendar_id, SyncClock(lambda: 60_000), trigger="schedule")
    assert result.outcome == "synced"
    assert ours(env) == google_shows(env)


# ---------------------------------------------------------------------------- revoked grant
def test_revoked_grant_pauses_the_schedule_and_leaves_other_connections_alone(
    env: GoogleEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ann's calendar and bob's calendar, each connected to its own Google account
    refresh = connected(env)
    env.sync()
    bob_tok = full("bob")
    bob_env = GoogleEnv(env.fake, env.ctx, new_calendar(env.ctx, bob_tok, publicCalendar=False), bob_tok)
    env.fake.add_calendar("bob@example.com", "Bob", "bob@example.com")
    env.fake.put("bob@example.com", all_day("b1", "2026-03-10", "2026-03-11", summary="bob's"))
    bob_env.connect_oauth("bob@example.com")
    assert bob_env.select("bob@example.com")[0] == 200
    # When ann revokes teamcal's access in her Google account
    env.fake.revoke(refresh)
    status, body = env.call("POST", BASE + "/sync")
    # Then the sync says so (502), the connection needs re-authorization, its schedule is paused
    assert status == 502
    assert "invalid_grant" in body["errorMessages"][0]
    assert "paused" in body["errorMessages"][0]
    state = env.status()
    assert (state["status"], state["needsReauth"], state["schedule"]["state"]) == ("needs_reauth", True, "DISABLED")
    from functions.google import app

    schedule = boto3.client("scheduler").get_schedule(
        Name=f"google-sync-{env.calendar_id}", GroupName=app.google_settings.schedule_group
    )
    assert schedule["State"] == "DISABLED"
    status, body = env.call("POST", BASE + "/sync")
    assert status == 409
    assert "re-authorization" in body["errorMessages"][0]
    # the events synced before stay visible
    assert ours(env) == google_shows(env)
    # And bob's connection still syncs
    assert bob_env.sync()["lastRun"]["outcome"] == "synced"
    assert [v["summary"] for v in bob_env.search(*MARCH)] == ["bob's"]
    # When ann connects again
    env.connect_oauth()
    # Then the schedule resumes
    state = env.status()
    assert (state["status"], state["schedule"]["state"]) == ("connected", "ENABLED")
    assert env.sync()["lastRun"]["outcome"] == "synced"


# ---------------------------------------------------------------------------- read-only events
def test_synced_events_are_read_only(env: GoogleEnv) -> None:
    connected(env)
    env.sync()
    source_id = env.status()["calendars"][0]["sourceId"]
    single = next(v for v in env.search(*MARCH) if v["summary"] == "dentist")
    master = next(v for v in env.search(*MARCH) if v["summary"] == "standup")
    edit = {"mode": "edit", "event": {"id": single["id"], "summary": "mine now"}}
    refused = [
        env.events("PUT", "/event", edit),
        env.events("DELETE", f"/event/{single['id']}"),
        env.events(
            "POST",
            "/event",
            {"mode": "add", "event": {"eventTypeConfigId": source_id, "summary": "x", "allDayStart": "2026-03-20"}},
        ),
        env.events(
            "DELETE",
            f"/event/{master['parentId']}/recur",
            {"mode": "delete", "select": "current", "exdate": "20260302"},
        ),
        env.events(
            "PUT",
            "/event",
            {
                "mode": "edit",
                "event": {"parentId": master["parentId"], "recurrenceId": master["recurrenceId"], "summary": "x"},
            },
        ),
    ]
    for status, body in refused:
        assert status == 403, body
        assert "read-only" in body["errorMessages"][0]
    assert ours(env) == google_shows(env)
    # moving one's own event INTO the Google source is refused too
    own_source = json.loads(json.dumps(env.calendar))  # noqa: F841 - the calendar has only the Google source
    assert env.events("GET", f"/event/{single['id']}")[0] == 200


# ---------------------------------------------------------------------------- schedule and scheduled runs
def test_saving_creates_the_schedule_and_disconnecting_removes_everything(env: GoogleEnv) -> None:
    from functions.google import app

    connected(env)
    scheduler = boto3.client("scheduler")
    group = app.google_settings.schedule_group
    name = f"google-sync-{env.calendar_id}"
    schedule = scheduler.get_schedule(Name=name, GroupName=group)
    # the schedule: the default rate, this function, the scheduler role, the calendar as input
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    assert schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == env.ctx.invoked_function_arn
    assert schedule["Target"]["RoleArn"] == app.google_settings.scheduler_role_arn
    assert json.loads(schedule["Target"]["Input"]) == {"source": "teamcal.google-sync", "calendarId": env.calendar_id}
    # a new rate updates the same schedule
    assert env.select(ANN, rateMinutes=5)[0] == 200
    assert scheduler.get_schedule(Name=name, GroupName=group)["ScheduleExpression"] == "rate(5 minutes)"
    env.sync()
    source_id = env.status()["calendars"][0]["sourceId"]
    # When ann disconnects
    status, body = env.call("DELETE", BASE)
    assert status == 200, body
    assert body["status"] == "disconnected"
    # Then the schedule, the secret, the source and its events are gone
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]] == []
    with pytest.raises(scheduler.exceptions.ClientError if False else Exception, match="ResourceNotFound"):
        boto3.client("secretsmanager").get_secret_value(
            SecretId=f"{app.google_settings.secret_prefix}{env.calendar_id}"
        )
    assert env.calendars("GET", f"/calendar/{env.calendar_id}")[1]["sources"] == []
    assert env.call("GET", f"/source/{source_id}")[0] == 404
    assert env.call("GET", BASE)[0] == 404


def test_the_schedule_runs_the_sync_through_the_handler(env: GoogleEnv) -> None:
    from functions.google import app

    connected(env)
    schedule = boto3.client("scheduler").get_schedule(
        Name=f"google-sync-{env.calendar_id}", GroupName=app.google_settings.schedule_group
    )
    # When EventBridge Scheduler delivers the schedule's input to the function
    result = app.lambda_handler(json.loads(schedule["Target"]["Input"]), env.ctx)
    # Then it ran the sync
    assert result["outcome"] == "synced", result
    assert env.status()["lastRun"]["trigger"] == "schedule"
    assert ours(env) == google_shows(env)


def test_a_deleted_calendar_is_cleaned_up_by_its_next_run(env: GoogleEnv) -> None:
    from functions.google import app

    connected(env)
    assert env.calendars("DELETE", f"/calendar/{env.calendar_id}")[0] == 200
    result = app.lambda_handler({"source": "teamcal.google-sync", "calendarId": env.calendar_id}, env.ctx)
    assert result["outcome"] == "calendar_deleted"
    assert boto3.client("scheduler").list_schedules(GroupName=app.google_settings.schedule_group)["Schedules"] == []
    assert app.stores().google.load(env.calendar_id).connection is None
    result = app.lambda_handler({"source": "teamcal.google-sync", "calendarId": env.calendar_id}, env.ctx)
    assert result["outcome"] == "not_connected"


def test_a_running_sync_holds_the_lease(env: GoogleEnv) -> None:
    from functions.google import app
    from teamcal.ids import now_ms

    connected(env)
    assert app.stores().google.acquire_lease(env.calendar_id, "other-run", now_ms(), now_ms() + 60_000)
    status, body = env.call("POST", BASE + "/sync")
    assert status == 409
    assert "already running" in body["errorMessages"][0]
    app.stores().google.release_lease(env.calendar_id, "other-run")
    assert env.sync()["lastRun"]["outcome"] == "synced"


def test_deselecting_removes_the_source_and_its_events(env: GoogleEnv) -> None:
    connected(env)
    env.fake.add_calendar("club@group.calendar.google.com", "Club", ANN, public=True)
    env.fake.put("club@group.calendar.google.com", all_day("c1", "2026-03-20", "2026-03-21", summary="club day"))
    assert env.select(ANN, "club@group.calendar.google.com")[0] == 200
    env.sync()
    assert "club day" in {s for _, s in ours(env)}
    status, body = env.select("club@group.calendar.google.com")
    assert status == 200, body
    assert [c["id"] for c in body["calendars"]] == ["club@group.calendar.google.com"]
    assert {s for _, s in ours(env)} == {"club day"}
    status, body = env.select()
    assert status == 200
    assert body["schedule"] is None
    assert ours(env) == []


def test_sync_needs_a_selection_and_a_connection(env: GoogleEnv) -> None:
    assert env.call("POST", BASE + "/sync")[0] == 404
    env.fake.add_calendar(ANN, "Ann", ANN)
    env.connect_oauth()
    status, body = env.call("POST", BASE + "/sync")
    assert status == 400
    assert "selected" in body["errorMessages"][0]
    status, body = env.select("nobody@example.com")
    assert status == 400
    assert "calendars" in body["errors"]


def test_google_env_helper_shares_one_fake(
    env: GoogleEnv, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second calendar pointed at the same fake (used by the sharing tests)
    other = google_env(env.fake, lambda_context, monkeypatch)
    assert other.calendar_id != env.calendar_id
    assert env.fake.clients[CLIENT_ID][0] == CLIENT_SECRET


def test_a_source_deleted_while_the_sync_writes_keeps_no_orphans(
    env: GoogleEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamcal.services.sources import purge_source
    from teamcal.services.stores import ConfigStores
    from teamcal.settings import get_settings
    from teamcal.storage.events import EventRepository

    # Given a sync whose source's deletion (mark DELETING, sweep its events, drop it) completes
    # between the sync's check of the source and its batch write
    connected(env)
    settings = get_settings()
    config = ConfigStores.connect(aws.client("dynamodb"), settings.calendars_table, settings.sources_table)
    write = EventRepository.batch_put
    raced: list[int] = []

    def racing_write(self: EventRepository, events: Any, **kwargs: Any) -> int:
        events = list(events)
        if events and not raced:
            source_id = events[0].event_type_config_id
            raced.append(source_id)
            record = config.sources.get(source_id)
            assert record is not None
            purge_source(config.sources, self, record, 1_767_600_000_000)
        return write(self, events, **kwargs)

    monkeypatch.setattr(EventRepository, "batch_put", racing_write)
    # When the sync writes its page after the sweep
    env.sync()
    # Then nothing of the deleted source is left behind
    assert raced
    events = EventRepository(aws.client("dynamodb"), settings.events_table)
    assert list(events.by_source(raced[0])) == []
