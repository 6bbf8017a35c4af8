"""Synchronizations in-process against moto, with a fake partner deployment on 127.0.0.1:
the invitation API and its status machine, the signed webhooks (signature, timestamp, replay,
unknown ids, bad bodies), partners that fail or hang, and the receiving side of replication."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent

from teamcal.ids import external_id, now_ms
from teamcal.partners.protocol import decode_secret, encode_secret
from teamcal.partners.signing import derive_key, new_secret, read_headers, sign, verify
from teamcal.services.sync_context import SyncContext, bumped, connect
from teamcal.settings import get_settings
from tests.conftest import TEMPLATE, api_event
from tests.integration.ccj import ROOT, new_calendar, new_source, token
from tests.integration.partner_fakes import FakePartner

pytestmark = pytest.mark.integration

HOST = "127.0.0.1:9"
OWN = f"http://{HOST}/rest/brizo-calendar/api/1"
SHOW_ALL = {"mode": "SHOW_ALL"}
MAR2_0900 = 1_772_442_000_000
HOUR = 3_600_000


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture
def partner() -> Iterator[FakePartner]:
    fake = FakePartner().start()
    fake.on(
        "GET", "/partner/v1/hello", (200, {"product": "teamcal", "protocol": 1, "deploymentId": "partner-deployment-1"})
    )
    fake.on("POST", "/partner/v1/invitations", (201, {"synchronizationId": 77, "deploymentId": "partner-deployment-1"}))
    yield fake
    fake.stop()


@pytest.fixture
def ctx(aws: None, monkeypatch: pytest.MonkeyPatch) -> SyncContext:
    """The partners function's context over in-process moto: loopback partners allowed, 1 s timeout."""
    settings = get_settings()
    context = connect(
        boto3.client("dynamodb"),
        boto3.client("secretsmanager"),
        {
            "calendars": settings.calendars_table,
            "sources": settings.sources_table,
            "events": settings.events_table,
            "invitations": settings.invitations_table,
        },
        secrets_prefix="teamcal-test/partners",
        allow_loopback=True,
        timeout_seconds=1.0,
        kms=boto3.client("kms"),
        sealing_key_id=TEMPLATE.ref("SealingKey"),
    )
    from functions.partners import app

    monkeypatch.setattr(app, "context", lambda: context)
    return context


def call(
    ctx_: Any, method: str, path: str, body: Any = None, *, tok: dict[str, Any] | None = None, host: str = HOST
) -> tuple[int, Any]:
    """Our API, as the admin (or ``tok``), reached at ``host``."""
    from functions.partners import app

    event = api_event(method, path, body, authorizer=tok or ROOT, headers={"Host": host})
    out = app.lambda_handler(event, ctx_)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


def webhook(
    ctx_: Any,
    path: str,
    body: bytes,
    key: bytes | None,
    *,
    method: str = "POST",
    at: int | None = None,
    nonce: str | None = None,
    signed_body: bytes | None = None,
) -> tuple[int, Any]:
    """A partner webhook call, signed with ``key`` (over ``signed_body`` if given: tampering)."""
    from functions.partners import app

    headers = {"Host": HOST}
    if key is not None:
        stamp = int(time.time()) if at is None else at
        headers |= sign(key, method, path, body if signed_body is None else signed_body, stamp, nonce).as_dict()
    event = api_event(method, path, raw_body=body.decode("utf-8", "replace") if body else None, headers=headers)
    event["requestContext"].pop("authorizer")
    out = app.lambda_handler(event, ctx_)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


def invitation(
    secret: bytes, partner_id: int = 501, url: str = "http://127.0.0.1:1/rest/brizo-calendar/api/1"
) -> bytes:
    return json.dumps(
        {
            "protocol": 1,
            "synchronizationId": partner_id,
            "name": "Globex",
            "url": url,
            "deploymentId": "inviter-deployment",
            "secret": encode_secret(secret),
        }
    ).encode()


def received(ctx: SyncContext, lambda_context: Any, partner: FakePartner) -> tuple[int, bytes]:
    """An invitation from ``partner`` received through the webhook; returns (our id, the secret)."""
    secret = new_secret()
    status, answer = webhook(lambda_context, "/partner/v1/invitations", invitation(secret, url=partner.url), secret)
    assert status == 201, answer
    return int(answer["synchronizationId"]), secret


def accepted(ctx: SyncContext, lambda_context: Any, partner: FakePartner, scope: Any = SHOW_ALL) -> tuple[int, bytes]:
    """A received invitation we accepted; returns (our id, the derived signing key)."""
    sync_id, secret = received(ctx, lambda_context, partner)
    partner.on("POST", "/partner/v1/synchronization/501/accept", (200, {}))
    status, body = call(lambda_context, "POST", f"/synchronization/{sync_id}/accept", {"scope": scope})
    assert status == 200, body
    salt = decode_secret(partner.calls("/501/accept")[-1].json()["salt"], "salt")
    return sync_id, derive_key(secret, salt, inviter_id=501, invitee_id=sync_id)


