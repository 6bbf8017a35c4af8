"""The REST API (v1) proxy integration of the local stack: events built from requests, responses
built from function results."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from devstack.proxy import HttpRequest, MalformedResponse, build_event, parse_response, request_time
from devstack.routing import ApiSpec, Route, RouteMatch

pytestmark = pytest.mark.unit

API = ApiSpec(
    logical_id="Api",
    api_id="abc123",
    stage="v1",
    routes=[],
    binary_media_types=("image/*",),
)
ROUTE = Route(path="/things/{id}", method="POST", function="Fn", authorizer="Tok", event="Update")


def event_for(request: HttpRequest, authorizer: dict[str, Any] | None = None) -> dict[str, Any]:
    return build_event(
        request,
        RouteMatch(ROUTE, {"id": "7"}),
        API,
        authorizer=authorizer,
        request_id="req-1",
        now_ms=1_700_000_000_000,
    )


def test_event_carries_the_request_in_rest_api_v1_shape() -> None:
    # Given a request with a repeated header and a repeated query parameter
    request = HttpRequest(
        method="POST",
        path="/things/7",
        headers=[("Host", "127.0.0.1:3000"), ("Accept", "a"), ("Accept", "b"), ("Content-Type", "application/json")],
        query=[("tag", "x"), ("tag", "y"), ("q", "1")],
        body=b'{"a": 1}',
        source_ip="127.0.0.9",
    )
    # When the event is built for an authorized route
    event = event_for(request, {"principalId": "ann", "admin": "false", "integrationLatency": 3})
    # Then single-value maps hold the last value and multi-value maps hold all of them
    assert event["resource"] == "/things/{id}"
    assert event["path"] == "/things/7"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["queryStringParameters"] == {"tag": "y", "q": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "q": ["1"]}
    assert event["pathParameters"] == {"id": "7"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    # And the request context has the stage, the resource and the authorizer's context
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["path"], ctx["resourcePath"]) == ("v1", "/v1/things/7", "/things/{id}")
    assert (ctx["requestId"], ctx["apiId"], ctx["httpMethod"]) == ("req-1", "abc123", "POST")
    assert ctx["identity"]["sourceIp"] == "127.0.0.9"
    assert ctx["authorizer"] == {"principalId": "ann", "admin": "false", "integrationLatency": 3}
    assert ctx["requestTimeEpoch"] == 1_700_000_000_000


def test_absent_query_headers_and_body_are_null_and_no_authorizer_key_without_authorizer() -> None:
    event = event_for(HttpRequest(method="GET", path="/things/7"))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["headers"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"name": "\xff\xfe"}', True),  # not UTF-8, whatever the type
        ("text/plain", "Zürich".encode(), False),  # UTF-8 text stays text
        ("image/png", b"plain ascii", True),  # a binary media type of the API
        ("IMAGE/PNG; charset=x", b"plain ascii", True),
        (None, b"\x00\x01\x80", True),
    ],
)
def test_binary_and_non_utf8_bodies_are_base64_encoded(content_type: str | None, body: bytes, encoded: bool) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    event = event_for(HttpRequest(method="POST", path="/things/7", headers=headers, body=body))
    assert event["isBase64Encoded"] is encoded
    sent = base64.b64decode(event["body"]) if encoded else event["body"].encode("utf-8")
    assert sent == body


def test_request_time_is_api_gateway_clf_in_utc() -> None:
    assert request_time(1_700_000_000_000) == "14/Nov/2023:22:13:20 +0000"


def test_response_merges_headers_and_multi_value_headers() -> None:
    response = parse_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-One": "1", "Set-Cookie": "ignored"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "done",
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert ("X-One", "1") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.body == b"done"


def test_response_defaults_to_json_decodes_base64_and_drops_hop_by_hop_headers() -> None:
    response = parse_response(
        {
            "statusCode": 200,
            "headers": {"Content-Length": "999"},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        }
    )
    assert response.headers == [("Content-Type", "application/json")]
    assert response.body == b"\x89PNG"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "a string",
        {"body": "no status"},
        {"statusCode": "200"},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
    ],
)
def test_malformed_results_are_refused(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        parse_response(result)
