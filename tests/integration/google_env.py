"""Helpers for the Google sync tests: the function in-process against moto, the real Google client
library talking to the fake Google (``tests/google_fake.py``) on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.google_fake import GoogleFake, running
from tests.integration.ccj import CALENDAR_VALUE, call, full, new_calendar

CLIENT_ID = "teamcal-client.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret"
API_KEY = "AIzaSyFake-api-key-0123456789"
REDIRECT_URI = "http://127.0.0.1:9/rest/brizo-calendar/api/1/google/oauth/callback"
OWNER = "ann"
BASE = "/calendar/{id}/google"


@dataclass
class GoogleEnv:
    """The fake Google, the Lambda context, and a calendar owned by ``ann`` (private, not shared)."""

    fake: GoogleFake
    ctx: Any
    calendar: dict[str, Any]
    owner: dict[str, Any]

    @property
    def calendar_id(self) -> int:
        return int(self.calendar["id"])

    def call(
        self, method: str, path: str, body: Any = None, tok: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[int, Any]:
        """The Google function; ``path`` may use ``{id}`` for the calendar id."""
        return call(
            "google", method, path.format(id=self.calendar_id), body, token=tok or self.owner, ctx=self.ctx, **kw
        )

    def events(self, method: str, path: str, body: Any = None, tok: dict[str, Any] | None = None) -> tuple[int, Any]:
        return call("events", method, path, body, token=tok or self.owner, ctx=self.ctx)

    def calendars(self, method: str, path: str, body: Any = None, tok: dict[str, Any] | None = None) -> tuple[int, Any]:
        return call("calendars", method, path, body, token=tok or self.owner, ctx=self.ctx)

    def search(self, start_iso: str, end_iso: str, tok: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        status, page = self.events(
            "POST",
            "/event/search",
            {"calendarId": self.calendar_id, "startDateIso": start_iso, "endDateIso": end_iso},
            tok,
        )
        assert status == 200, page
        return list(page["values"])

    def connect_oauth(self, account: str = "ann@example.com", api_key: str | None = API_KEY) -> str:
        """PUT credentials with a refresh token of ``account``; returns the refresh token."""
        refresh = self.fake.grant(account, CLIENT_ID)
        body = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "refreshToken": refresh}
        if api_key:
            body["apiKey"] = api_key
        status, out = self.call("PUT", BASE + "/credentials", body)
        assert status == 200, out
        return refresh

    def select(self, *ids: str, confirm: bool = False, **extra: Any) -> tuple[int, Any]:
        return self.call("PUT", BASE, {"calendars": list(ids), "confirm": confirm, **extra})

    def sync(self) -> dict[str, Any]:
        status, out = self.call("POST", BASE + "/sync")
        assert status == 200, out
        return dict(out)

    def status(self) -> dict[str, Any]:
        status, out = self.call("GET", BASE)
        assert status == 200, out
        return dict(out)


def google_env(fake: GoogleFake, ctx: Any, monkeypatch: pytest.MonkeyPatch) -> GoogleEnv:
    """Point the Google function at ``fake`` and create ann's calendar (Europe/Berlin)."""
    from functions.google import app

    patched = app.google_settings.model_copy(
        update={
            "calendar_api_endpoint": fake.api_endpoint,
            "oauth_token_uri": fake.token_uri,
            "oauth_auth_uri": fake.auth_uri,
            "oauth_redirect_uri": REDIRECT_URI,
            "http_timeout_seconds": 5.0,
        }
    )
    monkeypatch.setattr(app, "google_settings", patched)
    app.gateway.cache_clear()
    fake.add_client(CLIENT_ID, CLIENT_SECRET, (REDIRECT_URI,))
    fake.api_keys.add(API_KEY)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=patched.oauth_client_secret_id,
        SecretString=json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "apiKey": API_KEY}),
    )
    owner = full(OWNER)
    value = json.dumps({**json.loads(CALENDAR_VALUE), "timeZone": "Europe/Berlin"})
    calendar = new_calendar(ctx, owner, publicCalendar=False, value=value)
    return GoogleEnv(fake, ctx, calendar, owner)


@pytest.fixture
def env(aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleEnv]:
    """A fresh fake Google and the function pointed at it."""
    from functions.google import app

    with running() as fake:
        yield google_env(fake, lambda_context, monkeypatch)
    app.gateway.cache_clear()