# ---------------------------------------------------------------------------- inviting
def test_invite_sends_a_signed_invitation_and_lists_it(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    # When the admin invites the partner
    scope = {"mode": "SHOW_SELECTED", "eventTypes": ["meeting"]}
    status, created = call(
        lambda_context, "POST", "/synchronization", {"name": "Globex", "partnerUrl": partner.url, "scope": scope}
    )
    # Then it is INVITATION_SENT, with the partner's id for it
    assert status == 201, created
    assert (created["status"], created["role"], created["partnerSynchronizationId"]) == (
        "INVITATION_SENT",
        "INVITER",
        77,
    )
    # And the partner got an invitation with our URL and a one-time secret, signed with that secret
    sent = partner.calls("/partner/v1/invitations")[0]
    body = sent.json()
    assert body["url"] == OWN
    assert "scope" not in body  # our scope is ours alone
    verify(
        decode_secret(body["secret"], "secret"),
        "POST",
        sent.path,
        sent.body,
        read_headers(sent.headers, int(time.time())),
    )
    # And the list uses Jira's envelope
    status, page = call(lambda_context, "GET", "/synchronization")
    assert (page["total"], page["isLast"], page["values"][0]["id"]) == (1, True, created["id"])


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ((500, {"errorMessages": ["boom"], "errors": {}}), 502),
        ((200, b"x" * 1_100_000), 502),
        ((302, {}), 502),
        ((200, "HANG"), 503),
    ],
    ids=["partner-500", "oversized-answer", "redirect", "hangs"],
)
def test_a_failing_partner_gives_a_clear_error_and_keeps_nothing(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner, answer: Any, status: int
) -> None:
    # Given a partner whose invitation endpoint fails
    partner.on("POST", "/partner/v1/invitations", answer)
    started = time.monotonic()
    # When we invite it
    code, body = call(
        lambda_context, "POST", "/synchronization", {"name": "x", "partnerUrl": partner.url, "scope": SHOW_ALL}
    )
    # Then the error is clear, in Jira's body, within the timeout
    assert code == status, body
    assert body["errorMessages"]
    assert time.monotonic() - started < 5
    # And nothing was kept: no record, no secret
    assert call(lambda_context, "GET", "/synchronization")[1]["total"] == 0
    secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert [x["Name"] for x in secrets if x["Name"].startswith("teamcal-test/partners/")] == []


@pytest.mark.parametrize(
    "url",
    [
        OWN,
        "http://10.0.0.8/rest/brizo-calendar/api/1",
        "https://10.0.0.8/rest/brizo-calendar/api/1",
        "https://169.254.169.254/rest/brizo-calendar/api/1",
        "https://[fe80::1]/rest/brizo-calendar/api/1",
        "https://[::ffff:192.168.0.1]/rest/brizo-calendar/api/1",
        "https://partner.example.com/",
        "https://user:pw@partner.example.com/rest/brizo-calendar/api/1",
        "ftp://partner.example.com/rest/brizo-calendar/api/1",
    ],
)
def test_refused_partner_urls_are_400_on_partnerUrl(ctx: SyncContext, lambda_context: Any, url: str) -> None:
    code, body = call(lambda_context, "POST", "/synchronization", {"name": "x", "partnerUrl": url, "scope": SHOW_ALL})
    assert code == 400, body
    assert "partnerUrl" in body["errors"]


