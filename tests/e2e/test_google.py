"""Google Calendar sync over the local stack: real HTTP through the API Gateway emulator (the OAuth
callback without a token, as the template declares), the function in its worker process with the
real Google client library talking to the fake Google on 127.0.0.1, EventBridge Scheduler
schedules in moto run by the stack's scheduler driver.

The stack is started here (not the session's) with template parameter overrides pointing the
function's ``GOOGLE_CALENDAR_API_ENDPOINT`` / ``GOOGLE_OAUTH_TOKEN_URI`` at the fake."""

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
from tests.google_fake import GoogleFake, all_day, instance, running, shown, timed

pytestmark = pytest.mark.e2e

BASE = "/rest/brizo-calendar/api/1"
CLIENT_ID = "e2e-client.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-e2e"
API_KEY = "AIzaSy-e2e-key"
REDIRECT = "http://127.0.0.1:8/rest/brizo-calendar/api/1/google/oauth/callback"
ACCOUNT = "admin@example.com"


@dataclass
class Env:
    stack: LocalStack
    fake: GoogleFake
    http: requests.Session

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.stack.admin_token}"} if auth else {}
        return self.http.request(method, f"{self.stack.url}{BASE}{path}", headers=headers, timeout=60, **kwargs)

    @property
    def scheduler(self) -> SchedulerDriver:
        return next(d for d in self.stack.drivers if isinstance(d, SchedulerDriver))


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    with running() as fake:
        fake.add_client(CLIENT_ID, CLIENT_SECRET, (REDIRECT,))
        fake.api_keys.add(API_KEY)
        parameters = {
            "GoogleCalendarApiEndpoint": fake.api_endpoint,
            "GoogleOAuthTokenUri": fake.token_uri,
            "GoogleOAuthAuthUri": fake.auth_uri,
            "GoogleOAuthRedirectUri": REDIRECT,
            "AuthorizerResultTtl": "0",
        }
        stack = LocalStack(
            port=0,
            parameters=parameters,
            admin_token="tcal_google_e2e_" + secrets.token_urlsafe(16),
            workers=1,
            stack_name="teamcal-google-e2e",
        ).start()
        try:
            assert stack.endpoint is not None
            stack.endpoint.client("secretsmanager").put_secret_value(
                SecretId=stack.template.physical_name("GoogleOAuthClientSecret"),
                SecretString=json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "apiKey": API_KEY}),
            )
            session = requests.Session()
            session.trust_env = False  # loopback only
            yield Env(stack, fake, session)
            session.close()
        finally:
            stack.stop()


def search(env: Env, calendar_id: int) -> list[tuple[int, str | None]]:
    response = env.call(
        "POST",
        "/event/search",
        json={"calendarId": calendar_id, "startDateIso": "2026-03-01T00:00:00Z", "endDateIso": "2026-05-01T00:00:00Z"},
    )
    assert response.status_code == 200, response.text
    return sorted(((v["startDate"], v["summary"]) for v in response.json()["values"]), key=lambda p: (p[0], p[1] or ""))


