"""Synchronization between two deployments: two local stacks on two loopback ports, each with its
own moto server (its own tables, queues and secrets), speaking real HTTP to each other.

Covers: invite / receive / reject / remove record; invite / accept / map; single and recurring
events created, edited and deleted on both sides arriving on the other (and not echoing back);
the partner down for a while, then delivered; tampered, stale and replayed webhook calls refused;
delete → both DELETED and replication stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests

from devstack.gateway import ApiGateway
from devstack.stack import LocalStack
from teamcal.ids import external_id
from teamcal.partners.signing import sign

pytestmark = pytest.mark.e2e

BASE = "/rest/brizo-calendar/api/1"
MAR2_0900 = 1_772_442_000_000  # Monday 2026-03-02 09:00 UTC
HOUR = 3_600_000
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll ``probe`` every 0.2 s until it returns something (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Side:
    """One deployment: its stack, an HTTP session, and (once made) its calendar and source."""

    stack: LocalStack
    http: requests.Session
    calendar: int = 0
    source: int = 0
    sync: int = 0

    @property
    def api(self) -> str:
        return self.stack.url + BASE

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.http.request(
            method,
            self.api + path,
            json=body,
            headers={"Authorization": f"Bearer {self.stack.admin_token}"},
            timeout=60,
        )
        return response.status_code, (response.json() if response.content else None)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        code, answer = self.call(method, path, body)
        assert code == status, (method, path, code, answer)
        return answer

    def event(self, event_id: int) -> dict[str, Any] | None:
        code, answer = self.call("GET", f"/event/{event_id}")
        return answer if code == 200 else None

    def new_calendar(self, name: str) -> None:
        value = json.dumps({"name": name, "timeZone": "Europe/Berlin"})
        self.calendar = self.ok("POST", "/calendar", {"publicCalendar": True, "value": value})["id"]
        source = {
            "eventTypeId": "meeting",
            "calendarConfigurationId": self.calendar,
            "value": json.dumps({"name": "Meetings", "color": "#7500ca"}),
        }
        self.source = self.ok("POST", "/source", source)["id"]

    def replica_of(self, other: Side, event_id: int) -> int:
        """Our id of the event ``other`` created with ``event_id`` (teamcal.ids.external_id)."""
        return external_id(self.calendar, f"partner:{self.sync}", str(event_id))


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Side, Side]]:
    """Deployments A and B, each with a calendar and a meeting source (not yet synchronized)."""
    params = {"SyncRetryBaseSeconds": "1"}
    a = LocalStack(port=0, workers=1, stack_name="teamcal-a", parameters=params).start()
    b = LocalStack(port=0, workers=1, stack_name="teamcal-b", parameters=params).start()
    sessions = [requests.Session(), requests.Session()]
    for s in sessions:
        s.trust_env = False  # loopback only, never through a proxy
    try:
        sides = Side(a, sessions[0]), Side(b, sessions[1])
        sides[0].new_calendar("A team")
        sides[1].new_calendar("B team")
        for side in sides:
            # Start each side's partners function before the other side calls it: a cold start of
            # the local stack's function worker on a loaded machine can outlast the partner timeout
            # (8 s, as on AWS), which would fail the first invitation for the test machine's sake.
            side.ok("GET", "/synchronization")
        yield sides
    finally:
        for s in sessions:
            s.close()
        a.stop()
        b.stop()


def invite(a: Side, b: Side, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A invites B; returns A's record and B's received one."""
    sent = a.ok("POST", "/synchronization", {"name": name, "partnerUrl": b.api, "scope": {"mode": "SHOW_ALL"}}, 201)
    received = b.ok("GET", f"/synchronization/{sent['partnerSynchronizationId']}")
    return sent, received