def test_a_partner_that_is_us_under_another_name_is_refused(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    partner.on("GET", "/partner/v1/hello", (200, {"deploymentId": ctx.invitations.deployment_id()}))
    code, body = call(
        lambda_context, "POST", "/synchronization", {"name": "x", "partnerUrl": partner.url, "scope": SHOW_ALL}
    )
    assert code == 400
    assert "own URL" in body["errors"]["partnerUrl"]
    assert not partner.calls("/invitations")


def test_loopback_partners_need_the_local_development_setting(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.partners import app

    strict = connect(
        boto3.client("dynamodb"),
        boto3.client("secretsmanager"),
        dict.fromkeys(("calendars", "sources", "events", "invitations"), "x"),
        secrets_prefix="p",
        allow_loopback=False,
        timeout_seconds=1.0,
    )
    monkeypatch.setattr(app, "context", lambda: strict)
    code, body = call(
        lambda_context, "POST", "/synchronization", {"name": "x", "partnerUrl": partner.url, "scope": SHOW_ALL}
    )
    assert code == 400
    assert "https" in body["errors"]["partnerUrl"]


def test_tokens_that_may_not_edit_calendars_may_not_manage_synchronizations(
    ctx: SyncContext, lambda_context: Any
) -> None:
    assert call(lambda_context, "GET", "/synchronization", tok=token("bob"))[0] == 403
    assert call(lambda_context, "GET", "/synchronization", tok=token("bob", edit_calendars=True))[0] == 200


# ---------------------------------------------------------------------------- receiving
def test_a_received_invitation_is_listed_and_its_webhook_refuses_replays_and_forgeries(
    ctx: SyncContext, lambda_context: Any
) -> None:
    secret = new_secret()
    body = invitation(secret)
    now = int(time.time())
    # When a properly signed invitation arrives
    status, answer = webhook(lambda_context, "/partner/v1/invitations", body, secret, at=now, nonce="n" * 22)
    # Then it is stored as INVITATION_RECEIVED, without a scope until we accept
    assert status == 201, answer
    status, listed = call(lambda_context, "GET", f"/synchronization/{answer['synchronizationId']}")
    assert (listed["status"], listed["partnerSynchronizationId"], listed["scope"]) == ("INVITATION_RECEIVED", 501, None)
    # And the same call again is a replay; a forged, stale or unsigned one is refused
    assert webhook(lambda_context, "/partner/v1/invitations", body, secret, at=now, nonce="n" * 22)[0] == 401
    assert webhook(lambda_context, "/partner/v1/invitations", body, secret, signed_body=body + b" ")[0] == 401
    assert webhook(lambda_context, "/partner/v1/invitations", body, secret, at=now - 301)[0] == 401
    assert webhook(lambda_context, "/partner/v1/invitations", body, None)[0] == 401
    # And bad bodies are 400 / 413, never 500
    assert webhook(lambda_context, "/partner/v1/invitations", b"{not json", secret)[0] == 400
    assert webhook(lambda_context, "/partner/v1/invitations", b'{"protocol": 1}', secret)[0] == 400
    assert webhook(lambda_context, "/partner/v1/invitations", b" " * 300_000, secret)[0] == 413
    private = invitation(secret, url="http://10.1.2.3/rest/brizo-calendar/api/1")
    assert webhook(lambda_context, "/partner/v1/invitations", private, secret)[1]["errors"].keys() == {"url"}
    # And only one synchronization exists
    assert call(lambda_context, "GET", "/synchronization")[1]["total"] == 1


def test_accept_derives_the_same_key_on_both_sides_and_the_status_machine_holds(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    sync_id, key = accepted(ctx, lambda_context, partner)
    # Then our stored key is the one the inviter derives from the salt it was sent
    assert ctx.secrets.get(sync_id, 99) == ("key", key)
    sent = partner.calls("/501/accept")[0]
    assert sent.json()["partnerSynchronizationId"] == sync_id
    # And impossible transitions are 409
    assert call(lambda_context, "POST", f"/synchronization/{sync_id}/accept", {"scope": SHOW_ALL})[0] == 409
    assert call(lambda_context, "POST", f"/synchronization/{sync_id}/reject")[0] == 409
    assert call(lambda_context, "POST", f"/synchronization/{sync_id}/remove-record")[0] == 409
    # When we delete it, the partner is told (signed with the new key) and it is DELETED
    partner.on("POST", "/partner/v1/synchronization/501/delete", (200, {}))
    status, deleted = call(lambda_context, "DELETE", f"/synchronization/{sync_id}")
    assert (status, deleted["status"], deleted["partnerNotified"]) == (200, "DELETED", True)
    told = partner.calls("/501/delete")[0]
    verify(key, "POST", told.path, told.body, read_headers(told.headers, int(time.time())))
    # And its key is gone; then the record can be removed
    assert ctx.secrets.get(sync_id, 100) is None
    assert call(lambda_context, "POST", f"/synchronization/{sync_id}/remove-record")[0] == 200
    assert call(lambda_context, "GET", f"/synchronization/{sync_id}")[0] == 404


def test_reject_tells_the_inviter_and_holds_even_when_it_is_down(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    first, _ = received(ctx, lambda_context, partner)
    partner.on("POST", "/partner/v1/synchronization/501/reject", (200, {}))
    assert call(lambda_context, "POST", f"/synchronization/{first}/reject")[1]["partnerNotified"] is True
    # Given an inviter that answers 500 on the second
    second, _ = received(ctx, lambda_context, partner)
    partner.on("POST", "/partner/v1/synchronization/501/reject", (500, {}))
    status, body = call(lambda_context, "POST", f"/synchronization/{second}/reject")
    assert (status, body["status"], body["partnerNotified"]) == (200, "REJECTED", False)


def test_the_inviter_side_webhooks_move_its_status(ctx: SyncContext, lambda_context: Any, partner: FakePartner) -> None:
    # Given an invitation we sent (the partner's id for it is 77)
    status, sent = call(
        lambda_context, "POST", "/synchronization", {"name": "G", "partnerUrl": partner.url, "scope": SHOW_ALL}
    )
    secret = decode_secret(partner.calls("/invitations")[0].json()["secret"], "secret")
    path = f"/partner/v1/synchronization/{sent['id']}"
    # When the partner accepts with a salt, signed with the one-time secret
    salt = new_secret()
    accept = json.dumps({"partnerSynchronizationId": 77, "salt": encode_secret(salt)}).encode()
    assert webhook(lambda_context, f"{path}/accept", accept, new_secret())[0] == 401  # not the invitation's secret
    status, body = webhook(lambda_context, f"{path}/accept", accept, secret)
    # Then we are NOT_CONFIGURED and hold the key derived from the secret and the salt
    assert (status, body["status"]) == (200, "NOT_CONFIGURED")
    key = derive_key(secret, salt, inviter_id=sent["id"], invitee_id=77)
    assert ctx.secrets.get(sent["id"], 2) == ("key", key)
    # And accepting again is refused; unknown synchronizations are 404
    assert webhook(lambda_context, f"{path}/accept", accept, secret)[0] == 409
    assert webhook(lambda_context, "/partner/v1/synchronization/12345/accept", accept, secret)[0] == 404
    # When the partner deletes it (signed with the key), we are DELETED
    assert webhook(lambda_context, f"{path}/delete", b"{}", key)[1]["status"] == "DELETED"


# ---------------------------------------------------------------------------- mappings and receiving changes
@pytest.fixture
def mapped(ctx: SyncContext, lambda_context: Any, partner: FakePartner) -> dict[str, Any]:
    """An accepted synchronization whose partner mapped its calendar 9001 onto our calendar."""
    calendar = new_calendar(lambda_context)
    source = new_source(lambda_context, calendar["id"])
    sync_id, key = accepted(ctx, lambda_context, partner)
    mapping = {"mappingId": 4001, "calendarId": calendar["id"], "partnerCalendarId": 9001, "direction": "BOTH"}
    status, body = webhook(
        lambda_context, f"/partner/v1/synchronization/{sync_id}/mappings", json.dumps(mapping).encode(), key
    )
    assert status == 201, body
    return {"sync": sync_id, "key": key, "calendar": calendar["id"], "source": source["id"]}


def change(
    op: str = "upsert", *, event_id: int = 1, version: int = 1, updated: int = 1_000, **event: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "changeId": f"ev{event_id}v{version}{op[0]}",
        "mappingId": 4001,
        "op": op,
        "ref": {"home": "sender", "id": event_id},
        "kind": "single",
        "version": version,
        "updated": updated,
    }
    if op == "upsert":
        body |= {
            "eventType": "meeting",
            "event": {
                "summary": "Standup",
                "allDay": False,
                "startDate": MAR2_0900,
                "endDate": MAR2_0900 + HOUR,
                "timeZone": "UTC",
                **event,
            },
        }
    return body


def send(lambda_context: Any, m: dict[str, Any], body: dict[str, Any] | bytes) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return webhook(lambda_context, f"/partner/v1/synchronization/{m['sync']}/events", raw, m["key"])


def test_the_partner_mapping_makes_us_active(ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any]) -> None:
    status, sync = call(lambda_context, "GET", f"/synchronization/{mapped['sync']}")
    assert (sync["status"], sync["mappingCount"]) == ("ACTIVE", 1)
    status, page = call(lambda_context, "GET", f"/synchronization/{mapped['sync']}/mappings")
    assert [(m["id"], m["localCalendarId"], m["createdBy"]) for m in page["values"]] == [
        (4001, mapped["calendar"], "PARTNER")
    ]


def test_received_changes_apply_once_and_the_newer_one_wins(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any]
) -> None:
    local = external_id(mapped["calendar"], f"partner:{mapped['sync']}", "1")
    # When the partner creates an event
    assert send(lambda_context, mapped, change())[1] == {"result": "applied", "eventId": local}
    stored = ctx.events.get(local)
    assert (stored.summary, stored.event_type_config_id, stored.to_item()["origin"]) == (
        "Standup",
        mapped["source"],
        {"synchronizationId": mapped["sync"], "eventId": 1},
    )
    # Then the same change again is a duplicate, and never a second event
    assert send(lambda_context, mapped, change())[1]["result"] == "duplicate"
    # And a newer version wins, an older one loses (and is logged)
    assert (
        send(lambda_context, mapped, change(version=2, updated=2_000, summary="Standup v2"))[1]["result"] == "applied"
    )
    assert send(lambda_context, mapped, change(version=3, updated=1_500, summary="late"))[1]["result"] == "stale"
    assert ctx.events.get(local).summary == "Standup v2"
    # And a delete removes it; an older upsert arriving afterwards does not bring it back
    assert send(lambda_context, mapped, change("delete", version=4, updated=3_000))[1]["result"] == "applied"
    assert send(lambda_context, mapped, change(version=5, updated=2_500, summary="zombie"))[1]["result"] == "stale"
    assert send(lambda_context, mapped, change("delete", version=4, updated=3_000))[1]["result"] == "duplicate"


def test_bad_changes_are_refused_without_a_server_error(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any]
) -> None:
    assert send(lambda_context, mapped, change(recurrence="FREQ=SOMETIMES"))[0] == 400
    assert send(lambda_context, mapped, change(startDate="soon"))[0] == 400
    assert send(lambda_context, mapped, b"[1, 2")[0] == 400
    assert send(lambda_context, mapped, {**change(), "mappingId": 4002})[0] == 404
    assert send(lambda_context, mapped, {**change(), "surprise": True})[0] == 400
    child = {**change(event_id=2, recurrenceId="20260309"), "kind": "child", "parentRef": {"home": "sender", "id": 3}}
    assert send(lambda_context, mapped, child)[0] == 503  # its master has not arrived: retry later
    # And the partner cannot write onto an id of ours it makes up
    assert send(lambda_context, mapped, {**change(), "ref": {"home": "receiver", "id": 123}})[1]["result"] == "absent"


# ---------------------------------------------------------------------------- outbox and sender
def stream_event(records: list[dict[str, Any]]) -> DynamoDBStreamEvent:
    """The DynamoDB stream event (Powertools' data class) of ``records``."""
    return DynamoDBStreamEvent({"Records": records})


def stream_record(event_id: int, sequence: int) -> dict[str, Any]:
    """The stream record (Lambda's shape) of the event's main item as it is now, as an INSERT.

    (moto's in-process DynamoDB Streams API answers 404 with this botocore; the real stream is
    exercised by the local stack's driver in tests/e2e/test_partners.py.)
    """
    key = {"pk": {"S": f"EV#{event_id}"}, "sk": {"S": "EV"}}
    item = boto3.client("dynamodb").get_item(TableName=get_settings().events_table, Key=key)["Item"]
    return {
        "eventID": f"record-{sequence}",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": key,
            "NewImage": item,
            "SequenceNumber": str(sequence),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


@pytest.fixture
def queue() -> Any:
    from teamcal.storage.sync_queue import SyncQueue

    sqs = boto3.client("sqs")
    from tests.conftest import TEMPLATE

    url = sqs.get_queue_url(QueueName=TEMPLATE.physical_name("SyncQueue"))["QueueUrl"]
    return SyncQueue(sqs, url), sqs, url


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    from devstack.sqs_driver import lambda_record

    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    return [lambda_record(m, "arn:aws:sqs:us-east-1:123456789012:q.fifo") for m in out.get("Messages") or []]


def test_local_changes_are_queued_per_series_and_partner_changes_are_not_echoed(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any], queue: Any
) -> None:
    from teamcal.services.replication import outbox
    from tests.integration.ccj import call as ccj_call

    sync_queue, sqs, url = queue
    # Given a change that came from the partner
    applied = send(lambda_context, mapped, change(event_id=8))[1]["eventId"]
    # And an event created here, in the mapped calendar
    body = {"event": {"eventTypeConfigId": mapped["source"], "summary": "local", "startDate": MAR2_0900}}
    status, created = ccj_call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)
    assert status == 200, created
    # When the outbox reads their stream records
    records = [stream_record(applied, 1), stream_record(created["id"], 2)]
    assert outbox.publish(ctx.invitations, sync_queue, stream_event(records)) is None
    # Then only the local change is queued, for that partner, grouped by the event
    messages = receive(sqs, url)
    assert [json.loads(m["body"])["eventId"] for m in messages] == [created["id"]]
    attributes = messages[0]["attributes"]
    assert attributes["MessageGroupId"] == f"{mapped['sync']}-{created['id']}"
    # And publishing the same records again (a stream re-delivery) queues nothing new
    assert outbox.publish(ctx.invitations, sync_queue, stream_event(records)) is None
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"


