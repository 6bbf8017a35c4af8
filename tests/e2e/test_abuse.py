"""Abuse resistance over real HTTP through the local stack: rules that would burn CPU are refused
at once, revoked tokens stop working on their next request, partner URLs that reach inside are
refused."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

HOUR = 3_600_000
MAR2_0900_BERLIN = 1_772_438_400_000  # Monday 2026-03-02 09:00 CET
EVERY_FLAG = {"editCalendars": True, "deleteCalendars": True, "editSources": True, "deleteSources": True}


@pytest.fixture(scope="module")
def world(stack: StackClient) -> dict[str, Any]:
    """A token, a calendar and a meeting source, all made through the API."""
    owner = stack.new_token(user=f"abuse-{uuid.uuid4().hex[:6]}", allCalendars=True, **EVERY_FLAG)
    value = json.dumps({"name": "abuse", "timeZone": "Europe/Berlin"})
    calendar = stack.call("POST", "/calendar", owner["token"], json={"publicCalendar": True, "value": value}).json()
    source = stack.call(
        "POST",
        "/source",
        owner["token"],
        json={
            "eventTypeId": "meeting",
            "calendarConfigurationId": calendar["id"],
            "value": json.dumps({"name": "Meetings", "color": "#7500ca"}),
        },
    ).json()
    return {"token": owner["token"], "calendar": calendar, "source": source}


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;COUNT=5;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=SECONDLY;COUNT=2;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=1",
        "FREQ=SECONDLY;COUNT=100000;BYMONTH=2;BYMONTHDAY=29;BYHOUR=0;BYMINUTE=0;BYSECOND=0",
    ],
)
def test_rules_that_never_end_are_refused_at_once(stack: StackClient, world: dict[str, Any], rule: str) -> None:
    # Given a rule that dateutil would iterate for 5 s, 15 s or 40 s before this fix
    event = {
        "summary": "bomb",
        "eventTypeConfigId": world["source"]["id"],
        "startDate": MAR2_0900_BERLIN,
        "endDate": MAR2_0900_BERLIN + HOUR,
        "recurrence": rule,
    }
    plain = stack.call("POST", "/event", world["token"], json={"mode": "add", "event": {**event, "recurrence": None}})
    assert plain.status_code == 200, plain.text  # (and the function is warm: no cold start timed)
    # When it is created, and when an existing event is changed to it
    t0 = time.monotonic()
    created = stack.call("POST", "/event", world["token"], json={"mode": "add", "event": event})
    elapsed = time.monotonic() - t0
    # Then: 400 with Jira's body naming the field, well under 3 s
    assert created.status_code == 400, created.text
    assert set(created.json()["errors"]) == {"recurrence"}
    assert elapsed < 3.0
    changed = {**plain.json(), "recurrence": rule}
    t0 = time.monotonic()
    edited = stack.call("PUT", "/event", world["token"], json={"mode": "edit", "event": changed})
    assert edited.status_code == 400, edited.text
    assert time.monotonic() - t0 < 3.0


def test_a_revoked_token_gets_401_on_its_next_request(stack: StackClient) -> None:
    # Given a token whose authorizer result is cached (AuthorizerResultTtl: 300 s in the stack)
    created = stack.new_token(user=f"revoked-{uuid.uuid4().hex[:6]}", allCalendars=True)
    assert stack.call("GET", "/calendar", created["token"]).status_code == 200
    assert stack.call("GET", "/calendar", created["token"]).status_code == 200
    # When an admin revokes it
    revoked = stack.admin("DELETE", f"/token/{created['id']}")
    assert revoked.status_code == 200, revoked.text
    # Then its very next request is refused, and the admin's own token still works
    assert stack.call("GET", "/calendar", created["token"]).status_code == 401
    assert stack.admin("GET", "/token").status_code == 200


def _invite(stack: StackClient, partner_url: str) -> tuple[int, Any, float]:
    body = {"name": "abuse", "partnerUrl": partner_url, "scope": {"mode": "SHOW_ALL"}}
    t0 = time.monotonic()
    response = stack.admin("POST", "/synchronization", json=body)
    return response.status_code, response.json(), time.monotonic() - t0


@pytest.mark.parametrize(
    "address",
    [
        "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1 (loopback itself is allowed in the local stack)
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
        "64:ff9b:1::a00:1",  # NAT64 local-use
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
        "::ffff:169.254.169.254",
    ],
)
def test_partner_urls_that_reach_inside_are_refused(stack: StackClient, address: str) -> None:
    status, body, _ = _invite(stack, f"https://[{address}]/rest/brizo-calendar/api/1")
    assert status == 400, body
    assert set(body["errors"]) == {"partnerUrl"}


def test_a_dripping_partner_is_cut_off_at_the_deadline(stack: StackClient) -> None:
    # Given a "partner" on loopback that answers one byte every 0.2 s (a minute for its answer)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65_536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n" + b" " * 300:
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        # When a synchronization is offered to it
        status, body, elapsed = _invite(
            stack, f"http://127.0.0.1:{listener.getsockname()[1]}/rest/brizo-calendar/api/1"
        )
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    # Then the call ends at the client's deadline (8 s) with a clear error, not when the drip ends
    assert status in (502, 503, 504), body
    assert "did not answer" in json.dumps(body)
    assert elapsed < 12
