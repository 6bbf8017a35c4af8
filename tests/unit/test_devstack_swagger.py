"""Swagger UI of the local stack (devstack.swagger), through the gateway's WSGI app: no socket,
no functions invoked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from devstack import swagger
from devstack.gateway import ApiGateway
from devstack.openapi import DOCUMENT
from devstack.routing import ApiSpec
from devstack.template import Template

pytestmark = pytest.mark.unit


def no_function(logical_id: str, event: Any, timeout: float | None = None) -> Any:
    raise AssertionError(f"/swagger must not invoke {logical_id}")


@pytest.fixture(scope="module")
def http() -> Client:
    return Client(ApiGateway(ApiSpec.from_template(Template.from_file(stack="unit")), no_function).wsgi)


def test_the_gateway_serves_swagger_ui_around_the_committed_document(http: Client) -> None:
    page = http.get("/swagger")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "SwaggerUIBundle" in page.text
    assert '"title": "teamcal REST API"' in page.text
    assert http.get("/swagger", query_string={"format": "json"}).get_data() == DOCUMENT.read_bytes()


def test_only_get_is_served(http: Client) -> None:
    response = http.post("/swagger")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_a_missing_document_says_how_to_make_it(tmp_path: Path) -> None:
    request = Request(EnvironBuilder(path="/swagger").get_environ())
    response = swagger.respond(request, document=tmp_path / "openapi.json")
    assert response.status_code == 503
    assert "make openapi" in response.get_data(as_text=True)


def test_a_closing_script_tag_in_the_document_cannot_end_the_page(tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text('{"openapi": "3.1.0", "info": {"title": "</script><b>x", "version": "1"}, "paths": {}}')
    page = swagger.respond(Request(EnvironBuilder(path="/swagger").get_environ()), document=document)
    assert "</script><b>" not in page.get_data(as_text=True)
