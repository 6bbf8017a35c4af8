"""template.yaml's operations side (issue 8): access logs, stage throttling, alarms and their
topic, API Gateway's own answers in Jira's body, and tracing on every function.

Generic over the template: a function, a dead-letter queue or a gateway response added later is
checked without editing this file."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.template import Template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TPL = Template.from_file()
FUNCTIONS = dict(TPL.of_type("AWS::Serverless::Function"))
ALARMS = dict(TPL.of_type("AWS::CloudWatch::Alarm"))
API = next(props for _, res in TPL.of_type("AWS::Serverless::Api") if (props := res["Properties"]))
#: The TOKEN authorizer refuses a token by raising (API Gateway's contract): its Errors metric
#: counts refusals, so only its throttles are alarmed.
AUTHORIZER = API["Auth"]["Authorizers"]["TokenAuthorizer"]["FunctionArn"]["Ref"].removesuffix(".Alias")


def metrics_of(alarm: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every metric an alarm watches: its own, or those of its metric math."""
    props = alarm["Properties"]
    if "MetricName" in props:
        yield {"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": props["Dimensions"]}
    for query in props.get("Metrics") or []:
        if "MetricStat" in query:
            yield query["MetricStat"]["Metric"]


def watched(namespace: str, metric: str) -> list[dict[str, Any]]:
    """The dimensions of every alarmed metric ``namespace``/``metric`` as {name: value}."""
    return [
        {d["Name"]: d["Value"] for d in m["Dimensions"]}
        for alarm in ALARMS.values()
        for m in metrics_of(alarm)
        if (m["Namespace"], m["MetricName"]) == (namespace, metric)
    ]


def test_access_logs_are_json_lines_kept_for_a_while_and_never_hold_the_token() -> None:
    # Given the API stage's access log setting
    setting = API["AccessLogSetting"]
    # Then it writes to a log group of the template that expires
    group = setting["DestinationArn"]["Fn::GetAtt"][0]
    assert TPL.resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert TPL.resources[group]["Properties"]["RetentionInDays"] == {"Ref": "AccessLogRetentionDays"}
    # And each line is JSON with the fields an investigation starts from
    line = json.loads(setting["Format"])
    assert {"requestId", "ip", "httpMethod", "resourcePath", "status", "responseLatency", "tokenId"} <= set(line)
    assert line["tokenId"] == "$context.authorizer.tokenId"
    # And nothing from the Authorization header
    assert "authorization" not in setting["Format"].lower()


def test_the_stage_is_throttled_by_parameters() -> None:
    (settings,) = API["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    for knob in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
        parameter = settings[knob]["Ref"]
        assert TPL.data["Parameters"][parameter]["Type"] == "Number", knob


def test_api_gateways_own_errors_carry_jiras_body() -> None:
    responses = API["GatewayResponses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "AUTHORIZER_FAILURE"} <= set(responses)
    for kind, response in responses.items():
        body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"m"')
        assert set(json.loads(body)) == {"errorMessages", "errors"}, kind


def test_every_function_is_alarmed_on_throttles_and_all_but_the_authorizer_on_errors() -> None:
    throttled = {d["FunctionName"]["Ref"] for d in watched("AWS/Lambda", "Throttles")}
    erring = {d["FunctionName"]["Ref"] for d in watched("AWS/Lambda", "Errors")}
    assert throttled == set(FUNCTIONS)
    assert erring == set(FUNCTIONS) - {AUTHORIZER}


def test_the_api_5xx_rate_is_alarmed_on_this_apis_stage() -> None:
    (errors,) = watched("AWS/ApiGateway", "5XXError")
    (requests,) = watched("AWS/ApiGateway", "Count")
    assert errors == requests == {"ApiName": API["Name"], "Stage": API["StageName"]}


def test_every_dead_letter_queue_is_alarmed_on_its_depth() -> None:
    dead_letters = {
        res["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for _, res in TPL.of_type("AWS::SQS::Queue")
        if "RedrivePolicy" in res["Properties"]
    }
    depth = {d["QueueName"]["Fn::GetAtt"][0] for d in watched("AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert dead_letters
    assert dead_letters <= depth


@pytest.mark.parametrize(
    ("metric", "function"),
    [("GoogleSyncFailed", "GoogleFunction"), ("JiraSyncFailed", "JiraFunction"), ("ImportFailed", "IcalFunction")],
)
def test_failed_syncs_and_imports_are_alarmed_on_the_emitting_functions_emf_metric(metric: str, function: str) -> None:
    # Given the EMF metric a function emits through teamcal.observability.metrics (namespace from
    # Globals, dimension service = the function's POWERTOOLS_SERVICE_NAME)
    namespace = TPL.data["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    service = FUNCTIONS[function]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    # Then an alarm watches exactly that series
    assert watched(namespace, metric) == [{"service": service}]


def test_every_alarm_notifies_the_alarm_topic_and_email_is_optional() -> None:
    topics = [lid for lid, _ in TPL.of_type("AWS::SNS::Topic")]
    assert "AlarmTopic" in topics
    for logical_id, alarm in ALARMS.items():
        assert {"Ref": "AlarmTopic"} in alarm["Properties"]["AlarmActions"], logical_id
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", logical_id
    (subscription,) = (res for _, res in TPL.of_type("AWS::SNS::Subscription"))
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert TPL.data["Parameters"]["AlarmEmail"]["Default"] == ""


def _decorators(function: ast.FunctionDef) -> list[str]:
    names = []
    for node in function.decorator_list:
        target = node.func if isinstance(node, ast.Call) else node
        names.append(ast.unparse(target))
    return names


def test_every_function_handler_is_traced() -> None:
    for logical_id, res in FUNCTIONS.items():
        tree = ast.parse((ROOT / res["Properties"]["CodeUri"] / "app.py").read_text())
        (handler,) = (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler")
        assert "tracer.capture_lambda_handler" in _decorators(handler), logical_id
    assert TPL.data["Globals"]["Function"]["Tracing"] == "Active"
    assert API["TracingEnabled"] is True
