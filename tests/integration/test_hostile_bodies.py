"""Bodies no client should send, on several routes (issue 8, "Fuzzing"): base64 and non-UTF-8
bodies, huge bodies, deep JSON, wrong content types. Each gets a 4xx with Jira's body from
:func:`teamcal.api.resolve`, never a 500; and every answer is counted per route
(:func:`teamcal.api.count_response`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.template import create_resources
from tests.conftest import TEMPLATE, api_event
from tests.integration.ccj import ROOT, assert_jira_error, call, new_calendar

pytestmark = pytest.mark.integration

CALENDAR = {"publicCalendar": True, "value": json.dumps({"name": "Development"})}
#: (function, method, path, a valid body): routes that read a JSON body.
ROUTES = [
    ("tokens", "POST", "/token", {"name": "n", "user": "u"}),
    ("calendars", "POST", "/calendar", CALENDAR),
    ("calendars", "PUT", "/calendar", {"id": 1, **CALENDAR}),
    ("sources", "POST", "/source", {"eventTypeId": "meeting", "calendarConfigurationId": 1, "value": "{}"}),
    ("event_types", "POST", "/eventypes", {"name": "Focus"}),
    ("events", "POST", "/event/search", {"calendarId": 1, "startDate": 0, "endDate": 86_400_000}),
    ("events", "PUT", "/event", {"event": {"id": 1, "summary": "x"}}),
    ("events", "DELETE", "/event/1/recur", {"mode": "delete", "select": "current", "exdate": ["20260101"]}),
]
IDS = [f"{method} {path}" for _, method, path, _ in ROUTES]


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """moto with the template's resources, once for this module (these requests store little)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        create_resources(TEMPLATE, boto3)
        yield


def send(function: str, method: str, path: str, ctx: Any, **kwargs: Any) -> tuple[int, Any]:
    return call(function, method, path, token=ROOT, ctx=ctx, **kwargs)


@pytest.mark.parametrize(("function", "method", "path", "body"), ROUTES, ids=IDS)
@pytest.mark.parametrize(
    "payload",
    [b"\xff\xfe\xfd not utf-8", b'{"name": "caf\xe9"}'],
    ids=["binary", "latin-1 json"],
)
def test_a_base64_body_that_is_not_utf8_is_400(
    aws: None, lambda_context: Any, function: str, method: str, path: str, body: Any, payload: bytes
) -> None:
    # When the body arrives base64-encoded (as API Gateway sends binary media) and is not UTF-8
    status, answer = send(function, method, path, lambda_context, base64_body=payload)
    # Then it is refused with Jira's body
    assert status == 400
    assert_jira_error(answer)


def test_a_base64_utf8_json_body_is_read_like_a_plain_one(aws: None, lambda_context: Any) -> None:
    # Given a calendar body base64-encoded (isBase64Encoded: true)
    payload = json.dumps(CALENDAR).encode("utf-8")
    # When it is POSTed
    status, created = send("calendars", "POST", "/calendar", lambda_context, base64_body=payload)
    # Then the calendar is created as from a plain body
    assert status == 200, created
    assert json.loads(created["value"])["name"] == "Development"


def test_a_body_that_is_not_base64_at_all_is_400(aws: None, lambda_context: Any) -> None:
    event = api_event("POST", "/calendar", authorizer=ROOT, raw_body="%%% not base64 %%%")
    event["isBase64Encoded"] = True
    from functions.calendars import app

    out = app.lambda_handler(event, lambda_context)
    assert out["statusCode"] == 400
    assert_jira_error(json.loads(out["body"]))


@pytest.mark.parametrize(("function", "method", "path", "body"), ROUTES, ids=IDS)
@pytest.mark.parametrize("encoded", [False, True], ids=["text", "base64"])
def test_a_body_over_the_limit_is_413_before_it_is_parsed(
    aws: None, lambda_context: Any, function: str, method: str, path: str, body: Any, encoded: bool
) -> None:
    # Given a 1.5 MB body (the limit is TEAMCAL_MAX_BODY_BYTES, 1 MiB by default)
    huge = json.dumps({**body, "pad": "x" * 1_500_000})
    kwargs = {"base64_body": huge.encode()} if encoded else {"raw_body": huge}
    # When it is sent; Then 413 with Jira's body
    status, answer = send(function, method, path, lambda_context, **kwargs)
    assert status == 413
    assert_jira_error(answer)


@pytest.mark.parametrize(("function", "method", "path", "body"), ROUTES, ids=IDS)
@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["arrays", "objects"])
def test_deeply_nested_json_is_400(
    aws: None, lambda_context: Any, function: str, method: str, path: str, body: Any, opener: str
) -> None:
    # Given JSON nested 100,000 levels deep (well under the size limit)
    closer = "]" if opener == "[" else "}"
    deep = opener * 100_000 + "1" + closer * 100_000
    # When it is sent; Then 400 with Jira's body, not a RecursionError's 500
    status, answer = send(function, method, path, lambda_context, raw_body=deep)
    assert status == 400
    assert_jira_error(answer)


@pytest.mark.parametrize(("function", "method", "path", "body"), ROUTES, ids=IDS)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
    ],
)
def test_a_body_that_is_not_json_is_415(
    aws: None, lambda_context: Any, function: str, method: str, path: str, body: Any, content_type: str
) -> None:
    # When a valid JSON body is sent under another media type
    status, answer = send(function, method, path, lambda_context, body=body, headers={"Content-Type": content_type})
    # Then 415 with Jira's body (a multipart without boundary included: never a 500)
    assert status == 415, answer
    assert_jira_error(answer)


def test_json_with_a_charset_parameter_is_json(aws: None, lambda_context: Any) -> None:
    status, created = send(
        "calendars",
        "POST",
        "/calendar",
        lambda_context,
        body=CALENDAR,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert status == 200, created


def emf_lines(text: str, metric: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if metric in line]


def test_every_answer_is_counted_per_route_and_status_class(
    aws: None, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a calendar
    calendar = new_calendar(lambda_context)
    capsys.readouterr()
    from functions.calendars import app

    # When one request succeeds and one is refused (events name their API resource, as API Gateway's do)
    for segment, status in ((str(calendar["id"]), 200), ("nope", 404)):
        event = api_event("GET", f"/calendar/{segment}", authorizer=ROOT)
        event["resource"] = "/rest/brizo-calendar/api/1/calendar/{calendarId}"
        assert app.lambda_handler(event, lambda_context)["statusCode"] == status
    # Then one ApiResponses count per answer, by route template (never the id) and status class
    counted = emf_lines(capsys.readouterr().out, "ApiResponses")
    assert [(c["route"], c["statusClass"], c["ApiResponses"]) for c in counted] == [
        ("GET /calendar/{calendarId}", "2xx", [1.0]),
        ("GET /calendar/{calendarId}", "4xx", [1.0]),
    ]
    assert counted[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["route", "statusClass", "service"]]
