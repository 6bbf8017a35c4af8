"""Secrets out of traces and logs, and revocation at once, as configured in template.yaml and the
handlers: no function lets X-Ray capture a response or an error, the access log never records a
request path (a feed's path is its secret), and the tokens function may flush its own stage's
authorizer cache and nothing else."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from devstack.template import Template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TPL = Template.from_file()
API = next(props for _, res in TPL.of_type("AWS::Serverless::Api") if (props := res["Properties"]))
HANDLERS = sorted(ROOT.glob("functions/*/app.py"))


def _tracer_decorator(app: Path) -> ast.Call:
    tree = ast.parse(app.read_text())
    handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler")
    calls = [
        d
        for d in handler.decorator_list
        if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "capture_lambda_handler"
    ]
    bare = [d for d in handler.decorator_list if isinstance(d, ast.Attribute) and d.attr == "capture_lambda_handler"]
    assert not bare, f"{app}: @tracer.capture_lambda_handler without arguments captures responses"
    assert len(calls) == 1, f"{app}: lambda_handler is not traced"
    return calls[0]


@pytest.mark.parametrize("app", HANDLERS, ids=lambda p: p.parent.name)
def test_no_handler_lets_the_tracer_capture_responses_or_errors(app: Path) -> None:
    decorator = _tracer_decorator(app)
    given = {k.arg: k.value for k in decorator.keywords}
    for option in ("capture_response", "capture_error"):
        assert isinstance(given.get(option), ast.Constant), f"{app}: {option} not given"
        assert given[option].value is False, f"{app}: {option}"


def test_every_function_has_the_tracer_capture_switches_off() -> None:
    env = TPL.data["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    for logical_id, res in TPL.of_type("AWS::Serverless::Function"):
        own = (res["Properties"].get("Environment") or {}).get("Variables") or {}
        assert own.get("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "false") == "false", logical_id
        assert own.get("POWERTOOLS_TRACER_CAPTURE_ERROR", "false") == "false", logical_id


def test_the_access_log_records_the_route_template_never_the_path() -> None:
    line = json.loads(API["AccessLogSetting"]["Format"])
    assert line["resourcePath"] == "$context.resourcePath"
    assert "$context.path" not in API["AccessLogSetting"]["Format"]


def test_the_tokens_function_may_flush_its_own_stage_authorizer_cache_only() -> None:
    policies = [
        res for _, res in TPL.of_type("AWS::IAM::Policy") if {"Ref": "TokensFunctionRole"} in res["Properties"]["Roles"]
    ]
    assert len(policies) == 1
    (statement,) = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "apigateway:DELETE"
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${TeamcalApi}/stages/${StageName}"
        "/cache/authorizers"
    }
    assert TPL.resources["TeamcalApi"]["Properties"]["StageName"] == {"Ref": "StageName"}
