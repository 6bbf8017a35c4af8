"""Jira-backed sources end to end in-process: the Jira function against moto and the fake Jira
site (Cloud and Data Center flavours) on loopback."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import TEMPLATE
from tests.integration.ccj import call, full, token
from tests.integration.jira_env import EMAIL, TOKEN, JiraEnv, env

__all__ = ["env"]


def _schedule() -> dict[str, Any]:
    return dict(
        boto3.client("scheduler").get_schedule(
            Name="jira-sync-0", GroupName=TEMPLATE.physical_name("JiraScheduleGroup")
        )
    )


def _fake_sleep(monkeypatch: pytest.MonkeyPatch, sleep: Any) -> None:
    """The function's sync clock with ``sleep`` instead of time.sleep (the budget stays real)."""
    from functions.jira import app
    from teamcal.services.google_sync import SyncClock

    real = app._budget

    def budget(context: Any, cap_ms: int | None) -> SyncClock:
        return SyncClock(time_left_ms=real(context, cap_ms).time_left_ms, sleep=sleep)

    monkeypatch.setattr(app, "_budget", budget)


def test_connect_checks_the_credentials_stores_the_secret_and_never_shows_it(env: JiraEnv) -> None:
    # Given a non-admin token, then wrong credentials
    status, out = env.call("PUT", "/jira/connection", env.credentials(), tok=full("ann"))
    assert status == 403, out
    wrong = {
        **env.credentials(),
        **({"apiToken": "nope"} if env.fake.flavor == "cloud" else {"personalAccessToken": "nope"}),
    }
    status, out = env.call("PUT", "/jira/connection", wrong)
    assert status == 400, out
    assert "refused the credentials" in out["errorMessages"][0]
    # When connecting with the right ones
    shown = env.connect()
    # Then the status names the site and the account, never the token
    assert shown["status"] == "connected"
    assert shown["site"] == env.fake.url
    assert shown["account"]["emailAddress"] == EMAIL
    assert TOKEN not in json.dumps(shown)
    status, got = env.call("GET", "/jira/connection")
    assert status == 200
    assert TOKEN not in json.dumps(got)
    assert got["schedule"]["state"] == "ENABLED"
    assert _schedule()["State"] == "ENABLED"
    secret = boto3.client("secretsmanager").get_secret_value(
        SecretId=TEMPLATE.function_environment("JiraFunction")["JIRA_SECRET_NAME"]
    )
    assert TOKEN in secret["SecretString"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://jira.example.com", "https"),
        ("https://10.1.2.3", "private address"),
        ("https://169.254.169.254", "metadata"),
        ("https://user:pw@jira.example.com", "user info"),
    ],
)
def test_bad_base_url_is_400_naming_base_url(env: JiraEnv, url: str, reason: str) -> None:
    status, out = env.call("PUT", "/jira/connection", {**env.credentials(), "baseUrl": url})
    assert status == 400, out
    assert out["errorMessages"][0].startswith("baseUrl")
    assert reason in out["errorMessages"][0]
    assert "baseUrl" in out["errors"]


def test_missing_credential_fields_are_400(env: JiraEnv) -> None:
    status, out = env.call("PUT", "/jira/connection", {"baseUrl": env.fake.url, "email": EMAIL})
    assert status == 400, out