def test_invite_is_received_rejected_on_both_sides_and_removed(pair: tuple[Side, Side]) -> None:
    a, b = pair
    # Given A invites B
    sent, received = invite(a, b, "to be rejected")
    # Then A lists it as sent and B as received, with each other's URL and ids
    assert sent["status"] == "INVITATION_SENT"
    assert received["status"] == "INVITATION_RECEIVED"
    assert received["partnerUrl"] == a.api
    assert received["partnerSynchronizationId"] == sent["id"]
    assert received["scope"] is None  # A's scope is A's alone
    listing = b.ok("GET", "/synchronization")
    assert set(listing) == {"startAt", "maxResults", "total", "isLast", "values"}
    assert received["id"] in [s["id"] for s in listing["values"]]
    # When B rejects it
    rejected = b.ok("POST", f"/synchronization/{received['id']}/reject")
    # Then both sides are REJECTED (the inviter was told)
    assert rejected["status"] == "REJECTED"
    assert rejected["partnerNotified"] is True
    assert a.ok("GET", f"/synchronization/{sent['id']}")["status"] == "REJECTED"
    # And accepting it now is an impossible transition
    assert b.call("POST", f"/synchronization/{received['id']}/accept", {"scope": {"mode": "SHOW_ALL"}})[0] == 409
    # And both remove it from their lists
    for side, sync_id in ((a, sent["id"]), (b, received["id"])):
        side.ok("POST", f"/synchronization/{sync_id}/remove-record")
        assert side.call("GET", f"/synchronization/{sync_id}")[0] == 404


def test_an_invitation_to_our_own_url_is_refused(pair: tuple[Side, Side]) -> None:
    a, _ = pair
    code, body = a.call("POST", "/synchronization", {"name": "me", "partnerUrl": a.api, "scope": {"mode": "SHOW_ALL"}})
    assert code == 400
    assert "own URL" in body["errors"]["partnerUrl"]


@pytest.fixture(scope="module")
def synced(pair: tuple[Side, Side]) -> tuple[Side, Side]:
    """A and B synchronized (A invited, B accepted) with A's calendar mapped both ways to B's."""
    a, b = pair
    sent, received = invite(a, b, "A <-> B")
    accepted = b.ok("POST", f"/synchronization/{received['id']}/accept", {"scope": {"mode": "SHOW_ALL"}})
    assert accepted["status"] == "NOT_CONFIGURED"
    assert a.ok("GET", f"/synchronization/{sent['id']}")["status"] == "NOT_CONFIGURED"
    a.sync, b.sync = sent["id"], received["id"]
    seen = a.ok("GET", f"/synchronization/{a.sync}/partner-calendars")["values"]
    assert {"id": b.calendar, "name": "B team", "eventTypes": ["meeting"]} in seen
    mapping = {"localCalendarId": a.calendar, "partnerCalendarId": b.calendar, "direction": "BOTH"}
    created = a.ok("POST", f"/synchronization/{a.sync}/mappings", mapping, 201)
    assert a.ok("GET", f"/synchronization/{a.sync}")["status"] == "ACTIVE"
    assert b.ok("GET", f"/synchronization/{b.sync}")["status"] == "ACTIVE"
    mirrored = b.ok("GET", f"/synchronization/{b.sync}/mappings")["values"]
    assert [(m["id"], m["localCalendarId"], m["direction"]) for m in mirrored] == [(created["id"], b.calendar, "BOTH")]
    return a, b


def test_single_events_replicate_both_ways_without_echo(synced: tuple[Side, Side]) -> None:
    a, b = synced
    # Given an event created on A
    body = {"eventTypeConfigId": a.source, "summary": "Kick-off", "startDate": MAR2_0900, "endDate": MAR2_0900 + HOUR}
    original = a.ok("POST", "/event", {"event": body})
    replica = b.replica_of(a, original["id"])
    # Then it arrives on B, in B's calendar and source
    arrived = wait_for(lambda: b.event(replica), "the event on B")
    assert (arrived["calendarId"], arrived["eventTypeConfigId"]) == (b.calendar, b.source)
    assert (arrived["summary"], arrived["startDate"], arrived["endDate"]) == ("Kick-off", MAR2_0900, MAR2_0900 + HOUR)
    # When A edits it
    a.ok("PUT", "/event", {"mode": "edit", "event": {"id": original["id"], "summary": "Kick-off (moved)"}})
    wait_for(lambda: (e := b.event(replica)) and e["summary"] == "Kick-off (moved)" or None, "the edit on B")
    # When B edits its copy, the change lands on A's original (not on a copy of a copy)
    b.ok("PUT", "/event", {"mode": "edit", "event": {"id": replica, "description": "agenda from B"}})
    wait_for(lambda: (e := a.event(original["id"])) and e["description"] == "agenda from B" or None, "B's edit on A")
    # And nothing echoes back and forth: both versions stay put
    settled = (a.event(original["id"]) or {})["version"], (b.event(replica) or {})["version"]
    time.sleep(2.0)
    assert ((a.event(original["id"]) or {})["version"], (b.event(replica) or {})["version"]) == settled
    # When B creates an event, A gets it; when B deletes it, it goes on A too
    mine = b.ok(
        "POST", "/event", {"event": {"eventTypeConfigId": b.source, "summary": "From B", "allDayStart": "2026-03-04"}}
    )
    copy = a.replica_of(b, mine["id"])
    arrived = wait_for(lambda: a.event(copy), "B's event on A")
    assert (arrived["allDay"], arrived["allDayStart"], arrived["allDayEnd"]) == (True, "2026-03-04", "2026-03-04")
    b.ok("DELETE", f"/event/{mine['id']}")
    wait_for(lambda: True if a.event(copy) is None else None, "the delete on A")
    # When A deletes its original, B's copy goes
    a.ok("DELETE", f"/event/{original['id']}")
    wait_for(lambda: True if b.event(replica) is None else None, "the delete of A's event on B")


