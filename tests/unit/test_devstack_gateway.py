"""The API gateway emulator as a WSGI app (werkzeug's in-memory test client, no socket), in front
of fake functions, on template.yaml's own API."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from werkzeug.test import Client

from devstack.drivers import FunctionError, FunctionTimeout
from devstack.gateway import MAX_BODY_BYTES, ApiGateway
from devstack.routing import ApiSpec
from devstack.template import Template

pytestmark = pytest.mark.unit

API = ApiSpec.from_template(Template.from_file(stack="unit"))
TOKEN_PATH = "/rest/brizo-calendar/api/1/token"


def allow(event: Mapping[str, Any]) -> dict[str, Any]:
    if event["authorizationToken"] != "Bearer good":
        raise FunctionError("AuthorizerFunction", {"errorType": "Unauthorized", "errorMessage": "Unauthorized"})
    return {
        "principalId": "ann",
        "policyDocument": {
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}],
        },
        "context": {"tokenId": 9, "admin": False},
    }


class FakeFunctions:
    """``invoke`` over plain callables by logical id; records the events."""

    def __init__(self, tokens: Callable[[Mapping[str, Any]], Any]) -> None:
        self.handlers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "AuthorizerFunction": allow,
            "TokensFunction": tokens,
        }
        self.events: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        self.events.append((logical_id, event))
        return self.handlers[logical_id](event)


def echo(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Seen": ["a", "b"]},
        "body": json.dumps({"authorizer": event["requestContext"]["authorizer"], "id": event["pathParameters"]}),
        "isBase64Encoded": False,
    }


def client(tokens: Callable[[Mapping[str, Any]], Any] = echo) -> tuple[Client, FakeFunctions]:
    functions = FakeFunctions(tokens)
    return Client(ApiGateway(API, functions).wsgi), functions


def test_authorized_request_reaches_the_function_with_path_parameters_and_context() -> None:
    # Given a gateway over fake functions
    http, functions = client()
    # When a request with a good token hits a route with {tokenId}
    response = http.delete(f"{TOKEN_PATH}/12", headers={"Authorization": "Bearer good"})
    # Then the function saw the path parameter and the stringified authorizer context
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == {"tokenId": "12"}
    assert {k: body["authorizer"][k] for k in ("principalId", "tokenId", "admin")} == {
        "principalId": "ann",
        "tokenId": "9",
        "admin": "false",
    }
    assert response.headers.getlist("X-Seen") == ["a", "b"]
    assert response.headers["x-amzn-RequestId"]
    assert [name for name, _ in functions.events] == ["AuthorizerFunction", "TokensFunction"]


def test_refused_token_gets_the_template_401_and_the_function_is_not_called() -> None:
    http, functions = client()
    response = http.get(TOKEN_PATH, headers={"Authorization": "Bearer bad"})
    assert response.status_code == 401
    assert response.get_json()["errorMessages"] == ["Missing or invalid token: send Authorization: Bearer <token>"]
    assert [name for name, _ in functions.events] == ["AuthorizerFunction"]


def test_unknown_route_is_checked_before_the_authorizer() -> None:
    http, functions = client()
    response = http.get("/rest/brizo-calendar/api/1/nothing")
    assert response.status_code == 404
    assert response.get_json() == {"errorMessages": ["No such resource"], "errors": {}}
    assert functions.events == []


def _raises(event: Mapping[str, Any]) -> Any:
    raise FunctionError("TokensFunction", {"errorType": "KeyError", "errorMessage": "boom"})


def _times_out(event: Mapping[str, Any]) -> Any:
    raise FunctionTimeout("TokensFunction timed out")


@pytest.mark.parametrize(
    ("handler", "status", "message"),
    [
        (_raises, 502, "Internal server error"),
        (lambda event: {"statusCode": "200"}, 502, "Internal server error"),
        (_times_out, 504, "Endpoint request timed out"),
    ],
)
def test_function_failures_become_api_gateway_5xx(
    handler: Callable[[Mapping[str, Any]], Any], status: int, message: str
) -> None:
    http, _ = client(handler)
    response = http.get(TOKEN_PATH, headers={"Authorization": "Bearer good"})
    assert response.status_code == status
    # template.yaml's DEFAULT_5XX gateway response: Jira's body around API Gateway's message
    assert response.get_json() == {"errorMessages": [message], "errors": {}}


def test_body_over_the_api_gateway_limit_is_413_before_routing() -> None:
    http, functions = client()
    response = http.post(TOKEN_PATH, data=b"x" * (MAX_BODY_BYTES + 1), headers={"Authorization": "Bearer good"})
    assert response.status_code == 413
    assert functions.events == []


def test_non_utf8_body_reaches_the_function_base64_encoded() -> None:
    seen: list[Mapping[str, Any]] = []

    def record(event: Mapping[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 204, "body": ""}

    http, _ = client(record)
    response = http.post(
        TOKEN_PATH,
        data=b"\xff\xfe",
        query_string="a=1&a=2",
        headers={"Authorization": "Bearer good", "Content-Type": "application/json"},
    )
    assert response.status_code == 204
    assert (seen[0]["body"], seen[0]["isBase64Encoded"]) == ("//4=", True)
    assert seen[0]["multiValueQueryStringParameters"] == {"a": ["1", "2"]}


def test_flush_stage_authorizers_cache_is_answered_and_forgets_cached_results() -> None:
    # Given a gateway whose authorizer has cached the result for a token
    http, functions = client()
    assert http.get(TOKEN_PATH, headers={"Authorization": "Bearer good"}).status_code == 200
    assert http.get(TOKEN_PATH, headers={"Authorization": "Bearer good"}).status_code == 200
    assert [name for name, _ in functions.events].count("AuthorizerFunction") == 1
    # When a function calls FlushStageAuthorizersCache for this API's stage (the control-plane path)
    flushed = http.delete(f"/restapis/{API.api_id}/stages/{API.stage}/cache/authorizers")
    # Then it is accepted, and the next request runs the authorizer again
    assert flushed.status_code == 202
    assert http.get(TOKEN_PATH, headers={"Authorization": "Bearer good"}).status_code == 200
    assert [name for name, _ in functions.events].count("AuthorizerFunction") == 2
    # And another API's or stage's cache is not found
    other = http.delete(f"/restapis/{API.api_id}/stages/other/cache/authorizers")
    assert other.status_code == 404
    assert other.headers["x-amzn-ErrorType"] == "NotFoundException"
