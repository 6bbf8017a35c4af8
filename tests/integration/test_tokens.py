"""The token admin API and the TOKEN authorizer, in-process against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamcal.auth.principal import Principal
from teamcal.auth.tokens import hash_token
from tests.conftest import api_event

pytestmark = pytest.mark.integration

ADMIN = Principal(token_id=1, user="root", admin=True, all_calendars=True).to_context()
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/rest/brizo-calendar/api/1/calendar"
PLAIN = Principal(token_id=2, user="ann", calendar_ids=frozenset({7})).to_context()


def call(event: dict[str, Any], ctx: Any) -> tuple[int, Any]:
    from functions.tokens import app

    out = app.lambda_handler(event, ctx)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


def authorize(token: str | None, ctx: Any) -> dict[str, Any]:
    from functions.authorizer import app

    return app.lambda_handler(
        {
            "type": "TOKEN",
            "authorizationToken": token,
            "methodArn": METHOD_ARN,
        },
        ctx,
    )


def test_create_returns_plaintext_once_and_stores_only_the_hash(aws: None, lambda_context: Any) -> None:
    # Given an admin token
    # When it creates a scoped token
    status, body = call(
        api_event(
            "POST",
            "/token",
            {"name": "ci", "user": "ann", "calendarIds": [7, 3, 7], "editCalendars": True},
            authorizer=ADMIN,
        ),
        lambda_context,
    )
    # Then the plaintext comes back once, ids are deduplicated and sorted
    assert status == 201
    assert body["token"].startswith("tcal_")
    assert body["calendarIds"] == [3, 7]
    assert body["createdBy"] == 1
    # And the table holds the hash, never the plaintext
    import boto3

    from teamcal.settings import get_settings

    items = boto3.client("dynamodb").scan(TableName=get_settings().tokens_table)["Items"]
    dumped = json.dumps(items)
    assert body["token"] not in dumped
    assert hash_token(body["token"]) in dumped
    # And the listing never shows it
    status, page = call(api_event("GET", "/token", authorizer=ADMIN), lambda_context)
    assert status == 200
    assert page["total"] == 1
    assert page["isLast"] is True
    assert "token" not in page["values"][0]
    assert "tokenHash" not in page["values"][0]


def test_authorizer_allows_a_known_token_with_its_scope(aws: None, lambda_context: Any) -> None:
    _, body = call(
        api_event("POST", "/token", {"name": "x", "user": "ann", "calendarIds": [5]}, authorizer=ADMIN),
        lambda_context,
    )
    policy = authorize(f"Bearer {body['token']}", lambda_context)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["policyDocument"]["Statement"][0]["Resource"].endswith("abc123/api/*")
    principal = Principal.from_context({k: str(v) for k, v in policy["context"].items()})
    assert principal.user == "ann"
    assert principal.calendar_ids == frozenset({5})
    assert not principal.admin


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer tcal_unknown", "Bearer a b"])
def test_authorizer_refuses_missing_malformed_and_unknown_tokens(aws: None, lambda_context: Any, header: Any) -> None:
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(header, lambda_context)


def test_revoked_token_is_refused(aws: None, lambda_context: Any) -> None:
    _, body = call(api_event("POST", "/token", {"name": "x", "user": "ann"}, authorizer=ADMIN), lambda_context)
    status, revoked = call(api_event("DELETE", f"/token/{body['id']}", authorizer=ADMIN), lambda_context)
    assert status == 200
    assert revoked["id"] == body["id"]
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(f"Bearer {body['token']}", lambda_context)
    status, _ = call(api_event("DELETE", f"/token/{body['id']}", authorizer=ADMIN), lambda_context)
    assert status == 404


def test_non_admin_gets_403_on_every_admin_route(aws: None, lambda_context: Any) -> None:
    for event in (
        api_event("POST", "/token", {"name": "x", "user": "u"}, authorizer=PLAIN),
        api_event("GET", "/token", authorizer=PLAIN),
        api_event("DELETE", "/token/12", authorizer=PLAIN),
    ):
        status, body = call(event, lambda_context)
        assert status == 403
        assert body == {"errorMessages": ["this operation needs an admin token"], "errors": {}}


@pytest.mark.parametrize(
    ("event_kwargs", "field"),
    [
        ({"raw_body": "{not json"}, None),
        ({"body": {"name": "x"}}, "user"),
        ({"body": {"name": "x", "user": "u", "calendarIds": ["a"]}}, "calendarIds.0"),
        ({"body": {"name": "x", "user": "u", "admin": "maybe"}}, "admin"),
        ({"body": {"name": "x", "user": "u", "bogus": 1}}, "bogus"),
        ({"body": [1, 2]}, None),
        ({"base64_body": b"\xff\xfe\x00bad"}, None),
    ],
)
def test_bad_input_is_400_with_jira_body(
    aws: None, lambda_context: Any, event_kwargs: dict[str, Any], field: str | None
) -> None:
    status, body = call(api_event("POST", "/token", authorizer=ADMIN, **event_kwargs), lambda_context)
    assert status == 400
    assert set(body) == {"errorMessages", "errors"}
    assert body["errorMessages"]
    if field:
        assert field in body["errors"]


def test_huge_body_is_413(aws: None, lambda_context: Any) -> None:
    status, body = call(api_event("POST", "/token", raw_body="x" * 2_000_000, authorizer=ADMIN), lambda_context)
    assert status == 413
    assert body["errorMessages"]


def test_request_without_authorizer_context_is_401(aws: None, lambda_context: Any) -> None:
    status, body = call(api_event("GET", "/token"), lambda_context)
    assert status == 401
    assert body["errors"] == {}


def test_listing_is_in_creation_order_although_ids_are_random(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three tokens created one after the other whose random ids happen to descend
    from teamcal.services import tokens as service

    ids = iter([900, 500, 100])
    clock = iter([1_000, 2_000, 3_000])
    monkeypatch.setattr(service, "new_id", lambda: next(ids))
    monkeypatch.setattr(service, "now_ms", lambda: next(clock))
    for name in ("first", "second", "third"):
        status, _ = call(api_event("POST", "/token", {"name": name, "user": "ann"}, authorizer=ADMIN), lambda_context)
        assert status == 201
    # When an admin lists tokens
    status, page = call(api_event("GET", "/token", authorizer=ADMIN), lambda_context)
    # Then they come in the order they were created, not by id
    assert status == 200
    assert [t["name"] for t in page["values"]] == ["first", "second", "third"]
    assert [t["created"] for t in page["values"]] == [1_000, 2_000, 3_000]
