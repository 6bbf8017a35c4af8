"""The API's edge over real HTTP on the local stack: hostile bodies on several routes (issue 8)
and Swagger UI at ``/swagger``. Each refusal is a 4xx with Jira's body, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.openapi import DOCUMENT
from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

CALENDAR = {"publicCalendar": True, "value": json.dumps({"name": "edge"})}
#: (method, path, a body of the right shape) of routes that read JSON, in three functions.
ROUTES = [
    ("POST", "/calendar", CALENDAR),
    ("PUT", "/source", {"id": 1, "eventTypeId": "meeting", "calendarConfigurationId": 1, "value": "{}"}),
    ("POST", "/event/search", {"calendarId": 1, "startDate": 0, "endDate": 86_400_000}),
    ("POST", "/token", {"name": "n", "user": "u"}),
]
IDS = [f"{m} {p}" for m, p, _ in ROUTES]


def assert_jira_error(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}, body
    assert body["errorMessages"]
    assert all(isinstance(m, str) for m in body["errorMessages"])


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=IDS)
def test_non_utf8_bytes_are_400(stack: StackClient, method: str, path: str, body: Any) -> None:
    # The gateway passes bytes that are not UTF-8 base64-encoded, as API Gateway passes binary
    response = stack.admin(method, path, data=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert_jira_error(response, 400)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=IDS)
def test_a_body_over_the_functions_limit_is_413(stack: StackClient, method: str, path: str, body: Any) -> None:
    response = stack.admin(method, path, json={**body, "pad": "x" * 1_500_000})
    assert_jira_error(response, 413)


def test_a_body_over_api_gateways_limit_is_413_from_the_gateway(stack: StackClient) -> None:
    response = stack.admin("POST", "/calendar", data=b"x" * (10 * 1024 * 1024 + 1))
    assert_jira_error(response, 413)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=IDS)
def test_deep_json_is_400(stack: StackClient, method: str, path: str, body: Any) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    response = stack.admin(method, path, data=deep, headers={"Content-Type": "application/json"})
    assert_jira_error(response, 400)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=IDS)
@pytest.mark.parametrize("kind", ["text/plain", "form", "multipart"])
def test_a_body_that_is_not_json_is_415(stack: StackClient, method: str, path: str, body: Any, kind: str) -> None:
    if kind == "form":
        response = stack.admin(method, path, data={"name": "x"})
    elif kind == "multipart":
        response = stack.admin(method, path, files={"file": ("a.json", json.dumps(body), "application/json")})
    else:
        response = stack.admin(method, path, data=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert_jira_error(response, 415)


def test_swagger_ui_shows_the_generated_document(stack: StackClient) -> None:
    # When a browser opens /swagger
    page = stack.session.get(f"{stack.url}/swagger", timeout=30)
    # Then it gets Powertools' Swagger UI page with the bundled assets (no CDN) and the document
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text
    assert "<script src=" not in page.text
    assert "<link rel='stylesheet'" not in page.text
    assert '"operationId": "SearchEvents"' in page.text
    # And ?format=json is docs/openapi.json itself
    document = stack.session.get(f"{stack.url}/swagger", params={"format": "json"}, timeout=30)
    assert document.json() == json.loads(DOCUMENT.read_text(encoding="utf-8"))
