"""Shared fixtures. The function environment comes from template.yaml (Globals + the function's own),
so in-process tests see the same variable names a deployed function sees."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.template import REGION, Template, create_resources

TEMPLATE = Template.from_file(stack="teamcal-test")

# Set before any function module is imported: functions read settings at cold start.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "teamcal-test",
        "POWERTOOLS_SERVICE_NAME": "teamcal-test",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({k: v for k, v in TEMPLATE.function_environment("TokensFunction").items() if "POWERTOOLS" not in k})
# The Google sync function's own variables (read at its cold start; GOOGLE_* only).
os.environ.update({k: v for k, v in TEMPLATE.function_environment("GoogleFunction").items() if k.startswith("GOOGLE_")})
# The Jira sync function's own variables (JIRA_* only).
os.environ.update({k: v for k, v in TEMPLATE.function_environment("JiraFunction").items() if k.startswith("JIRA_")})
# The partners function's sealing key id (a stand-in: the aws fixture's key is TEMPLATE.ref("SealingKey")).
os.environ["TEAMCAL_SEALING_KEY_ID"] = TEMPLATE.function_environment("PartnersFunction")["TEAMCAL_SEALING_KEY_ID"]


@dataclass
class LambdaContext:
    """The small context object Powertools needs (cookbook style)."""

    function_name: str = "test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, with every table, bucket and queue of template.yaml created."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        create_resources(TEMPLATE, boto3)
        yield


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    authorizer: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    base64_body: bytes | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy event for ``/rest/brizo-calendar/api/1`` + ``path``."""
    full = "/rest/brizo-calendar/api/1" + path
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if base64_body is not None:
        payload, is_b64 = base64.b64encode(base64_body).decode(), True
    else:
        payload, is_b64 = (
            (raw_body if raw_body is not None else (None if body is None else json.dumps(body))),
            False,
        )
    return {
        "resource": full,
        "path": full,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": full,
            "httpMethod": method,
            "path": "/api" + full,
            "stage": "api",
            "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (authorizer or {}).items()},
        },
        "body": payload,
        "isBase64Encoded": is_b64,
    }