def test_recurring_events_and_their_exceptions_replicate(synced: tuple[Side, Side]) -> None:
    a, b = synced
    # Given a weekly series created on B
    series = {
        "eventTypeConfigId": b.source,
        "summary": "Weekly",
        "startDate": MAR2_0900,
        "endDate": MAR2_0900 + HOUR,
        "timeZone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;COUNT=4",
    }
    master = b.ok("POST", "/event", {"event": series})
    copy = a.replica_of(b, master["id"])
    arrived = wait_for(lambda: a.event(copy), "the series on A")
    assert (arrived["recurrence"], arrived["timeZone"]) == ("FREQ=WEEKLY;COUNT=4", "Europe/Berlin")
    # When A moves one occurrence (an exception of the series, made on the copy)
    moved = {
        "id": copy,
        "recurrenceId": "20260309",
        "summary": "Weekly (later)",
        "startDate": MAR2_0900 + 7 * 24 * HOUR + 2 * HOUR,
        "endDate": MAR2_0900 + 7 * 24 * HOUR + 3 * HOUR,
    }
    child = a.ok("PUT", "/event", {"mode": "edit", "select": "current", "event": moved})
    child_on_b = b.replica_of(a, child["id"])
    # Then B has the exception, under B's own series
    arrived_child = wait_for(lambda: b.event(child_on_b), "the exception on B")
    assert (arrived_child["parentId"], arrived_child["recurrenceId"]) == (master["id"], "20260309")
    week = b.ok(
        "POST",
        "/event/search",
        {"calendarId": b.calendar, "startDate": MAR2_0900 + 6 * 24 * HOUR, "endDate": MAR2_0900 + 8 * 24 * HOUR},
    )
    assert [v["summary"] for v in week["values"]] == ["Weekly (later)"]
    # When B cancels another occurrence, A's copy gets the EXDATE
    b.ok("DELETE", f"/event/{master['id']}/recur", {"mode": "delete", "select": "current", "exdate": "20260316"})
    wait_for(lambda: (e := a.event(copy)) and "20260316" in e["exdate"] or None, "the EXDATE on A")
    # When A deletes its exception, B's copy of it goes
    a.ok("DELETE", f"/event/{child['id']}")
    wait_for(lambda: True if b.event(child_on_b) is None else None, "the exception's delete on B")
    # When B deletes the whole series, A's copy goes
    b.ok("DELETE", f"/event/{master['id']}")
    wait_for(lambda: True if a.event(copy) is None else None, "the series' delete on A")