def test_sync_fills_each_kind_and_a_rerun_changes_nothing(env: JiraEnv) -> None:
    env.connect()
    # When the first sync runs
    env.sync()
    issues, sprints, versions = env.events("jira"), env.events("sprint"), env.events("version")
    dev1 = next(i for i in env.fake.issues.values() if i.key == "DEV-1")
    dev2 = next(i for i in env.fake.issues.values() if i.key == "DEV-2")
    # Then each set date is one event; the range runs from the start date to the due date
    assert set(issues) == {
        f"issue:{dev1.id}:duedate",
        f"issue:{dev1.id}:customfield_10015..duedate",
        f"issue:{dev2.id}:duedate",
    }
    due = issues[f"issue:{dev1.id}:duedate"]
    assert (due["allDay"], due["allDayStart"], due["allDayEnd"]) == (True, "2026-12-10", "2026-12-10")
    assert due["summary"] == "DEV-1 Ship it"
    assert due["readOnly"] is True
    ranged = issues[f"issue:{dev1.id}:customfield_10015..duedate"]
    assert (ranged["allDayStart"], ranged["allDayEnd"]) == ("2026-12-01", "2026-12-10")
    # sprints as timed ranges (a closed sprint ends at its completeDate), versions as date ranges
    assert set(sprints) == {"sprint:1", "sprint:2"}
    assert sprints["sprint:1"]["allDay"] is False
    assert sprints["sprint:1"]["endDate"] == 1_794_585_600_000  # 2026-11-13T16:00Z
    assert (versions["version:501"]["allDayStart"], versions["version:501"]["allDayEnd"]) == (
        "2026-11-01",
        "2026-11-20",
    )
    assert versions["version:502"]["allDayStart"] == "2026-12-18"
    # When it runs again, nothing is written and nothing duplicated
    before = {k: (v["id"], v["version"]) for k, v in {**issues, **sprints, **versions}.items()}
    out = env.sync()
    after = {
        k: (v["id"], v["version"])
        for k, v in {**env.events("jira"), **env.events("sprint"), **env.events("version")}.items()
    }
    assert after == before
    counts = out["lastRun"]["sources"]
    assert all(s["created"] == 0 and s["updated"] == 0 and s["deleted"] == 0 for s in counts), counts


def test_incremental_run_follows_changes_and_reconciliation_removes_the_gone(env: JiraEnv) -> None:
    env.connect()
    env.sync()
    dev1 = next(i for i in env.fake.issues.values() if i.key == "DEV-1")
    dev2 = next(i for i in env.fake.issues.values() if i.key == "DEV-2")
    # Given: an issue moves its due date, another is deleted, a sprint and a version change
    env.fake.put_issue("DEV-1", 10336, duedate="2026-12-12")
    env.fake.delete_issue("DEV-2")
    env.fake.add_sprint(132, 2, "Sprint 2", "active", "2026-11-16T09:00:00.000Z", "2026-11-30T17:00:00.000Z")
    env.fake.delete_sprint(132, 1)
    env.fake.delete_version(10371, 502)
    env.fake.put_issue("DEV-3", 10336, summary="New", duedate="2026-12-20")
    searches = env.fake.count("search")
    # When the next (incremental) run goes
    out = env.sync()
    jira_run = next(s for s in out["lastRun"]["sources"] if s["type"] == "jira")
    assert jira_run["mode"] == "incremental"
    issues = env.events("jira")
    # Then the moved and the new issue follow; the deleted issue waits for the reconciliation
    assert issues[f"issue:{dev1.id}:duedate"]["allDayStart"] == "2026-12-12"
    assert issues[f"issue:{dev1.id}:customfield_10015..duedate"]["allDayEnd"] == "2026-12-12"
    assert any(k.endswith(":duedate") and issues[k]["summary"] == "DEV-3 New" for k in issues)
    assert f"issue:{dev2.id}:duedate" in issues
    assert env.fake.count("search") == searches + 1
    # sprints and versions are listed whole every run
    assert set(env.events("sprint")) == {"sprint:2"}
    assert env.events("sprint")["sprint:2"]["endDate"] == 1_796_058_000_000  # 2026-11-30T17:00Z
    assert set(env.events("version")) == {"version:501"}
    # When a full reconciliation runs, the deleted issue's event goes
    out = env.sync(full=True)
    assert next(s for s in out["lastRun"]["sources"] if s["type"] == "jira")["mode"] == "full"
    assert f"issue:{dev2.id}:duedate" not in env.events("jira")


def test_cleared_date_removes_its_event_on_the_incremental_run(env: JiraEnv) -> None:
    env.connect()
    env.sync()
    dev1 = next(i for i in env.fake.issues.values() if i.key == "DEV-1")
    env.fake.put_issue("DEV-1", 10336, customfield_10015=None)
    env.sync()
    issues = env.events("jira")
    assert f"issue:{dev1.id}:customfield_10015..duedate" not in issues  # a range needs its start
    assert f"issue:{dev1.id}:duedate" in issues
    env.fake.put_issue("DEV-1", 10336, duedate=None, customfield_10015=None)
    env.sync()
    assert not [k for k in env.events("jira") if k.startswith(f"issue:{dev1.id}:")]


