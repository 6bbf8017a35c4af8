"""The local stack's TOKEN authorizer handling: outcomes, policy evaluation, context
stringification and the result cache's TTL (API Gateway's documented behaviour), on a fake clock
and a fake function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from devstack.authorizer import (
    AuthorizerCache,
    AuthorizerOutputError,
    AuthorizerResult,
    Statement,
    TokenAuthorizer,
    evaluate,
    method_arn,
    stringify,
    stringify_context,
)
from devstack.drivers import FunctionError, FunctionTimeout
from devstack.routing import ApiSpec, TokenAuthorizerSpec

pytestmark = pytest.mark.unit

API = ApiSpec(logical_id="Api", api_id="abc123", stage="api", routes=[])
GET_TOKEN = method_arn(API, "GET", "/rest/brizo-calendar/api/1/token")
POST_TOKEN = method_arn(API, "POST", "/rest/brizo-calendar/api/1/token")
STAGE_WILDCARD = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/*"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(effect: str = "Allow", resource: Any = STAGE_WILDCARD, **context: Any) -> dict[str, Any]:
    return {
        "principalId": "ann",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context,
    }


class FakeAuthorizerFunction:
    """Stands in for ``Lambdas.invoke``: returns ``output`` or raises ``error``; records calls."""

    def __init__(self, output: Any = None, error: Exception | None = None) -> None:
        self.output = output if output is not None else policy(tokenId=5, admin=True)
        self.error = error
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def __call__(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        self.calls.append((logical_id, event))
        if self.error is not None:
            raise self.error
        return self.output


def authorizer(function: FakeAuthorizerFunction, clock: FakeClock, ttl: int = 300) -> TokenAuthorizer:
    return TokenAuthorizer(TokenAuthorizerSpec("Tok", "AuthorizerFunction", ttl_seconds=ttl), function, clock)


def test_method_arn_has_api_stage_verb_and_path() -> None:
    assert GET_TOKEN == "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/rest/brizo-calendar/api/1/token"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "true"), (False, "false"), (7, "7"), (2.0, "2"), (2.5, "2.5"), ("x", "x"), ("", "")],
)
def test_context_values_are_stringified_like_api_gateway(value: Any, expected: str) -> None:
    assert stringify(value) == expected


@pytest.mark.parametrize("value", [None, {"a": 1}, [1]])
def test_objects_arrays_and_null_are_not_valid_context_values(value: Any) -> None:
    with pytest.raises(AuthorizerOutputError):
        stringify_context({"k": value})


def test_allow_on_the_stage_wildcard_covers_every_route() -> None:
    statements = (Statement("Allow", ("execute-api:Invoke",), (STAGE_WILDCARD,)),)
    assert evaluate(statements, GET_TOKEN) is None
    assert evaluate(statements, POST_TOKEN) is None


def test_explicit_deny_wins_and_uncovered_arn_is_denied() -> None:
    allow_all = Statement("Allow", ("execute-api:*",), ("*",))
    deny_post = Statement("Deny", ("execute-api:Invoke",), (POST_TOKEN,))
    assert evaluate((allow_all, deny_post), POST_TOKEN) == (
        "User is not authorized to access this resource with an explicit deny"
    )
    assert evaluate((allow_all, deny_post), GET_TOKEN) is None
    only_get = (Statement("Allow", ("execute-api:Invoke",), (GET_TOKEN,)),)
    assert evaluate(only_get, POST_TOKEN) == "User is not authorized to access this resource"
    wrong_action = (Statement("Allow", ("dynamodb:GetItem",), ("*",)),)
    assert evaluate(wrong_action, GET_TOKEN) is not None


def test_cache_entry_lives_exactly_ttl_seconds() -> None:
    # Given a cache with a 300 s TTL and an entry put at t=1000
    clock = FakeClock()
    cache = AuthorizerCache(300, clock)
    result = AuthorizerResult("ann", (), {})
    cache.put("Bearer a", result)
    # Then it is served until t=1300 (exclusive) and gone from then on
    clock.now = 1299.9
    assert cache.get("Bearer a") is result
    assert cache.get("Bearer b") is None
    clock.now = 1300.0
    assert cache.get("Bearer a") is None


def test_ttl_zero_caches_nothing() -> None:
    cache = AuthorizerCache(0, FakeClock())
    cache.put("Bearer a", AuthorizerResult("ann", (), {}))
    assert cache.get("Bearer a") is None


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_401_without_calling_the_function(header: str | None) -> None:
    function = FakeAuthorizerFunction()
    decision = authorizer(function, FakeClock()).authorize(header, GET_TOKEN)
    assert decision.refusal == "UNAUTHORIZED"
    assert function.calls == []


def test_validation_expression_mismatch_is_401_without_calling_the_function() -> None:
    function = FakeAuthorizerFunction()
    spec = TokenAuthorizerSpec("Tok", "AuthorizerFunction", validation_expression=r"Bearer \S+")
    decision = TokenAuthorizer(spec, function, FakeClock()).authorize("Basic x", GET_TOKEN)
    assert decision.refusal == "UNAUTHORIZED"
    assert function.calls == []


@pytest.mark.parametrize(
    ("error", "refusal"),
    [
        (
            FunctionError("AuthorizerFunction", {"errorType": "Unauthorized", "errorMessage": "Unauthorized"}),
            "UNAUTHORIZED",
        ),
        (
            FunctionError("AuthorizerFunction", {"errorType": "Exception", "errorMessage": "unauthorized"}),
            "AUTHORIZER_FAILURE",
        ),
        (FunctionError("AuthorizerFunction", {"errorType": "KeyError", "errorMessage": "'x'"}), "AUTHORIZER_FAILURE"),
        (FunctionTimeout("AuthorizerFunction timed out"), "AUTHORIZER_FAILURE"),
    ],
)
def test_function_errors_map_like_api_gateway_and_are_not_cached(error: Exception, refusal: str) -> None:
    function = FakeAuthorizerFunction(error=error)
    tok = authorizer(function, FakeClock())
    assert tok.authorize("Bearer t", GET_TOKEN).refusal == refusal
    assert tok.authorize("Bearer t", GET_TOKEN).refusal == refusal
    assert len(function.calls) == 2


@pytest.mark.parametrize(
    "output",
    [
        {"policyDocument": policy()["policyDocument"]},
        {"principalId": "ann"},
        {"principalId": "ann", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}},
        policy(nested={"a": 1}),
    ],
)
def test_invalid_output_is_an_authorizer_configuration_error(output: dict[str, Any]) -> None:
    decision = authorizer(FakeAuthorizerFunction(output), FakeClock()).authorize("Bearer t", GET_TOKEN)
    assert decision.refusal == "AUTHORIZER_CONFIGURATION_ERROR"
    assert decision.detail


def test_deny_policy_is_403() -> None:
    decision = authorizer(FakeAuthorizerFunction(policy("Deny")), FakeClock()).authorize("Bearer t", GET_TOKEN)
    assert decision.refusal == "ACCESS_DENIED"


def test_allow_gives_the_function_a_stringified_context_with_the_principal() -> None:
    # Given an authorizer whose function returns booleans and numbers in its context
    function = FakeAuthorizerFunction(policy(tokenId=5, admin=True, allCalendars=False, user="ann"))
    # When a request is authorized
    decision = authorizer(function, FakeClock()).authorize("Bearer t", GET_TOKEN)
    # Then it passes with every context value as a string, plus principalId
    assert decision.refusal is None
    assert decision.authorizer is not None
    assert {k: v for k, v in decision.authorizer.items() if k != "integrationLatency"} == {
        "principalId": "ann",
        "tokenId": "5",
        "admin": "true",
        "allCalendars": "false",
        "user": "ann",
    }
    # And the function got API Gateway's TOKEN event
    assert function.calls == [
        ("AuthorizerFunction", {"type": "TOKEN", "authorizationToken": "Bearer t", "methodArn": GET_TOKEN})
    ]


def test_policy_is_cached_per_token_for_the_ttl() -> None:
    # Given a 300 s TTL
    clock = FakeClock()
    function = FakeAuthorizerFunction()
    tok = authorizer(function, clock, ttl=300)
    # When the same token is seen twice within the TTL, and another token once
    assert tok.authorize("Bearer a", GET_TOKEN).refusal is None
    clock.now += 299
    assert tok.authorize("Bearer a", POST_TOKEN).refusal is None
    assert tok.authorize("Bearer b", GET_TOKEN).refusal is None
    # Then the function ran once per token
    assert [e["authorizationToken"] for _, e in function.calls] == ["Bearer a", "Bearer b"]
    # And after the TTL it runs again
    clock.now += 1
    tok.authorize("Bearer a", GET_TOKEN)
    assert len(function.calls) == 3


def test_ttl_zero_calls_the_function_every_time() -> None:
    function = FakeAuthorizerFunction()
    tok = authorizer(function, FakeClock(), ttl=0)
    tok.authorize("Bearer a", GET_TOKEN)
    tok.authorize("Bearer a", GET_TOKEN)
    assert len(function.calls) == 2


def test_cached_policy_is_evaluated_against_each_request_method_arn() -> None:
    # Given an authorizer whose policy allows only the first method ARN it saw (a classic mistake)
    function = FakeAuthorizerFunction(policy(resource=GET_TOKEN))
    tok = authorizer(function, FakeClock())
    assert tok.authorize("Bearer a", GET_TOKEN).refusal is None
    # When the same token calls another route while the policy is cached
    decision = tok.authorize("Bearer a", POST_TOKEN)
    # Then API Gateway denies it from the cache without calling the function
    assert decision.refusal == "ACCESS_DENIED"
    assert len(function.calls) == 1