def test_changes_made_while_the_partner_is_down_arrive_when_it_returns(synced: tuple[Side, Side]) -> None:
    a, b = synced
    # Given B's API is down
    assert b.stack.gateway is not None
    port = b.stack.gateway.port
    b.stack.gateway.stop()
    try:
        # When A creates an event and A's sender fails to deliver it
        body = {"eventTypeConfigId": a.source, "summary": "while B was down", "startDate": MAR2_0900 + 2 * HOUR}
        created = a.ok("POST", "/event", {"event": body})
        time.sleep(2.5)
    finally:
        # And B comes back on the same port
        gateway = ApiGateway(b.stack.api, b.stack.lambdas.invoke, port=port)  # type: ignore[union-attr]
        gateway.start()
        b.stack.gateway = gateway
        b.stack.drivers[0] = gateway
    # Then the change arrives (retried with backoff)
    arrived = wait_for(lambda: b.event(b.replica_of(a, created["id"])), "the delayed change on B", timeout=40)
    assert arrived["summary"] == "while B was down"


def _signed_post(b: Side, path: str, body: bytes, key: bytes, at: int, nonce: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json", **sign(key, "POST", path, body, at, nonce).as_dict()}
    return b.http.post(b.api + path, data=body, headers=headers, timeout=30)


def test_tampered_stale_and_replayed_webhook_calls_are_refused(synced: tuple[Side, Side]) -> None:
    a, b = synced
    # Given the signing key B shares with A (read from B's own secret store)
    secret = b.stack.endpoint.client("secretsmanager").get_secret_value(SecretId=f"teamcal-b/partners/{b.sync}")  # type: ignore[union-attr]
    from teamcal.partners.protocol import decode_secret

    key = decode_secret(json.loads(secret["SecretString"])["secret"], "secret")
    mapping = b.ok("GET", f"/synchronization/{b.sync}/mappings")["values"][0]["id"]
    path = f"/partner/v1/synchronization/{b.sync}/events"
    change = {
        "changeId": "probe-1",
        "mappingId": mapping,
        "op": "delete",
        "ref": {"home": "sender", "id": 1},
        "kind": "single",
        "version": 1,
        "updated": 1,
    }
    body = json.dumps(change).encode()
    now = int(time.time())
    # When A's properly signed call arrives, it is answered
    first = _signed_post(b, path, body, key, now, nonce="nonce-probe-0000000001")
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "absent"
    # Then the very same call again is a replay
    assert _signed_post(b, path, body, key, now, nonce="nonce-probe-0000000001").status_code == 401
    # And a tampered body, a stale timestamp and a wrong key are refused
    headers = {"Content-Type": "application/json", **sign(key, "POST", path, body, now).as_dict()}
    tampered = b.http.post(b.api + path, data=body.replace(b"probe-1", b"probe-2"), headers=headers, timeout=30)
    assert tampered.status_code == 401
    assert _signed_post(b, path, body, key, now - 301).status_code == 401
    assert _signed_post(b, path, body, b"x" * 32, now).status_code == 401
    # And an unknown synchronization is a 404, a malformed body a 400, an oversized one a 413
    assert _signed_post(b, "/partner/v1/synchronization/4242/events", body, key, now).status_code == 404
    assert _signed_post(b, path, b'{"changeId": 3}', key, now).status_code == 400
    assert _signed_post(b, path, b" " * 300_000, key, now).status_code == 413
    # And every refusal carries Jira's error body
    assert set(tampered.json()) == {"errorMessages", "errors"}


def test_delete_marks_both_sides_deleted_and_stops_replication(synced: tuple[Side, Side]) -> None:
    a, b = synced
    # When A deletes the synchronization
    deleted = a.ok("DELETE", f"/synchronization/{a.sync}")
    # Then both sides are DELETED and have no mappings left
    assert (deleted["status"], deleted["partnerNotified"]) == ("DELETED", True)
    assert b.ok("GET", f"/synchronization/{b.sync}")["status"] == "DELETED"
    assert b.ok("GET", f"/synchronization/{b.sync}/mappings")["total"] == 0
    # And a new event on A no longer reaches B
    created = a.ok(
        "POST", "/event", {"event": {"eventTypeConfigId": a.source, "summary": "after", "startDate": MAR2_0900}}
    )
    time.sleep(2.0)
    assert b.event(b.replica_of(a, created["id"])) is None
    # And deleting again is an impossible transition; removing the record works on both sides
    assert a.call("DELETE", f"/synchronization/{a.sync}")[0] == 409
    for side in (a, b):
        side.ok("POST", f"/synchronization/{side.sync}/remove-record")
        assert side.call("GET", f"/synchronization/{side.sync}")[0] == 404
