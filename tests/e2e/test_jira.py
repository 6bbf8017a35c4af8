"""Jira-backed sources over the local stack: real HTTP through the API Gateway emulator, the Jira
function in its worker process talking to the fake Jira site on 127.0.0.1 (loopback http is
allowed by the local stack's ``AllowLoopbackPartners``), the schedule in moto run by the stack's
scheduler driver."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from devstack.scheduler_driver import SchedulerDriver
from devstack.stack import LocalStack
from tests.integration.jira_env import EMAIL, JIRA_VALUE, SPRINT_VALUE, TOKEN, VERSION_VALUE, seed
from tests.jira_fake import JiraFake

pytestmark = pytest.mark.e2e

BASE = "/rest/brizo-calendar/api/1"
WINDOW = {"startDateIso": "2026-11-01T00:00:00Z", "endDateIso": "2027-01-01T00:00:00Z"}


@dataclass
class Env:
    stack: LocalStack
    fake: JiraFake
    http: requests.Session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.stack.admin_token}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.stack.url}{BASE}{path}", headers=headers, timeout=60, **kwargs)

    @property
    def scheduler(self) -> SchedulerDriver:
        return next(d for d in self.stack.drivers if isinstance(d, SchedulerDriver))

    def search(self, calendar_id: int, **extra: Any) -> list[str]:
        response = self.call("POST", "/event/search", json={"calendarId": calendar_id, **WINDOW, **extra})
        assert response.status_code == 200, response.text
        return sorted(str(v["summary"]) for v in response.json()["values"])


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    fake = JiraFake(flavor="cloud").start()
    seed(fake)
    stack = LocalStack(
        port=0,
        parameters={"AuthorizerResultTtl": "0"},
        admin_token="tcal_jira_e2e_" + secrets.token_urlsafe(16),
        workers=1,
        stack_name="teamcal-jira-e2e",
    ).start()
    session = requests.Session()
    session.trust_env = False  # loopback only
    try:
        yield Env(stack, fake, session)
    finally:
        session.close()
        stack.stop()
        fake.stop()


def test_connect_sync_change_and_revoke_over_the_local_stack(env: Env) -> None:
    # Bad configuration first: a private address and plain http to a public host are 400
    for url in ("https://10.0.0.7", "http://jira.example.com"):
        refused = env.call("PUT", "/jira/connection", json={"baseUrl": url, "email": EMAIL, "apiToken": TOKEN})
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"].get("baseUrl")
    # Given the connection and a calendar with one source of each Jira kind
    connected = env.call("PUT", "/jira/connection", json={"baseUrl": env.fake.url, "email": EMAIL, "apiToken": TOKEN})
    assert connected.status_code == 200, connected.text
    assert TOKEN not in connected.text
    created = env.call("POST", "/calendar", json={"value": json.dumps({"name": "E2E", "timeZone": "Europe/Berlin"})})
    calendar_id = created.json()["id"]
    sources = {}
    for kind, value in (("jira", JIRA_VALUE), ("sprint", SPRINT_VALUE), ("version", VERSION_VALUE)):
        body = {"eventTypeId": kind, "calendarConfigurationId": calendar_id, "value": json.dumps(value)}
        made = env.call("POST", "/source", json=body)
        assert made.status_code == 200, made.text
        sources[kind] = made.json()["id"]
    # When the schedule fires
    fired = env.scheduler.fire("jira-sync-0")
    assert [(f.ok, f.result["outcome"]) for f in fired] == [(True, "synced")], fired
    # Then the search stays CCJ's, includeJira shows every synced event, export and feed hold them
    assert env.search(calendar_id) == []
    expected = ["1.0", "1.1", "DEV-1 Ship it", "DEV-1 Ship it", "DEV-2 Fix the bug", "Sprint 1", "Sprint 2"]
    assert env.search(calendar_id, includeJira=True) == expected
    export = env.call("GET", f"/calendar/{calendar_id}/export", headers={"Accept": "text/calendar"})
    assert export.status_code == 200, export.text
    assert "SUMMARY:DEV-2 Fix the bug" in export.text
    assert "SUMMARY:Sprint 2" in export.text
    feed = env.call("POST", f"/calendar/{calendar_id}/feed").json()
    served = env.http.get(feed["url"], timeout=60)
    assert served.status_code == 200
    assert "SUMMARY:1.1" in served.text
    # When Jira changes: an issue moves, one is deleted, a sprint goes, a version is renamed
    env.fake.put_issue("DEV-1", 10336, summary="Ship it later", duedate="2026-12-14")
    env.fake.delete_issue("DEV-2")
    env.fake.delete_sprint(132, 1)
    env.fake.add_version(10371, 502, "1.1.0", release_date="2026-12-18")
    ran = env.call("POST", "/jira/sync")
    assert ran.status_code == 200, ran.text
    # Then the incremental run follows (the deleted issue waits for the reconciliation)
    shown = env.search(calendar_id, includeJira=True)
    assert shown == ["1.0", "1.1.0", "DEV-1 Ship it later", "DEV-1 Ship it later", "DEV-2 Fix the bug", "Sprint 2"]
    reconciled = env.call("POST", "/jira/sync", json={"full": True})
    assert reconciled.status_code == 200, reconciled.text
    assert env.search(calendar_id, includeJira=True) == [
        "1.0",
        "1.1.0",
        "DEV-1 Ship it later",
        "DEV-1 Ship it later",
        "Sprint 2",
    ]
    # Re-runs duplicate nothing
    env.call("POST", "/jira/sync", json={"full": True})
    assert len(env.search(calendar_id, includeJira=True)) == 5
    # Synced events are read-only
    event_id = env.call(
        "POST", "/event/search", json={"calendarId": calendar_id, **WINDOW, "includeJira": True}
    ).json()["values"][0]["id"]
    assert env.call("DELETE", f"/event/{event_id}").status_code == 403
    # An unknown board is a clear 400 for that source
    bad = {**SPRINT_VALUE, "boardId": 999}
    env.call("PUT", "/source", json={"id": sources["sprint"], "value": json.dumps(bad)})
    refused = env.call("POST", "/jira/sync", json={"sourceId": sources["sprint"]})
    assert refused.status_code == 400, refused.text
    assert "board 999" in refused.json()["errorMessages"][0]
    # When the token is revoked, the next scheduled run marks the connection and pauses the schedule
    env.fake.revoke(TOKEN)
    fired = env.scheduler.fire("jira-sync-0")
    assert fired[0].result["outcome"] == "needs_reauth"
    status = env.call("GET", "/jira/connection").json()
    assert (status["status"], status["schedule"]["state"]) == ("needs_reauth", "DISABLED")
    assert env.scheduler.run_due(time.time() + 3600) == []
    # Disconnecting removes the schedule and the synced events
    assert env.call("DELETE", "/jira/connection").status_code == 200
    assert env.scheduler.schedules() == []
    assert env.search(calendar_id, includeJira=True) == []