def test_the_sender_signs_retries_with_backoff_and_delivers_when_the_partner_is_back(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any], partner: FakePartner, queue: Any
) -> None:
    from teamcal.services.replication import outbox, sender
    from tests.integration.ccj import call as ccj_call

    sync_queue, sqs, url = queue
    records = []
    for sequence, summary in enumerate(("first", "second")):
        body = {"event": {"eventTypeConfigId": mapped["source"], "summary": summary, "startDate": MAR2_0900}}
        records.append(
            stream_record(ccj_call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)[1]["id"], sequence)
        )
    outbox.publish(ctx.invitations, sync_queue, stream_event(records))
    # Given a partner that is down
    partner.on("POST", "/partner/v1/synchronization/501/events", (503, {"errorMessages": ["down"], "errors": {}}))
    batch = receive(sqs, url)
    assert len(batch) == 2
    # When the sender runs, both changes wait (one call only: the partner is down) and none is lost
    assert sender.deliver(ctx, sync_queue, batch, retry_base=1) == [m["messageId"] for m in batch]
    assert len(partner.calls("/501/events")) == 1
    assert receive(sqs, url) == []  # delayed by the backoff
    # When the partner is back and the delay is over
    partner.on("POST", "/partner/v1/synchronization/501/events", (200, {"result": "applied"}))
    time.sleep(1.1)
    again = receive(sqs, url)
    assert [m["attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2"]
    assert sender.deliver(ctx, sync_queue, again, retry_base=1) == []
    # Then both arrive, signed with the shared key, in order
    delivered = partner.calls("/501/events")[1:]
    assert [d.json()["event"]["summary"] for d in delivered] == ["first", "second"]
    for d in delivered:
        verify(mapped["key"], "POST", d.path, d.body, read_headers(d.headers, int(time.time())))
        assert d.json()["ref"]["home"] == "sender"


def test_outbox_and_sender_functions_answer_their_sample_events(
    ctx: SyncContext, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, queue: Any
) -> None:
    import importlib
    from pathlib import Path

    from teamcal.settings import get_partner_settings

    _, _, url = queue
    monkeypatch.setenv("SYNC_QUEUE_URL", url)
    get_partner_settings.cache_clear()
    root = Path(__file__).resolve().parents[2] / "events"
    try:
        for name, sample in (("partners_outbox", "stream-insert.json"), ("partners_sender", "sqs-change.json")):
            module = importlib.reload(importlib.import_module(f"functions.{name}.app"))
            out = module.lambda_handler(json.loads((root / name / sample).read_text()), lambda_context)
            assert out == {"batchItemFailures": []}
    finally:
        get_partner_settings.cache_clear()


def test_the_sender_hands_back_what_it_has_no_time_left_for(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any], partner: FakePartner, queue: Any
) -> None:
    from teamcal.services.replication import outbox, sender
    from tests.integration.ccj import call as ccj_call

    sync_queue, sqs, url = queue
    body = {"event": {"eventTypeConfigId": mapped["source"], "summary": "late", "startDate": MAR2_0900}}
    created = ccj_call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)[1]
    outbox.publish(ctx.invitations, sync_queue, stream_event([stream_record(created["id"], 1)]))
    batch = receive(sqs, url)
    # When the invocation has less time left than one slow partner call needs
    failed = sender.deliver(ctx, sync_queue, batch, retry_base=1, seconds_left=lambda: 2.0)
    # Then the message is handed back untouched, for a retry in a second
    assert failed == [batch[0]["messageId"]]
    assert partner.calls("/events") == []