def test_revoked_token_marks_needs_reauth_and_pauses_the_schedule(env: JiraEnv) -> None:
    env.connect()
    env.fake.revoke(TOKEN)
    status, out = env.call("POST", "/jira/sync")
    assert status == 409, out
    assert "needs new credentials" in out["errorMessages"][0]
    status, shown = env.call("GET", "/jira/connection")
    assert shown["status"] == "needs_reauth"
    assert shown["needsReauth"] is True
    assert _schedule()["State"] == "DISABLED"
    # a new PUT resumes it
    env.fake.add_account("bot2@example.com", "fresh-token")
    body = {
        "baseUrl": env.fake.url,
        **(
            {"email": "bot2@example.com", "apiToken": "fresh-token"}
            if env.fake.flavor == "cloud"
            else {"personalAccessToken": "fresh-token"}
        ),
    }
    assert env.connect(**body)["status"] == "connected"
    assert _schedule()["State"] == "ENABLED"


def test_429_with_retry_after_is_waited_out_and_the_run_completes(
    env: JiraEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    _fake_sleep(monkeypatch, waits.append)
    env.connect()
    env.fake.fail_next(2, 429, "3")
    out = env.sync()
    assert out["lastRun"]["outcome"] == "synced"
    assert len(waits) == 2
    assert all(3.0 <= w <= 3.6 for w in waits), waits
    assert sum(s["retries"] for s in out["lastRun"]["sources"]) == 2
    # the field list (the first request of an issue source's run) counts its retries too
    env.fake.fail_next(1, 429, "1")
    out = env.sync(sourceId=env.sources["jira"])
    assert [s["retries"] for s in out["lastRun"]["sources"]] == [1]


def test_outage_stops_the_run_and_the_next_resumes_from_the_stored_page(
    env: JiraEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamcal.jira import client as jira_client

    _fake_sleep(monkeypatch, lambda s: None)
    monkeypatch.setattr(jira_client, "ISSUE_PAGE", 2)
    for n in range(4, 9):
        env.fake.put_issue(f"DEV-{n}", 10336, summary=f"n{n}", duedate="2026-12-02")
    env.connect()
    # Given: the first issue page comes, then Jira fails longer than the retries
    calls = {"n": 0}
    real = jira_client.JiraClient.search

    def flaky(self: Any, jql: str, fields: list[str], cursor: str | None, size: int = 2) -> Any:
        calls["n"] += 1
        if calls["n"] >= 2 and calls["n"] < 10:
            from teamcal.jira.errors import JiraTransientError

            raise JiraTransientError("Jira is down", None)
        return real(self, jql, fields, cursor, 2)

    monkeypatch.setattr(jira_client.JiraClient, "search", flaky)
    out = env.sync(sourceId=env.sources["jira"])
    assert out["lastRun"]["outcome"] == "partial"
    shown = next(s for s in out["sources"] if s["sourceId"] == env.sources["jira"])
    assert shown["pending"] is True
    first_page = len(env.events("jira"))
    assert 0 < first_page < 8
    # When the next run goes, it resumes at the stored cursor (not at the first page) and finishes
    calls["n"] = 10
    out = env.sync(sourceId=env.sources["jira"])
    assert out["lastRun"]["outcome"] == "synced"
    assert len(env.events("jira")) == 8  # DEV-1 (due date and range), DEV-2, DEV-4..8
    jira_run = out["lastRun"]["sources"][0]
    assert jira_run["created"] == 8 - first_page


def test_bad_source_configuration_is_400_naming_it(env: JiraEnv) -> None:
    env.connect()
    sprint = {"boardId": 999, "color": "#cc6fcc", "name": "Nope", "state": 0}
    status, source = call(
        "sources",
        "PUT",
        "/source",
        {"id": env.sources["sprint"], "value": json.dumps(sprint)},
        token=full("root", admin=True),
        ctx=env.ctx,
    )
    assert status == 200, source
    status, out = env.call("POST", "/jira/sync", {"sourceId": env.sources["sprint"]})
    assert status == 400, out
    assert "board 999" in out["errorMessages"][0]
    field = {"name": "Bad", "color": "#057fff", "singleDates": ["customfield_99999"], "projectId": -1}
    status, _ = call(
        "sources",
        "PUT",
        "/source",
        {"id": env.sources["jira"], "value": json.dumps(field)},
        token=full("root", admin=True),
        ctx=env.ctx,
    )
    assert status == 200
    status, out = env.call("POST", "/jira/sync", {"sourceId": env.sources["jira"]})
    assert status == 400, out
    assert "customfield_99999" in out["errorMessages"][0]
    # a whole run records the errors per source and still syncs the others
    out = env.sync()
    errors = {s["sourceId"]: s["error"] for s in out["sources"]}
    assert "board 999" in errors[env.sources["sprint"]]
    assert errors[env.sources["version"]] is None
    assert env.events("version")


def test_synced_events_are_read_only_through_the_api(env: JiraEnv) -> None:
    env.connect()
    env.sync()
    event = next(iter(env.events("version").values()))
    status, out = call("events", "DELETE", f"/event/{event['id']}", token=full("ann"), ctx=env.ctx)
    assert status == 403, out
    assert "Jira" in out["errorMessages"][0]


def test_disconnect_removes_schedule_secret_state_and_synced_events(env: JiraEnv) -> None:
    env.connect()
    env.sync()
    status, out = env.call("DELETE", "/jira/connection", tok=token("ann"))
    assert status == 403
    status, out = env.call("DELETE", "/jira/connection")
    assert status == 200, out
    assert out["status"] == "disconnected"
    assert env.events("jira") == {}
    status, _ = env.call("GET", "/jira/connection")
    assert status == 404
    with pytest.raises(boto3.client("scheduler").exceptions.ResourceNotFoundException):
        _schedule()


def test_the_schedule_runs_the_sync(env: JiraEnv) -> None:
    from functions.jira import app

    env.connect()
    event = json.loads(_schedule()["Target"]["Input"])
    result = app.lambda_handler(event, env.ctx)
    assert result["outcome"] == "synced"
    assert env.events("sprint")


def test_export_feed_and_include_jira_search_show_the_synced_events(env: JiraEnv) -> None:
    from tests.integration.ical import ical

    env.connect()
    env.sync()
    ann = full("ann")
    calendar_id = int(env.calendar["id"])
    # Export holds issues and events (as CCJ's does)
    status, text, _ = ical("GET", f"/calendar/{calendar_id}/export", env.ctx, token=ann)
    assert status == 200
    for summary in ("DEV-1 Ship it", "DEV-2 Fix the bug", "Sprint 2", "1.0", "1.1"):
        assert f"SUMMARY:{summary}" in text, summary
    assert "OPS-1" not in text  # another project
    # the feed too
    status, feed, _ = ical("POST", f"/calendar/{calendar_id}/feed", env.ctx, token=ann)
    assert status == 201, feed
    status, text, _ = ical("GET", feed["url"].split("/rest/brizo-calendar/api/1", 1)[1], env.ctx, token=None)
    assert status == 200
    assert "SUMMARY:DEV-1 Ship it" in text
    assert "SUMMARY:Sprint 2" in text
    # The search stays CCJ's unless includeJira says otherwise
    window = {"calendarId": calendar_id, "startDateIso": "2026-11-01T00:00:00Z", "endDateIso": "2027-01-01T00:00:00Z"}
    status, page = call("events", "POST", "/event/search", window, token=ann, ctx=env.ctx)
    assert status == 200, page
    assert page["values"] == []
    status, page = call("events", "POST", "/event/search", {**window, "includeJira": True}, token=ann, ctx=env.ctx)
    assert status == 200, page
    summaries = sorted(v["summary"] for v in page["values"])
    assert summaries == sorted(
        ["DEV-1 Ship it", "DEV-1 Ship it", "DEV-2 Fix the bug", "Sprint 1", "Sprint 2", "1.0", "1.1"]
    )
    by_source = {
        "sourceId": env.sources["sprint"],
        "startDateIso": window["startDateIso"],
        "endDateIso": window["endDateIso"],
    }
    status, page = call("events", "POST", "/event/search", by_source, token=ann, ctx=env.ctx)
    assert (status, page["values"]) == (200, [])
    status, page = call("events", "POST", "/event/search", {**by_source, "includeJira": True}, token=ann, ctx=env.ctx)
    assert sorted(v["summary"] for v in page["values"]) == ["Sprint 1", "Sprint 2"]
    # visible to whoever may view the calendar, hidden from a token without it
    outsider = token("zed", calendars=[1])
    status, _ = call("events", "POST", "/event/search", {**window, "includeJira": True}, token=outsider, ctx=env.ctx)
    assert status == 404