def test_connect_select_and_scheduled_sync_over_the_local_stack(env: Env) -> None:
    fake = env.fake
    fake.add_calendar(ACCOUNT, "Admin", ACCOUNT, time_zone="Europe/Berlin")
    fake.put(
        ACCOUNT,
        timed("one", "2026-03-04T10:00:00+01:00", "2026-03-04T11:00:00+01:00", "Europe/Berlin", summary="review"),
    )
    fake.put(ACCOUNT, all_day("off", "2026-03-12", "2026-03-14", summary="off"))
    fake.put(
        ACCOUNT,
        timed(
            "weekly",
            "2026-03-02T09:00:00+01:00",
            "2026-03-02T09:15:00+01:00",
            "Europe/Berlin",
            summary="standup",
            recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"],
        ),
    )
    # Given a calendar (the admin token's user owns it)
    created = env.call("POST", "/calendar", json={"value": json.dumps({"name": "E2E", "timeZone": "Europe/Berlin"})})
    assert created.status_code == 200, created.text
    calendar_id = created.json()["id"]
    # When the owner goes through Google's consent and Google redirects back (no token)
    consent = env.call("GET", f"/calendar/{calendar_id}/google/authorize")
    assert consent.status_code == 200, consent.text
    redirect = fake.consent(consent.json()["url"], ACCOUNT)
    callback = env.call("GET", "/google/oauth/callback", auth=False, params=redirect)
    assert callback.status_code == 200, callback.text
    assert callback.json()["status"] == "connected"
    assert env.call("GET", f"/calendar/{calendar_id}/google", auth=False).status_code == 401
    # And selects the Google calendar
    listed = env.call("GET", f"/calendar/{calendar_id}/google/calendars")
    assert [c["id"] for c in listed.json()["values"]] == [ACCOUNT]
    saved = env.call("PUT", f"/calendar/{calendar_id}/google", json={"calendars": [ACCOUNT]})
    assert saved.status_code == 200, saved.text
    # Then the schedule exists in the scheduler, and nothing has synced yet
    assert env.stack.endpoint is not None
    schedule = env.stack.endpoint.client("scheduler").get_schedule(
        Name=f"google-sync-{calendar_id}", GroupName=env.stack.template.physical_name("GoogleScheduleGroup")
    )
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    assert search(env, calendar_id) == []
    # When the schedule fires (on demand)
    fired = env.scheduler.fire(f"google-sync-{calendar_id}")
    # Then the function synced, and search shows what Google shows
    assert [(f.ok, f.result["outcome"]) for f in fired] == [(True, "synced")], fired
    window = (1_772_323_200_000, 1_777_593_600_000)
    assert search(env, calendar_id) == shown(fake, ACCOUNT, *window)
    assert len(search(env, calendar_id)) == 8
    # When Google changes (an instance moved, the single event deleted) and 15 minutes pass
    fake.put(
        ACCOUNT,
        instance(
            "weekly",
            {"dateTime": "2026-03-09T09:00:00+01:00"},
            {"dateTime": "2026-03-09T14:00:00+01:00"},
            {"dateTime": "2026-03-09T14:15:00+01:00"},
            summary="standup (pm)",
        ),
    )
    fake.delete(ACCOUNT, "one")
    fired = env.scheduler.run_due(time.time() + 16 * 60)
    # Then the schedule ran an incremental sync at its rate
    assert [(f.name, f.ok) for f in fired] == [(f"google-sync-{calendar_id}", True)], fired
    assert fired[0].result["calendars"][0]["mode"] == "incremental"
    assert search(env, calendar_id) == shown(fake, ACCOUNT, *window)
    assert "review" not in {s for _, s in search(env, calendar_id)}
    # Synced events are read-only through the API
    event = next(
        v
        for v in env.call(
            "POST",
            "/event/search",
            json={"calendarId": calendar_id, "startDateIso": "2026-03-12", "endDateIso": "2026-03-13"},
        ).json()["values"]
    )
    edit = env.call("PUT", "/event", json={"mode": "edit", "event": {"id": event["id"], "summary": "mine"}})
    assert edit.status_code == 403, edit.text
    # When the owner revokes access in Google, the next run pauses the schedule
    fake.revoke(next(iter(fake.refresh_tokens)))
    fired = env.scheduler.fire(f"google-sync-{calendar_id}")
    assert fired[0].result["outcome"] == "needs_reauth"
    status = env.call("GET", f"/calendar/{calendar_id}/google").json()
    assert (status["status"], status["schedule"]["state"]) == ("needs_reauth", "DISABLED")
    assert env.scheduler.run_due(time.time() + 3600) == []
    # Disconnecting removes the schedule
    assert env.call("DELETE", f"/calendar/{calendar_id}/google").status_code == 200
    assert env.scheduler.schedules() == []
