"""Idempotency-Key on POST (Powertools Idempotency on the template's IdempotencyTable)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ccj import ROOT, call, new_calendar, new_source

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
