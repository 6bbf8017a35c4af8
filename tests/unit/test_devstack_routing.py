"""The local stack's reading of the API from the template: routes, matching, authorizers, gateway
responses (API Gateway's resource-matching and gateway-response rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.routing import ApiSpec, Route, TemplateError
from devstack.template import Template

pytestmark = pytest.mark.unit


def template(events: dict[str, Any], auth: dict[str, Any] | None = None, **api_props: Any) -> Template:
    """A minimal SAM template: one API ``Api``, an authorizer function and a function ``Fn``."""
    return Template(
        {
            "Parameters": {"Ttl": {"Type": "Number", "Default": 60}},
            "Resources": {
                "Api": {
                    "Type": "AWS::Serverless::Api",
                    "Properties": {
                        "StageName": "v1",
                        "Auth": auth
                        if auth is not None
                        else {
                            "DefaultAuthorizer": "Tok",
                            "Authorizers": {
                                "Tok": {
                                    "FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]},
                                    "Identity": {"Header": "X-Token", "ReauthorizeEvery": {"Ref": "Ttl"}},
                                }
                            },
                        },
                        **api_props,
                    },
                },
                "AuthFn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "functions/auth/"}},
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                "Fn": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {"CodeUri": "functions/x/", "Events": events},
                },
            },
        },
        stack="unit",
    )


def api_event(path: str, method: str = "GET", **props: Any) -> dict[str, Any]:
    return {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Api"}, "Path": path, "Method": method, **props}}


def spec_with(*routes: tuple[str, str]) -> ApiSpec:
    return ApiSpec(
        logical_id="Api",
        api_id="abc",
        stage="v1",
        routes=[Route(path=p, method=m, function=f"{m} {p}") for p, m in routes],
    )


def test_real_template_routes_token_endpoints_through_the_token_authorizer() -> None:
    # Given template.yaml
    api = ApiSpec.from_template(Template.from_file(stack="unit"))
    # Then the token routes are served by TokensFunction behind TokenAuthorizer
    token_routes = {(r.method, r.path) for r in api.routes if r.function == "TokensFunction"}
    assert ("POST", "/rest/brizo-calendar/api/1/token") in token_routes
    assert ("DELETE", "/rest/brizo-calendar/api/1/token/{tokenId}") in token_routes
    assert {r.authorizer for r in api.routes if r.function == "TokensFunction"} == {"TokenAuthorizer"}
    authorizer = api.authorizers["TokenAuthorizer"]
    assert (authorizer.function, authorizer.header, authorizer.ttl_seconds) == (
        "AuthorizerFunction",
        "Authorization",
        300,
    )
    assert api.stage == "api"


def test_reauthorize_every_follows_a_parameter_override() -> None:
    tpl = Template.from_file(stack="unit", parameters={"AuthorizerResultTtl": "0"})
    assert ApiSpec.from_template(tpl).authorizers["TokenAuthorizer"].ttl_seconds == 0


def test_literal_beats_param_beats_greedy_proxy() -> None:
    # Given a literal, a {param} and a {proxy+} resource under /a
    api = spec_with(("/a/b", "GET"), ("/a/{id}", "GET"), ("/a/{proxy+}", "ANY"), ("/a/{id}/c", "POST"))
    # When / Then the most specific resource wins, segment by segment
    b = api.match("GET", "/a/b")
    assert b is not None
    assert (b.route.path, b.path_parameters) == ("/a/b", {})
    one = api.match("GET", "/a/7")
    assert one is not None
    assert (one.route.path, one.path_parameters) == ("/a/{id}", {"id": "7"})
    deep = api.match("DELETE", "/a/7/x/y")
    assert deep is not None
    assert (deep.route.path, deep.path_parameters) == ("/a/{proxy+}", {"proxy": "7/x/y"})
    nested = api.match("POST", "/a/7/c")
    assert nested is not None
    assert nested.path_parameters == {"id": "7"}


def test_best_resource_without_the_method_does_not_fall_back_to_a_less_specific_one() -> None:
    api = spec_with(("/a/{id}/c", "POST"), ("/a/{proxy+}", "ANY"))
    assert api.match("GET", "/a/7/c") is None


@pytest.mark.parametrize("path", ["/a", "/a/", "/b/1", "/"])
def test_paths_that_fit_no_resource_are_unmatched(path: str) -> None:
    # {proxy+} needs at least one character after its parent; {param} a non-empty segment
    api = spec_with(("/a/b", "GET"), ("/a/{id}", "GET"), ("/a/{proxy+}", "ANY"))
    assert api.match("GET", path) is None


def test_exact_method_beats_any_on_the_same_resource() -> None:
    api = spec_with(("/x", "ANY"), ("/x", "POST"))
    post, get = api.match("POST", "/x"), api.match("get", "/x")
    assert post is not None
    assert get is not None
    assert (post.route.method, get.route.method) == ("POST", "ANY")


def test_event_auth_none_opts_out_of_the_default_authorizer() -> None:
    # Given one event with Auth: Authorizer: NONE and one without Auth
    tpl = template(
        {
            "Open": api_event("/open", Auth={"Authorizer": "NONE"}),
            "Closed": api_event("/closed", "any"),
        }
    )
    # When the API is read
    api = ApiSpec.from_template(tpl)
    # Then only the second runs the default authorizer, with the resolved TTL and header
    by_path = {r.path: r for r in api.routes}
    assert by_path["/open"].authorizer is None
    assert by_path["/closed"].authorizer == "Tok"
    assert by_path["/closed"].method == "ANY"
    assert api.authorizers["Tok"].ttl_seconds == 60
    assert api.authorizers["Tok"].header == "X-Token"


def test_no_default_authorizer_means_open_routes() -> None:
    tpl = template({"E": api_event("/e")}, auth={})
    assert [r.authorizer for r in ApiSpec.from_template(tpl).routes] == [None]


def test_an_authorizer_named_by_its_functions_alias_runs_that_function() -> None:
    """SnapStart functions are invoked through their AutoPublishAlias (``!Ref AuthFn.Alias``)."""
    authorizer = {"FunctionArn": {"Ref": "AuthFn.Alias"}}
    tpl = template({"E": api_event("/e")}, auth={"DefaultAuthorizer": "A", "Authorizers": {"A": authorizer}})
    assert ApiSpec.from_template(tpl).authorizers["A"].function == "AuthFn"


@pytest.mark.parametrize(
    "authorizer",
    [
        {"FunctionArn": {"Fn::GetAtt": ["AuthFnTypo", "Arn"]}},
        {"FunctionArn": {"Fn::GetAtt": ["Table", "Arn"]}},
        {"FunctionArn": {"Fn::GetAtt": ["AuthFn", "Name"]}},
        {"FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:x"},
        {"FunctionArn": {"Ref": "AuthFnTypo.Alias"}},
        {"FunctionArn": {"Ref": "AuthFn"}},
        {"FunctionArn": {"Ref": "AuthFn.Version"}},
        {"FunctionArn": {"Fn::GetAtt": ["AuthFn", "Arn"]}, "FunctionPayloadType": "REQUEST"},
        {"UserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/x"},
    ],
)
def test_authorizers_the_stack_cannot_reproduce_fail_at_start(authorizer: dict[str, Any]) -> None:
    tpl = template({"E": api_event("/e")}, auth={"DefaultAuthorizer": "A", "Authorizers": {"A": authorizer}})
    with pytest.raises(TemplateError):
        ApiSpec.from_template(tpl)


@pytest.mark.parametrize(
    ("events", "auth"),
    [
        ({"E": {"Type": "Api", "Properties": {"Path": "/e", "Method": "GET"}}}, {}),
        ({"E": api_event("/e", Auth={"Authorizer": "Other"})}, None),
        ({"E": api_event("/e")}, {"DefaultAuthorizer": "Missing", "Authorizers": {}}),
    ],
)
def test_routes_the_stack_cannot_reproduce_fail_at_start(events: dict[str, Any], auth: dict[str, Any] | None) -> None:
    with pytest.raises(TemplateError):
        ApiSpec.from_template(template(events, auth))


def test_gateway_responses_come_from_the_template_with_api_gateway_defaults_behind() -> None:
    # Given template.yaml's GatewayResponses (UNAUTHORIZED, ACCESS_DENIED, MISSING_AUTHENTICATION_TOKEN)
    api = ApiSpec.from_template(Template.from_file(stack="unit"))
    # Then declared ones use the template's status and body
    missing = api.gateway_response("MISSING_AUTHENTICATION_TOKEN")
    assert missing.status == 404
    assert json.loads(missing.body) == {"errorMessages": ["No such resource"], "errors": {}}
    assert api.gateway_response("UNAUTHORIZED").status == 401
    assert api.gateway_response("ACCESS_DENIED").status == 403
    failure = api.gateway_response("AUTHORIZER_FAILURE")
    assert (failure.status, json.loads(failure.body)["errorMessages"]) == (
        500,
        ["The token could not be checked; retry the request"],
    )
    # And undeclared ones keep API Gateway's status and message, in the template's DEFAULT_4XX /
    # DEFAULT_5XX Jira body
    too_large = api.gateway_response("REQUEST_TOO_LARGE")
    assert (too_large.status, json.loads(too_large.body)) == (
        413,
        {"errorMessages": ["Request Too Long"], "errors": {}},
    )
    assert json.loads(api.gateway_response("DEFAULT_5XX").body) == {
        "errorMessages": ["Internal server error"],
        "errors": {},
    }


def test_default_4xx_template_and_header_parameters_apply_to_undeclared_types() -> None:
    tpl = template(
        {"E": api_event("/e")},
        GatewayResponses={
            "DEFAULT_4XX": {
                "ResponseTemplates": {"application/json": '{"oops": $context.error.messageString}'},
                "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": "'*'"}},
            }
        },
    )
    rendered = ApiSpec.from_template(tpl).gateway_response("REQUEST_TOO_LARGE")
    assert rendered.status == 413
    assert json.loads(rendered.body) == {"oops": "Request Too Long"}
    assert rendered.headers["Access-Control-Allow-Origin"] == "*"


def test_binary_media_types_unescape_sam_slashes() -> None:
    tpl = template({"E": api_event("/e")}, BinaryMediaTypes=["image~1png", "application~1octet-stream"])
    assert ApiSpec.from_template(tpl).binary_media_types == ("image/png", "application/octet-stream")
