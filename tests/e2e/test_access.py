"""Issue 11's seven cases over real HTTP: two local stacks (A and B, each with its own moto
server) for the synchronization cases 1, 2 and 6, and stack A alone for cases 3, 4, 5 and 7.

A Google-synced event is one whose stored item carries what the Google sync writes (``origin``
"google", ``readOnly``, ``private`` for a private Google calendar): the tests set those on
items in the stack's own DynamoDB, as a sync would have left them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from boto3.dynamodb.types import TypeSerializer

from teamcal.partners.protocol import decode_secret
from tests.e2e.test_partners import MAR2_0900, Side, _signed_post, invite, pair, wait_for
from tests.plan_ics import plan_ics

pytestmark = pytest.mark.e2e
__all__ = ["pair"]

HOUR = 3_600_000
VALUE = json.dumps({"name": "Team", "timeZone": "UTC"})


def _as(
    side: Side,
    token: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> requests.Response:
    sent = {"Authorization": f"Bearer {token}", **(headers or {})}
    return side.http.request(method, side.api + path, json=body, headers=sent, timeout=60, **kw)


def _token(side: Side, user: str, **fields: Any) -> str:
    created = side.ok("POST", "/token", {"name": user, "user": user, **fields}, 201)
    return str(created["token"])


def _calendar(side: Side, owner: str, **settings: Any) -> int:
    return int(side.ok("POST", "/calendar", {"user": owner, "value": VALUE, **settings})["id"])


def _source(side: Side, calendar_id: int, type_key: str = "meeting") -> int:
    body = {
        "eventTypeId": type_key,
        "calendarConfigurationId": calendar_id,
        "value": json.dumps({"name": type_key, "color": "#7500ca"}),
    }
    return int(side.ok("POST", "/source", body)["id"])


def _event(side: Side, source_id: int, summary: str) -> int:
    body = {"eventTypeConfigId": source_id, "summary": summary, "startDate": MAR2_0900, "endDate": MAR2_0900 + HOUR}
    return int(side.ok("POST", "/event", {"event": body})["id"])


def _stamp(side: Side, table: str, key: dict[str, str], **attributes: Any) -> None:
    """Set attributes on an item of the side's own DynamoDB (as a Google sync leaves them)."""
    names = {f"#a{i}": k for i, k in enumerate(attributes)}
    values = {f":v{i}": TypeSerializer().serialize(v) for i, v in enumerate(attributes.values())}
    assert side.stack.endpoint is not None
    side.stack.endpoint.client("dynamodb").update_item(
        TableName=side.stack.template.physical_name(table),
        Key={k: {"S": v} for k, v in key.items()},
        UpdateExpression="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def _google_event(side: Side, event_id: int, *, private: bool = False, **changes: Any) -> None:
    key = {"pk": f"EV#{event_id}", "sk": "EV"}
    _stamp(side, "EventsTable", key, origin="google", readOnly=True, private=private, **changes)


def _key(side: Side, stack_name: str, sync_id: int) -> bytes:
    """The signing key ``side`` (stack ``stack_name``) shares with its partner (from its own
    secret store)."""
    assert side.stack.endpoint is not None
    name = f"{stack_name}/partners/{sync_id}"
    secret = side.stack.endpoint.client("secretsmanager").get_secret_value(SecretId=name)
    return decode_secret(json.loads(secret["SecretString"])["secret"], "secret")


# ---------------------------------------------------------------------------- two deployments
def test_case_1_a_calendar_scoped_token_opens_only_its_calendars_to_a_partner(pair: tuple[Side, Side]) -> None:
    a, b = pair
    # Given on B: bea's calendar, bob's private calendar, and a token tied to bea's calendar
    bea_calendar = _calendar(b, "bea", publicCalendar=True)
    bob_calendar = _calendar(b, "bob")
    bea = _token(b, "bea", calendarIds=[bea_calendar], editCalendars=True)
    # When A invites B and bea's token accepts with SHOW_ALL
    sent, received = invite(a, b, "scoped")
    accepted = _as(b, bea, "POST", f"/synchronization/{received['id']}/accept", {"scope": {"mode": "SHOW_ALL"}})
    assert accepted.status_code == 200, accepted.text
    # Then A sees bea's calendar only, and cannot map bob's
    seen = a.ok("GET", f"/synchronization/{sent['id']}/partner-calendars")["values"]
    assert [c["id"] for c in seen] == [bea_calendar]
    mapping = {"localCalendarId": a.calendar, "partnerCalendarId": bob_calendar, "direction": "BOTH"}
    assert a.call("POST", f"/synchronization/{sent['id']}/mappings", mapping)[0] == 400
    mapping["partnerCalendarId"] = bea_calendar
    a.ok("POST", f"/synchronization/{sent['id']}/mappings", mapping, 201)
    # And another calendar-editing token on B neither lists nor opens the synchronization
    carl = _token(b, "carl", allCalendars=True, editCalendars=True)
    assert _as(b, carl, "GET", f"/synchronization/{received['id']}").status_code == 404
    assert _as(b, carl, "GET", "/synchronization").json()["total"] == 0


@pytest.fixture(scope="module")
def both_ways(pair: tuple[Side, Side]) -> tuple[Side, Side, int]:
    """A's and B's team calendars mapped both ways for meetings; returns A, B and B's mapping id."""
    a, b = pair
    sent, received = invite(a, b, "meetings")
    b.ok("POST", f"/synchronization/{received['id']}/accept", {"scope": {"mode": "SHOW_ALL"}})
    a.sync, b.sync = sent["id"], received["id"]
    mapping = {
        "localCalendarId": a.calendar,
        "partnerCalendarId": b.calendar,
        "direction": "BOTH",
        "eventTypes": ["meeting"],
    }
    created = a.ok("POST", f"/synchronization/{a.sync}/mappings", mapping, 201)
    return a, b, int(created["id"])


def test_case_2_a_partner_writes_only_what_its_mapping_lets_it(both_ways: tuple[Side, Side, int]) -> None:
    _, b, mapping_id = both_ways
    # Given on B: a vacation (outside the mapping's types) and a Google-synced meeting
    vacation = _event(b, _source(b, b.calendar, "vacation"), "holiday")
    google = _event(b, b.source, "club night")
    _google_event(b, google)
    key, path, now = _key(b, "teamcal-b", b.sync), f"/partner/v1/synchronization/{b.sync}/events", int(time.time())
    # When the partner (a hostile deployment holding the signing key) rewrites or deletes them
    for n, event_id in enumerate((vacation, google)):
        for op in ("upsert", "delete"):
            change: dict[str, Any] = {
                "changeId": f"hostile-{n}-{op}",
                "mappingId": mapping_id,
                "op": op,
                "ref": {"home": "receiver", "id": event_id},
                "kind": "single",
                "version": 99,
                "updated": int(time.time() * 1000),
            }
            if op == "upsert":
                change["eventType"] = "meeting"
                change["event"] = {
                    "summary": "pwned",
                    "allDay": False,
                    "timeZone": "UTC",
                    "startDate": MAR2_0900,
                    "endDate": MAR2_0900 + 1,
                }
            answer = _signed_post(b, path, json.dumps(change).encode(), key, now, nonce=f"nonce-hostile-{n}-{op}-000")
            # Then each is refused
            assert answer.status_code == 403, answer.text
    # And both events are as they were
    assert (b.event(vacation) or {}).get("summary") == "holiday"
    assert (b.event(google) or {}).get("summary") == "club night"


def test_case_6_a_google_synced_event_does_not_stop_replication(both_ways: tuple[Side, Side, int]) -> None:
    a, b, _ = both_ways
    # Given on A a meeting that a Google sync then rewrites (a public Google calendar), and right
    # after it an ordinary one
    google = _event(a, a.source, "before the sync")
    _google_event(a, google, summary="from google", version=2, updated=int(time.time() * 1000))
    plain = _event(a, a.source, "plain")
    # Then both arrive on B: the Google one's string origin stops nothing
    wait_for(lambda: b.event(b.replica_of(a, plain)), "the ordinary event on B", timeout=40)
    arrived = wait_for(
        lambda: (e := b.event(b.replica_of(a, google))) and e["summary"] == "from google" and e or None,
        "the Google-synced event on B",
        timeout=40,
    )
    assert arrived["calendarId"] == b.calendar
    # And an event that becomes a private Google one leaves the partner (sent as a delete only)
    private = _event(a, a.source, "doctor")
    wait_for(lambda: b.event(b.replica_of(a, private)), "the event before it became private", timeout=40)
    _google_event(a, private, private=True, summary="doctor (private)", version=2, updated=int(time.time() * 1000))
    wait_for(lambda: True if b.event(b.replica_of(a, private)) is None else None, "the private event gone", timeout=40)


# ---------------------------------------------------------------------------- one deployment
def test_case_3_private_google_events_are_the_calendar_creators_alone(pair: tuple[Side, Side]) -> None:
    a, _ = pair
    # Given ann's public calendar with a source synced from her private Google calendar
    ann = _token(a, "ann", allCalendars=True, editCalendars=True)
    calendar = _calendar(a, "ann", publicCalendar=True)
    source = _source(a, calendar)
    doctor = _event(a, source, "doctor")
    _stamp(a, "SourcesTable", {"pk": f"SRC#{source}", "sk": "SRC"}, origin="google", readOnly=True, private=True)
    _google_event(a, doctor, private=True)
    # Then an admin's export, GET /source and GET /event do not show it; ann's export does
    admin_export = a.http.get(
        f"{a.api}/calendar/{calendar}/export", headers={"Authorization": f"Bearer {a.stack.admin_token}"}, timeout=60
    )
    assert admin_export.status_code == 200, admin_export.text
    assert "doctor" not in admin_export.text
    assert "doctor" in _as(a, ann, "GET", f"/calendar/{calendar}/export").text
    assert a.call("GET", f"/source/{source}")[0] == 404
    assert a.call("GET", f"/event/{doctor}")[0] == 404
    # And ann's subscription feed (read without a token) does not either
    feed = _as(a, ann, "POST", f"/calendar/{calendar}/feed")
    assert feed.status_code == 201, feed.text
    assert "doctor" not in a.http.get(feed.json()["url"], timeout=60).text


def test_case_4_a_narrower_tokens_import_never_rewrites_an_event_it_cannot_see(pair: tuple[Side, Side]) -> None:
    a, _ = pair
    ann = _token(a, "ann4", allCalendars=True, editCalendars=True, editSources=True)
    team = _calendar(a, "ann4", publicCalendar=True, eventsEditable=True)
    mine = _calendar(a, "ann4")
    mine_source = _source(a, mine)
    bob = _token(a, "bob4", calendarIds=[team])
    headers = {"Content-Type": "text/calendar"}
    # Given ann imported plan-1 into the team calendar and moved it to her private calendar
    imported = _as(a, ann, "POST", f"/calendar/{team}/import", headers=headers, data=plan_ics(0, "Plan").encode())
    assert imported.status_code == 202, imported.text
    window = {"calendarId": team, "startDate": MAR2_0900, "endDate": MAR2_0900 + 30 * 24 * HOUR}
    event_id = _as(a, ann, "POST", "/event/search", window).json()["values"][0]["id"]
    moved = _as(a, ann, "PUT", "/event", {"event": {"id": event_id, "eventTypeConfigId": mine_source}})
    assert moved.status_code == 200, moved.text
    # When bob, tied to the team calendar, imports plan-1 with a higher SEQUENCE
    hijack = _as(a, bob, "POST", f"/calendar/{team}/import", headers=headers, data=plan_ics(5, "Hijack").encode())
    # Then nothing is imported and ann's event keeps its calendar, source and summary
    assert hijack.status_code == 400, hijack.text
    event = _as(a, ann, "GET", f"/event/{event_id}").json()
    assert (event["calendarId"], event["eventTypeConfigId"], event["summary"]) == (mine, mine_source, "Plan")


def test_case_5_event_reporter_edit_does_not_let_a_viewer_create_events(pair: tuple[Side, Side]) -> None:
    a, _ = pair
    calendar = _calendar(a, "owen", publicCalendar=True, eventReporterEdit=True)
    source = _source(a, calendar)
    vic = _token(a, "vic", calendarIds=[calendar])
    body = {"eventTypeConfigId": source, "summary": "mine", "startDate": MAR2_0900, "endDate": MAR2_0900 + HOUR}
    answer = _as(a, vic, "POST", "/event", {"event": body})
    assert answer.status_code == 403, answer.text


def test_case_7_the_vendors_create_calendar_sample_works_with_an_all_calendars_token(
    pair: tuple[Side, Side],
) -> None:
    a, _ = pair
    editor = _token(a, "editor", allCalendars=True, editCalendars=True)
    sample = {"user": "userID", "publicCalendar": False, "value": json.dumps({"name": "Sample"})}
    created = _as(a, editor, "POST", "/calendar", sample)
    assert created.status_code == 200, created.text
    assert created.json()["user"] == "userID"
    scoped = _token(a, "scoped", calendarIds=[a.calendar], editCalendars=True)
    assert _as(a, scoped, "POST", "/calendar", sample).status_code == 403
