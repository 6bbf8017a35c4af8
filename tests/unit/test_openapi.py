"""docs/openapi.json: current, complete, valid OpenAPI 3.1, and honest about the error contract.

The document is regenerated in-process from the code (:mod:`devstack.openapi`) and compared with
the committed file; a difference means someone changed a route or a model without running
``make openapi``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, create_model

from devstack import openapi
from devstack.routing import ApiSpec
from devstack.template import Template
from teamcal import api

pytestmark = pytest.mark.unit

TEMPLATE = Template.from_file()
ROUTES = ApiSpec.from_template(TEMPLATE).routes
JIRA_ERROR = {"$ref": "#/components/schemas/JiraError"}


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return openapi.build_document(TEMPLATE)


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def resolved(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        found: dict[str, Any] = document["components"]["responses"][name]
        return found
    return response


def test_the_committed_document_is_current(generated: dict[str, Any]) -> None:
    # Given the code as it is; When the document is regenerated; Then it equals docs/openapi.json
    current = openapi.DOCUMENT.read_text(encoding="utf-8") if openapi.DOCUMENT.is_file() else ""
    assert openapi.render(generated) == current, "docs/openapi.json is stale: run `make openapi` and commit it"


def test_the_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"] == "3.1.0"
    validate(committed)


def test_every_api_event_of_the_template_has_its_operation(committed: dict[str, Any]) -> None:
    # Given every Type: Api event of template.yaml
    assert ROUTES
    for route in ROUTES:
        # Then the document has its path and method, named after the event
        operation = committed["paths"].get(route.path, {}).get(route.method.lower())
        assert operation is not None, f"{route.event}: {route.method} {route.path} is not documented"
        assert operation["operationId"] == route.event
    # And nothing else (a route API Gateway cannot reach is not part of the API)
    assert len(operations(committed)) == len(ROUTES)


def test_every_operation_documents_the_error_contract_with_jiras_body(committed: dict[str, Any]) -> None:
    assert committed["components"]["schemas"]["JiraError"]["required"] == ["errorMessages", "errors"]
    for path, method, operation in operations(committed):
        codes = {int(c) for c in operation["responses"]}
        expected = {400, 401, 403, 404, 409, 413, 429, 503} | ({415} if method in ("post", "put", "delete") else set())
        assert expected <= codes, f"{method} {path}: missing {sorted(expected - codes)}"
        assert 422 not in codes, f"{method} {path}: Powertools' 422 is never sent (our resolver answers 400)"
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert resolved(committed, response)["content"]["application/json"]["schema"] == JIRA_ERROR
        assert any(200 <= c < 400 for c in codes), f"{method} {path}: no success response"


def test_token_free_routes_say_so_and_the_rest_need_the_bearer_token(committed: dict[str, Any]) -> None:
    assert committed["security"] == [{openapi.SECURITY_SCHEME: []}]
    assert committed["components"]["securitySchemes"][openapi.SECURITY_SCHEME]["scheme"] == "bearer"
    open_routes = {(r.path, r.method.lower()) for r in ROUTES if r.authorizer is None}
    for path, method, operation in operations(committed):
        if (path, method) in open_routes:
            assert operation["security"] == [], f"{method} {path} takes no token"
        else:
            assert "security" not in operation, f"{method} {path} needs the bearer token"


def test_every_post_documents_the_idempotency_key(committed: dict[str, Any]) -> None:
    for path, method, operation in operations(committed):
        names = [p["name"] for p in operation.get("parameters", [])]
        assert ("Idempotency-Key" in names) == (method == "post"), f"{method} {path}"


def test_route_specific_success_codes(committed: dict[str, Any]) -> None:
    base = api.BASE_PATH
    created = committed["paths"][f"{base}/token"]["post"]["responses"]
    assert set(created) & {"200", "201"} == {"201"}
    assert created["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CreatedToken"}
    revoke = committed["paths"][f"{base}/token/{{tokenId}}"]["delete"]
    assert [p["name"] for p in revoke["parameters"]] == ["tokenId"]


# ---------------------------------------------------------------- the generator's own rules
# Two models that share a name but not a shape (as two functions' modules could).
ThingA = create_model("Thing", name=(str, ...))
ThingB = create_model("Thing", size=(int, ...))


def _template(*functions: tuple[str, str, str]) -> Template:
    """A template with one API and a function per (logical id, method, path under the base path)."""
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "api"}},
    }
    for logical_id, method, path in functions:
        resources[logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": f"functions/{logical_id.lower()}/",
                "Handler": "app.lambda_handler",
                "Events": {
                    f"{logical_id}Event": {
                        "Type": "Api",
                        "Properties": {"RestApiId": {"Ref": "Api"}, "Path": api.BASE_PATH + path, "Method": method},
                    }
                },
            },
        }
    return Template(data={"Resources": resources})


def _app_returning(model: type[BaseModel], path: str) -> Any:
    app = api.make_resolver()

    def handler() -> Any:
        raise NotImplementedError

    handler.__annotations__["return"] = model  # the model is a variable: set the annotation itself
    app.get(path)(handler)
    return app


def test_one_component_name_with_two_schemas_is_refused() -> None:
    # Given two functions whose models share the name "Thing" but not the shape
    template = _template(("First", "GET", "/first"), ("Second", "GET", "/second"))
    apps = {"First": _app_returning(ThingA, "/first"), "Second": _app_returning(ThingB, "/second")}
    # When the document is built; Then the conflict is an error, not a silent overwrite
    with pytest.raises(openapi.OpenApiError, match="schemas/Thing"):
        openapi.build_document(template, apps)


def test_a_route_without_an_api_event_and_an_event_without_a_route_are_refused() -> None:
    template = _template(("First", "GET", "/first"))
    apps = {"First": _app_returning(ThingA, "/elsewhere")}
    with pytest.raises(openapi.OpenApiError) as caught:
        openapi.build_document(template, apps)
    assert "GET /rest/brizo-calendar/api/1/elsewhere has no Api event" in str(caught.value)
    assert "FirstEvent (GET /rest/brizo-calendar/api/1/first): no such route" in str(caught.value)


def test_generating_the_document_leaks_no_other_functions_environment_into_this_process() -> None:
    # Regression: the union of the functions' environments (IcalFunction's 5 MiB body limit among
    # them) stayed in the settings cache, and later requests in the process got 5 MiB, not 1 MiB.
    from teamcal import settings

    # Given a process that has not read its settings yet
    environment = dict(os.environ)
    settings.get_settings.cache_clear()
    # When the document is generated
    openapi.build_document(TEMPLATE)
    # Then the environment is as it was, and settings read afterwards come from it
    assert dict(os.environ) == environment
    assert "TEAMCAL_MAX_BODY_BYTES" not in os.environ
    assert settings.get_settings().max_body_bytes == settings.Settings.__dataclass_fields__["max_body_bytes"].default


def test_the_check_mode_reports_a_stale_file(tmp_path: Any) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert openapi.main(["--check", "--output", str(stale)]) == 1
    assert openapi.main(["--output", str(stale)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 0


def test_every_created_or_accepted_answer_names_its_schema(committed: dict[str, Any]) -> None:
    # Given every 201 and 202 answer of the document (ical, partner, token routes, ...)
    answers = [
        (f"{method.upper()} {path} {code}", resolved(committed, response))
        for path, method, op in operations(committed)
        for code, response in op.get("responses", {}).items()
        if code in ("201", "202")
    ]
    assert answers
    # Then each says which model its JSON body is, not a bare object
    untyped = [
        name
        for name, response in answers
        if "$ref" not in response.get("content", {}).get("application/json", {}).get("schema", {})
    ]
    assert untyped == []
