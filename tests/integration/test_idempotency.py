"""Idempotency-Key on POST (Powertools Idempotency on the template's IdempotencyTable)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ccj import ROOT, call, new_calendar, new_source

BASE = "/rest/brizo-calendar/api/1"

pytestmark = pytest.mark.integration


def post_event(ctx: Any, source_id: int, key: str | None, summary: str = "retry me") -> tuple[int, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"event": {"summary": summary, "eventTypeConfigId": source_id, "startDate": 0, "endDate": 3_600_000}}
    return call("events", "POST", "/event", body, token=ROOT, ctx=ctx, headers=headers)


@pytest.fixture
def source(aws: None, lambda_context: Any) -> dict[str, Any]:
    calendar = new_calendar(lambda_context, value=json.dumps({"name": "idem"}))
    return new_source(lambda_context, calendar["id"])


def search_count(ctx: Any, source_id: int) -> int:
    status, page = call(
        "events",
        "POST",
        "/event/search",
        {"sourceId": source_id, "startDate": 0, "endDate": 86_400_000},
        token=ROOT,
        ctx=ctx,
    )
    assert status == 200
    return int(page["total"])


def test_a_retried_post_returns_the_first_response_and_creates_nothing(
    source: dict[str, Any], lambda_context: Any
) -> None:
    first = post_event(lambda_context, source["id"], "key-1")
    again = post_event(lambda_context, source["id"], "key-1")
    assert first[0] == 200
    assert again == first
    assert search_count(lambda_context, source["id"]) == 1


def test_without_the_header_every_post_creates(source: dict[str, Any], lambda_context: Any) -> None:
    assert post_event(lambda_context, source["id"], None)[0] == 200
    assert post_event(lambda_context, source["id"], None)[0] == 200
    assert search_count(lambda_context, source["id"]) == 2


def test_same_key_other_body_is_409(source: dict[str, Any], lambda_context: Any) -> None:
    assert post_event(lambda_context, source["id"], "key-2", "a")[0] == 200
    status, body = post_event(lambda_context, source["id"], "key-2", "b")
    assert status == 409
    assert "Idempotency-Key" in body["errorMessages"][0]
    assert search_count(lambda_context, source["id"]) == 1


def test_errors_are_not_kept_so_a_fixed_retry_runs(aws: None, lambda_context: Any) -> None:
    # a 404 (unknown source) is kept: the same request answers the same
    missing = post_event(lambda_context, 12345, "key-3")
    assert missing[0] == 404
    assert post_event(lambda_context, 12345, "key-3") == missing


def test_keys_are_scoped_to_the_token(source: dict[str, Any], lambda_context: Any) -> None:
    from tests.integration.ccj import full

    other = full("root2", admin=True)
    assert post_event(lambda_context, source["id"], "shared")[0] == 200
    body = {"event": {"summary": "retry me", "eventTypeConfigId": source["id"], "startDate": 0, "endDate": 3_600_000}}
    status, _ = call(
        "events", "POST", "/event", body, token=other, ctx=lambda_context, headers={"Idempotency-Key": "shared"}
    )
    assert status == 200
    assert search_count(lambda_context, source["id"]) == 2


def test_bad_key_is_400(source: dict[str, Any], lambda_context: Any) -> None:
    status, body = post_event(lambda_context, source["id"], "x" * 300)
    assert status == 400
    assert "Idempotency-Key" in body["errors"]


# -- abuse resistance: no secrets at rest, reads not kept, storage failures never fail an answer --


def _records() -> list[dict[str, Any]]:
    import boto3

    from teamcal.settings import get_settings

    table = get_settings().idempotency_table
    assert table
    return list(boto3.client("dynamodb").scan(TableName=table)["Items"])


def test_a_created_token_is_never_stored_in_the_clear(aws: None, lambda_context: Any) -> None:
    # Given POST /token with an Idempotency-Key
    body = {"name": "ci", "user": "ci", "allCalendars": True}
    headers = {"Idempotency-Key": "token-1"}
    status, first = call("tokens", "POST", "/token", body, token=ROOT, ctx=lambda_context, headers=headers)
    assert status == 201
    assert first["token"]
    # Then the idempotency record does not hold the plaintext
    records = _records()
    assert len(records) == 1
    assert first["token"] not in json.dumps(records)
    # And a retry gets the same token id without the plaintext, and is told why
    from tests.conftest import api_event

    handler = __import__("functions.tokens.app", fromlist=["lambda_handler"]).lambda_handler
    again = handler(api_event("POST", "/token", body, authorizer=ROOT, headers=headers), lambda_context)
    replay = json.loads(again["body"])
    assert again["statusCode"] == 201
    assert replay["id"] == first["id"]
    assert replay["token"] is None
    assert "shown once" in again["headers"]["X-Teamcal-Secret-Shown-Once"]


def test_an_event_search_is_a_read_and_is_not_kept(source: dict[str, Any], lambda_context: Any) -> None:
    assert post_event(lambda_context, source["id"], None)[0] == 200
    body = {"sourceId": source["id"], "startDate": 0, "endDate": 86_400_000}
    headers = {"Idempotency-Key": "search-1"}
    first = call("events", "POST", "/event/search", body, token=ROOT, ctx=lambda_context, headers=headers)
    assert first[0] == 200
    assert first[1]["total"] == 1
    assert _records() == []
    # a second search with the same key reads again (one more event now)
    assert post_event(lambda_context, source["id"], None)[0] == 200
    again = call("events", "POST", "/event/search", body, token=ROOT, ctx=lambda_context, headers=headers)
    assert again[1]["total"] == 2


def test_a_record_that_cannot_be_stored_never_fails_the_answer(
    source: dict[str, Any], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from botocore.exceptions import ClientError

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "Item size too large"}}, "UpdateItem")

    # Given the success record cannot be written (an item over 400 KB, a throttle)
    monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", refuse)
    # Then the created event is still answered 200
    status, created = post_event(lambda_context, source["id"], "too-big")
    assert status == 200
    assert created["id"]
    # And when even the in-progress record cannot be written, the request still runs
    monkeypatch.setattr(DynamoDBPersistenceLayer, "_put_record", refuse)
    assert post_event(lambda_context, source["id"], "store-down")[0] == 200


def test_answers_too_large_to_keep_are_not_kept(
    source: dict[str, Any], lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import teamcal.idempotency

    monkeypatch.setattr(teamcal.idempotency, "MAX_STORED_BYTES", 10)
    first = post_event(lambda_context, source["id"], "large")
    assert first[0] == 200
    assert _records() == []


def test_another_token_replaying_a_key_gets_nothing_of_the_first_answer(
    source: dict[str, Any], lambda_context: Any
) -> None:
    from tests.integration.ccj import full

    mine = post_event(lambda_context, source["id"], "shared-2", "mine")
    body = {"event": {"summary": "mine", "eventTypeConfigId": source["id"], "startDate": 0, "endDate": 3_600_000}}
    headers = {"Idempotency-Key": "shared-2"}
    theirs = call("events", "POST", "/event", body, token=full("eve", admin=True), ctx=lambda_context, headers=headers)
    assert theirs[0] == 200
    assert theirs[1]["id"] != mine[1]["id"]
    assert search_count(lambda_context, source["id"]) == 2


def test_requests_without_a_token_are_never_idempotent() -> None:
    from teamcal.idempotency import idempotency_key
    from tests.conftest import api_event

    anonymous = api_event("POST", "/partner/v1/invitations", {}, headers={"Idempotency-Key": "k"})
    assert idempotency_key(anonymous) is None
    assert idempotency_key(api_event("POST", "/event", {}, authorizer=ROOT, headers={"Idempotency-Key": "k"})) == "k"


@pytest.mark.parametrize(
    ("path", "secret_fields", "model"),
    [
        ("import-url", ("url", "fields"), "UploadTicket"),
        ("export", ("url",), "Snapshot"),
    ],
)
def test_a_replayed_presigned_answer_keeps_no_signature_and_matches_its_schema(
    aws: None, lambda_context: Any, path: str, secret_fields: tuple[str, ...], model: str
) -> None:
    # Given an upload form or a snapshot URL asked for with an Idempotency-Key
    from functions.ical import app as ical_app
    from teamcal.models import ical as ical_models
    from tests.conftest import api_event

    calendar_id = new_calendar(lambda_context, value=json.dumps({"name": "presigned"}))["id"]
    headers = {"Idempotency-Key": f"presigned-{path}"}

    def post() -> dict[str, Any]:
        event = api_event("POST", f"/calendar/{calendar_id}/{path}", authorizer=ROOT, headers=headers)
        event["resource"] = f"{BASE}/calendar/{{calendarId}}/{path}"  # the route template, as API Gateway sends it
        return dict(ical_app.lambda_handler(event, lambda_context))

    first = post()
    assert first["statusCode"] == 201, first
    answer = json.loads(first["body"])
    assert all(answer[f] for f in secret_fields)
    # Then the record holds none of the signed values (the form's signature and policy included)
    stored = json.dumps(_records())
    signed = [answer["url"]] if "?" in answer["url"] else []  # a POST form's url is the bucket's
    signed += [v for k, v in (answer.get("fields") or {}).items() if k.lower() in {"policy", "x-amz-signature"}]
    assert signed
    assert not [value for value in signed if value in stored]
    # And the replay is told the secret was shown once, and still matches the published schema
    again = post()
    replay = json.loads(again["body"])
    assert again["statusCode"] == 201
    assert all(replay[f] is None for f in secret_fields)
    assert "X-Teamcal-Secret-Shown-Once" in again["headers"]
    getattr(ical_models, model).model_validate(replay)
