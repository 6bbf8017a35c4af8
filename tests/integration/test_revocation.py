"""Revocation at once: DELETE /token/{tokenId} flushes the authorizer cache of the API stage the
request came through (FlushStageAuthorizersCache); a failed flush does not fail the revocation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from teamcal import aws as teamcal_aws
from tests.conftest import api_event
from tests.integration.ccj import ROOT

pytestmark = pytest.mark.integration


def _handler() -> Any:
    from functions.tokens.app import lambda_handler

    return lambda_handler


def _event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    event = api_event(method, path, body, authorizer=ROOT)
    event["requestContext"]["apiId"] = "a1b2c3d4e5"
    return event


def _new_token(ctx: Any) -> dict[str, Any]:
    out = _handler()(_event("POST", "/token", {"name": "x", "user": "x", "allCalendars": True}), ctx)
    assert out["statusCode"] == 201
    return dict(json.loads(out["body"]))


def test_revoking_flushes_the_stage_authorizer_cache(aws: None, lambda_context: Any) -> None:
    created = _new_token(lambda_context)
    with Stubber(teamcal_aws.client("apigateway")) as stub:
        stub.add_response("flush_stage_authorizers_cache", {}, {"restApiId": "a1b2c3d4e5", "stageName": "api"})
        out = _handler()(_event("DELETE", f"/token/{created['id']}"), lambda_context)
        stub.assert_no_pending_responses()
    assert out["statusCode"] == 200


def test_a_failed_flush_does_not_fail_the_revocation(aws: None, lambda_context: Any) -> None:
    created = _new_token(lambda_context)
    with Stubber(teamcal_aws.client("apigateway")) as stub:
        stub.add_client_error("flush_stage_authorizers_cache", "TooManyRequestsException", http_status_code=429)
        out = _handler()(_event("DELETE", f"/token/{created['id']}"), lambda_context)
    assert out["statusCode"] == 200
    assert json.loads(out["body"])["id"] == created["id"]