# ---------------------------------------------------------------------------- the access gate's rules (issue 11)
def _stamp(event_id: int, **attributes: Any) -> None:
    """Set attributes on an event's stored main item (as a Google sync or a partner left them)."""
    names = {f"#a{i}": k for i, k in enumerate(attributes)}
    values = {f":v{i}": v for i, v in enumerate(attributes.values())}
    from boto3.dynamodb.types import TypeSerializer

    boto3.client("dynamodb").update_item(
        TableName=get_settings().events_table,
        Key={"pk": {"S": f"EV#{event_id}"}, "sk": {"S": "EV"}},
        UpdateExpression="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={k: TypeSerializer().serialize(v) for k, v in values.items()},
    )


def _local_event(lambda_context: Any, mapped: dict[str, Any], summary: str, **stamped: Any) -> int:
    from tests.integration.ccj import call as ccj_call

    body = {"event": {"eventTypeConfigId": mapped["source"], "summary": summary, "startDate": MAR2_0900}}
    status, created = ccj_call("events", "POST", "/event", body, token=ROOT, ctx=lambda_context)
    assert status == 200, created
    if stamped:
        _stamp(int(created["id"]), **stamped)
    return int(created["id"])


def test_synchronization_scope_is_clipped_to_the_managers_reach(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    """Case 1 (failed before: a token tied to calendar A accepted SHOW_ALL, and the partner then
    listed and mapped another user's private calendar B)."""
    from tests.integration.ccj import call as ccj_call
    from tests.integration.ccj import full

    a = new_calendar(lambda_context, full("ann"))
    b = new_calendar(lambda_context, full("bob"), publicCalendar=False)
    ann = token("ann", calendars=[a["id"]], edit_calendars=True)
    # Given ann's token, tied to A, accepts an invitation with SHOW_ALL
    sync_id, secret = received(ctx, lambda_context, partner)
    partner.on("POST", "/partner/v1/synchronization/501/accept", (200, {}))
    status, body = call(lambda_context, "POST", f"/synchronization/{sync_id}/accept", {"scope": SHOW_ALL}, tok=ann)
    assert status == 200, body
    salt = decode_secret(partner.calls("/501/accept")[-1].json()["salt"], "salt")
    key = derive_key(secret, salt, inviter_id=501, invitee_id=sync_id)
    # Then the partner sees only A ("all of this token's calendars")
    path = f"/partner/v1/synchronization/{sync_id}"
    status, listed = webhook(lambda_context, f"{path}/calendars", b"", key, method="GET")
    assert status == 200, listed
    assert [c["id"] for c in listed["values"]] == [a["id"]]
    # And a mapping onto B is refused
    mapping = {"mappingId": 4101, "calendarId": b["id"], "partnerCalendarId": 9001, "direction": "BOTH"}
    assert webhook(lambda_context, f"{path}/mappings", json.dumps(mapping).encode(), key)[0] == 403
    mapping = {"mappingId": 4102, "calendarId": a["id"], "partnerCalendarId": 9002, "direction": "BOTH"}
    assert webhook(lambda_context, f"{path}/mappings", json.dumps(mapping).encode(), key)[0] == 201
    # And another manager's token neither lists nor opens it; an admin token does
    carl = token("carl", edit_calendars=True)
    assert call(lambda_context, "GET", "/synchronization", tok=carl)[1]["total"] == 0
    assert call(lambda_context, "GET", f"/synchronization/{sync_id}", tok=carl)[0] == 404
    assert call(lambda_context, "DELETE", f"/synchronization/{sync_id}", tok=carl)[0] == 404
    assert call(lambda_context, "GET", f"/synchronization/{sync_id}")[0] == 200
    assert ccj_call("calendars", "GET", f"/calendar/{b['id']}", token=ann, ctx=lambda_context)[0] == 404


def test_a_partner_writes_only_what_the_mapping_lets_it(
    ctx: SyncContext, lambda_context: Any, mapped: dict[str, Any]
) -> None:
    """Case 2 (failed before: an upsert or delete naming any local event of the mapped calendar
    was applied, whatever its origin, read-only or private flag or type)."""
    ours = _local_event(lambda_context, mapped, "ours")
    google = _local_event(lambda_context, mapped, "google", origin="google", readOnly=True)
    secret = _local_event(lambda_context, mapped, "secret", private=True)
    foreign = _local_event(lambda_context, mapped, "foreign", origin={"synchronizationId": 999, "eventId": 5})

    versions = iter(range(10, 100))

    def on(event_id: int, op: str = "upsert", **extra: Any) -> dict[str, Any]:
        body = change(op, event_id=event_id, version=next(versions), updated=now_ms(), **extra)
        return {**body, "ref": {"home": "receiver", "id": event_id}}

    # Then a Google-synced, a private and another partner's event are refused, and unchanged
    for event_id in (google, secret, foreign):
        assert send(lambda_context, mapped, on(event_id, summary="pwned"))[0] == 403
        assert send(lambda_context, mapped, on(event_id, "delete"))[0] == 403
        assert ctx.events.get(event_id).summary != "pwned"
    # And our own event, sent to the partner through this BOTH mapping, may be changed back
    assert send(lambda_context, mapped, on(ours, summary="theirs"))[1]["result"] == "applied"
    assert ctx.events.get(ours).summary == "theirs"
    # And once our scope leaves out meetings, a change to (or of) that type is refused
    status, body = call(
        lambda_context,
        "PUT",
        f"/synchronization/{mapped['sync']}",
        {"scope": {"mode": "SHOW_SELECTED", "eventTypes": ["vacation"]}},
    )
    assert status == 200, body
    assert send(lambda_context, mapped, on(ours, summary="again"))[0] == 403
    assert send(lambda_context, mapped, {**on(ours, summary="again"), "eventType": "vacation"})[0] == 403
    assert ctx.events.get(ours).summary == "theirs"


def test_replication_handles_every_origin(
    ctx: SyncContext,
    lambda_context: Any,
    mapped: dict[str, Any],
    partner: FakePartner,
    queue: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Case 6 (failed before: a Google-synced event's string ``origin`` failed the whole batch)."""
    from teamcal.services.replication import outbox, sender

    sync_queue, sqs, url = queue
    google = _local_event(lambda_context, mapped, "club night", origin="google", readOnly=True)
    private = _local_event(lambda_context, mapped, "doctor", origin="google", readOnly=True, private=True)
    plain = _local_event(lambda_context, mapped, "plain")
    broken = _local_event(lambda_context, mapped, "broken")
    ids = [google, private, plain, broken]
    outbox.publish(ctx.invitations, sync_queue, stream_event([stream_record(i, n) for n, i in enumerate(ids)]))
    partner.on("POST", "/partner/v1/synchronization/501/events", (200, {"result": "applied"}))
    batch = receive(sqs, url)
    assert len(batch) == 4
    # Given one message fails for a reason of its own
    real = sender._upsert_change

    def upsert_change(ctx_: Any, body: Any, record: Any, type_key: str, target: int) -> Any:
        if record.id == broken:
            raise RuntimeError("boom")
        return real(ctx_, body, record, type_key, target)

    monkeypatch.setattr(sender, "_upsert_change", upsert_change)
    # When the sender runs: that message alone is reported failed
    by_event = {json.loads(m["body"])["eventId"]: m["messageId"] for m in batch}
    assert sender.deliver(ctx, sync_queue, batch, retry_base=1) == [by_event[broken]]
    # And the Google event was sent, the private one only as a delete (never its content)
    sent = {d.json()["ref"]["id"]: d.json() for d in partner.calls("/501/events")}
    assert sent[google]["event"]["summary"] == "club night"
    assert sent[private]["op"] == "delete"
    assert "event" not in sent[private]
    assert sent[plain]["op"] == "upsert"


def test_pending_received_invitations_are_capped_with_429(
    ctx: SyncContext, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import teamcal.services.partners as partners_service

    # Given a deployment that holds at most 3 unanswered invitations (anyone may send one)
    monkeypatch.setattr(partners_service, "MAX_PENDING_RECEIVED", 3)
    sent = []
    for i in range(4):
        secret = new_secret()
        sent.append(webhook(lambda_context, "/partner/v1/invitations", invitation(secret, partner_id=600 + i), secret))
    # Then the first 3 are stored and the 4th is refused with 429 and Jira's body, storing nothing
    assert [status for status, _ in sent] == [201, 201, 201, 429]
    assert "not yet answered" in sent[3][1]["errorMessages"][0]
    assert call(lambda_context, "GET", "/synchronization")[1]["total"] == 3


def test_a_received_invitation_costs_no_secret_until_accepted(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    # Given three invitations received from anyone
    secrets_client = boto3.client("secretsmanager")
    before = len(secrets_client.list_secrets()["SecretList"])
    raw = []
    for i in range(3):
        secret = new_secret()
        raw.append(encode_secret(secret))
        status, _ = webhook(lambda_context, "/partner/v1/invitations", invitation(secret, partner_id=700 + i), secret)
        assert status == 201
    # Then no Secrets Manager secret was created (the secrets are sealed with the KMS key)
    assert len(secrets_client.list_secrets()["SecretList"]) == before
    # And the stored records hold each one-time secret sealed, never in the clear, nor show it
    items = boto3.client("dynamodb").scan(TableName=get_settings().invitations_table)["Items"]
    assert sum("sealedSecret" in item for item in items) == 3
    dumped = json.dumps(items)
    assert not any(r in dumped or r.rstrip("=") in dumped for r in raw)
    assert not any(decode_secret(r, "secret").hex() in dumped for r in raw)
    listed = call(lambda_context, "GET", "/synchronization")[1]["values"]
    assert all("sealedSecret" not in s for s in listed)
    # And accepting one still derives the key with its secret (the inviter verifies the signature)
    sync_id, key = accepted(ctx, lambda_context, partner)
    assert ctx.secrets.get(sync_id, 99) == ("key", key)


def test_a_sealed_secret_moved_to_another_received_invitation_does_not_open(
    ctx: SyncContext, lambda_context: Any, partner: FakePartner
) -> None:
    # Given two received invitations, the first one's sealed secret copied into the second's record
    first, _ = received(ctx, lambda_context, partner)
    second, _ = received(ctx, lambda_context, partner)
    one, two = ctx.invitations.get(first), ctx.invitations.get(second)
    assert one is not None
    assert two is not None
    assert one.sealed_secret != two.sealed_secret
    ctx.invitations.replace(two, bumped(two, now_ms(), sealedSecret=one.sealed_secret))
    # When the admin accepts the second one
    partner.on("POST", "/partner/v1/synchronization/501/accept", (200, {}))
    status, body = call(lambda_context, "POST", f"/synchronization/{second}/accept", {"scope": SHOW_ALL})
    # Then it is refused (KMS decrypts only with the encryption context of the sealing record),
    # the partner is not called and the invitation stays as it was
    assert status == 401, body
    assert not partner.calls("/501/accept")
    assert getattr(ctx.invitations.get(second), "status", None) == "INVITATION_RECEIVED"
