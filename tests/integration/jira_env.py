"""Helpers for the Jira tests: the Jira function in-process against moto, talking HTTP to the
fake Jira site (``tests/jira_fake.py``) on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from teamcal.storage.events import EventRepository
from tests.conftest import TEMPLATE
from tests.integration.ccj import CALENDAR_VALUE, ROOT, call, full, new_calendar, new_source
from tests.jira_fake import JiraFake

EMAIL = "bot@example.com"
TOKEN = "atlassian-api-token-0123"
JIRA_VALUE = {
    "color": "#057fff",
    "condColors": [],
    "dateRanges": [["customfield_10015", "duedate"]],
    "singleDates": ["duedate"],
    "summaryFromSourceName": False,
    "projectId": 10336,
    "name": "Jira dates events",
    "hideStartTime": False,
}
SPRINT_VALUE = {"boardId": 132, "color": "#cc6fcc", "name": "Sprints", "projectId": 10336, "show": 0, "state": 0}
VERSION_VALUE = {"name": "Versions", "color": "#ff3e05", "projectId": 10371, "show": 0, "releasedStatus": 0}


@dataclass
class JiraEnv:
    """The fake Jira, the Lambda context, a calendar with one source of each Jira kind."""

    fake: JiraFake
    ctx: Any
    calendar: dict[str, Any]
    sources: dict[str, int]

    def call(self, method: str, path: str, body: Any = None, tok: dict[str, Any] | None = None) -> tuple[int, Any]:
        return call("jira", method, path, body, token=tok or ROOT, ctx=self.ctx)

    def connect(self, **body: Any) -> dict[str, Any]:
        payload = body or self.credentials()
        status, out = self.call("PUT", "/jira/connection", payload)
        assert status == 200, out
        return dict(out)

    def credentials(self) -> dict[str, Any]:
        if self.fake.flavor == "cloud":
            return {"baseUrl": self.fake.url, "email": EMAIL, "apiToken": TOKEN}
        return {"baseUrl": self.fake.url, "personalAccessToken": TOKEN}

    def sync(self, **body: Any) -> dict[str, Any]:
        status, out = self.call("POST", "/jira/sync", body or None)
        assert status == 200, out
        return dict(out)

    def events(self, kind: str) -> dict[str, dict[str, Any]]:
        """The stored events of the ``kind`` source (their stored attributes), by their Jira key."""
        repo = EventRepository(boto3.client("dynamodb"), TEMPLATE.physical_name("EventsTable"))
        found: dict[str, dict[str, Any]] = {}
        for record in repo.by_source(self.sources[kind]):
            key = str((record.external or {})["key"])
            assert key not in found, f"duplicate {key}"
            found[key] = record.to_item()
        return found


def seed(fake: JiraFake) -> None:
    """Two issues, two sprints, two versions; the account on Europe/Berlin."""
    fake.add_account(EMAIL, TOKEN, time_zone="Europe/Berlin")
    fake.add_field("customfield_10015", "Start date", "date")
    fake.add_field("customfield_10020", "Sprint", "array")
    fake.put_issue("DEV-1", 10336, summary="Ship it", duedate="2026-12-10", customfield_10015="2026-12-01")
    fake.put_issue("DEV-2", 10336, summary="Fix the bug", duedate="2026-12-03")
    fake.put_issue("OPS-1", 20000, summary="Other project", duedate="2026-12-05")
    fake.add_sprint(
        132, 1, "Sprint 1", "closed", "2026-11-02T09:00:00.000Z", "2026-11-13T17:00:00.000Z", "2026-11-13T16:00:00.000Z"
    )
    fake.add_sprint(132, 2, "Sprint 2", "active", "2026-11-16T09:00:00.000Z", "2026-11-27T17:00:00.000Z")
    fake.add_version(10371, 501, "1.0", released=True, release_date="2026-11-20", start_date="2026-11-01")
    fake.add_version(10371, 502, "1.1", release_date="2026-12-18")


def jira_env(fake: JiraFake, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> JiraEnv:
    """Point the Jira function at loopback and build the calendar with its three sources."""
    from functions.jira import app

    monkeypatch.setattr(app, "jira_settings", app.jira_settings.model_copy(update={"allow_loopback": True}))
    seed(fake)
    value = json.dumps({**json.loads(CALENDAR_VALUE), "timeZone": "Europe/Berlin"})
    calendar = new_calendar(ctx, full("ann"), value=value)
    sources = {}
    for kind, source_value in (("jira", JIRA_VALUE), ("sprint", SPRINT_VALUE), ("version", VERSION_VALUE)):
        created = new_source(ctx, int(calendar["id"]), eventTypeId=kind, value=json.dumps(source_value))
        sources[kind] = int(created["id"])
    return JiraEnv(fake, ctx, calendar, sources)


@pytest.fixture(params=["cloud", "datacenter"])
def env(
    request: pytest.FixtureRequest, aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[JiraEnv]:
    fake = JiraFake(flavor=request.param).start()
    try:
        yield jira_env(fake, lambda_context, monkeypatch)
    finally:
        fake.stop()
