"""The OpenAPI 3.1 document of the whole API, generated from the code: ``docs/openapi.json``.

    python -m devstack.openapi            # write docs/openapi.json
    python -m devstack.openapi --check    # exit 1 when docs/openapi.json is not current

Each function of template.yaml that has ``Type: Api`` events and a Powertools resolver ``app``
(:func:`teamcal.api.make_resolver`) is imported (with the union of the template's function
environments set first, so its settings load) and asked for its own document
(``app.get_openapi_schema``). The documents are merged into one:

* path keys get the base path back (the resolvers strip ``/rest/brizo-calendar/api/1``);
* every operation is checked against the template: a route no ``Api`` event reaches, or an
  ``Api`` event with no route, is an error (:class:`OpenApiError`). The operation takes the
  event's logical name as ``operationId`` and the function's service name as its tag;
* components are merged by name; one name with two different schemas is an error;
* security: a bearer scheme for the TOKEN authorizer, ``security: []`` on routes whose event says
  ``Auth: Authorizer: NONE``;
* the error contract (:data:`ERROR_RESPONSES`): every operation documents 400, 401, 403, 404, 409,
  413, 429 and 503 (and 415 when it may take a body: POST, PUT, PATCH, DELETE) with Jira's body (``JiraError``, from
  :class:`teamcal.models.common.JiraErrorBody`). Powertools' own 422 is removed: our resolver
  answers validation errors with 400 and Jira's body (:func:`teamcal.api.make_resolver`);
* every POST documents the optional ``Idempotency-Key`` header (:mod:`teamcal.idempotency`).

A route's own ``responses=`` (e.g. 201, 202) are kept; an error code it declares keeps its
description and gets the Jira body.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.routing import ApiSpec, Route
from devstack.template import ROOT, Template

#: Where ``make openapi`` writes the document.
DOCUMENT = ROOT / "docs" / "openapi.json"
TITLE = "teamcal REST API"
VERSION = "1"
DESCRIPTION = (
    "A team calendar whose REST API is wire-compatible with Company Calendar for Jira "
    "(`/rest/brizo-calendar/api/1`). Send `Authorization: Bearer <token>`. Every error answers "
    'with Jira\'s body `{"errorMessages": ["..."], "errors": {"field": "..."}}`.'
)
SECURITY_SCHEME = "bearerToken"
ERROR_SCHEMA = "JiraError"
#: Methods whose operations may carry a request body (and so may get 415: teamcal.api refuses HTML
#: form encodings on them; JSON routes refuse every other non-JSON type).
BODY_METHODS = frozenset({"post", "put", "patch", "delete"})
#: Components Powertools adds for its own 422 body, which teamcal never sends.
POWERTOOLS_422_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")

#: The error responses of every operation: status → (name under ``components/responses``,
#: description). The mapping is teamcal.api's ``STATUS_BY_ERROR`` plus API Gateway's own answers
#: (rendered with Jira's body by the template's ``GatewayResponses``).
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid input: a body, parameter or header breaks the contract (`errors` names the fields)"),
    401: ("Unauthorized", "Missing, malformed, unknown or revoked token (partner webhooks: a bad signature)"),
    403: ("Forbidden", "The token may not do this"),
    404: ("NotFound", "No such resource, or one outside the token's calendars (existence is not revealed)"),
    409: (
        "Conflict",
        "Conflict: a stale `version` / `If-Match`, a duplicate, a state rule, or an `Idempotency-Key` "
        "reused with another body or whose first request is still running",
    ),
    413: ("PayloadTooLarge", "The request body is too large"),
    429: ("TooManyRequests", "Throttled (API Gateway stage throttling); retry with backoff"),
    503: ("ServiceUnavailable", "A dependency is busy, or the work is not finished yet; repeat the request"),
}
#: Only for operations that take a body.
UNSUPPORTED_MEDIA_TYPE: dict[int, tuple[str, str]] = {
    415: ("UnsupportedMediaType", "The request body's Content-Type is not one the route accepts")
}

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the POST safe to retry: a retry with the same key and body returns the first "
    "response and creates nothing new (kept 24 hours).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
}


class OpenApiError(RuntimeError):
    """The code and the template disagree, or two functions define one component differently."""


@dataclass(frozen=True)
class Operation:
    """One ``Type: Api`` event: ``path`` with the base path, lower-case ``method``."""

    route: Route

    @property
    def key(self) -> tuple[str, str]:
        return self.route.path, self.route.method.lower()


def api_functions(template: Template) -> dict[str, list[Route]]:
    """The template's functions with ``Type: Api`` events → their routes (template order)."""
    functions: dict[str, list[Route]] = {}
    for route in ApiSpec.from_template(template).routes:
        functions.setdefault(route.function, []).append(route)
    return functions


def function_environment(template: Template) -> dict[str, str]:
    """The union of every function's environment (Globals + its own; first value wins), without
    ``POWERTOOLS_*`` (per-function service names)."""
    union: dict[str, str] = {}
    for logical_id, _ in template.of_type("AWS::Serverless::Function"):
        for key, value in template.function_environment(logical_id).items():
            if not key.startswith("POWERTOOLS_"):
                union.setdefault(key, value)
    return union


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set the variables that are not set yet; afterwards restore the environment and forget the
    settings read under it (the cached getters of :mod:`teamcal.settings` that were still empty),
    so the process goes on reading its own environment (e.g. the test session's body limit)."""
    from teamcal import settings

    getters = [f for f in vars(settings).values() if callable(getattr(f, "cache_info", None))]
    fresh = [getter for getter in getters if getter.cache_info().currsize == 0]
    wanted = {"POWERTOOLS_TRACE_DISABLED": "true", **variables}
    added = [k for k in wanted if k not in os.environ]
    os.environ.update({k: wanted[k] for k in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
        for getter in fresh:
            getter.cache_clear()


def resolvers(template: Template) -> dict[str, Any]:
    """Import every API function's module; returns {logical id: its resolver ``app``}.

    Functions whose module has no ``app`` resolver are left out (their events then have no
    operation, which :func:`build_document` reports).
    """
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    found: dict[str, Any] = {}
    with _environment(function_environment(template)):
        for logical_id in api_functions(template):
            module = importlib.import_module(template.function_module(logical_id))
            app = getattr(module, "app", None)
            if isinstance(app, ApiGatewayResolver):
                found[logical_id] = app
    return found


def _service_name(template: Template, logical_id: str) -> str:
    own = (template.resources[logical_id].get("Properties") or {}).get("Environment", {}).get("Variables", {})
    return str(own.get("POWERTOOLS_SERVICE_NAME") or logical_id.removesuffix("Function").lower())


def _function_document(app: Any) -> dict[str, Any]:
    text = app.get_openapi_json_schema(title=TITLE, version=VERSION)
    document: dict[str, Any] = json.loads(text)
    return document


def _merge_components(into: dict[str, Any], extra: Mapping[str, Any], origin: str) -> None:
    for section, entries in extra.items():
        target = into.setdefault(section, {})
        for name, schema in entries.items():
            if name in target and target[name] != schema:
                raise OpenApiError(f"component {section}/{name} of {origin} differs from another function's")
            target[name] = schema


def _jira_error_schema() -> dict[str, Any]:
    from teamcal.models.common import JiraErrorBody

    schema = JiraErrorBody.model_json_schema(by_alias=True)
    schema["title"] = ERROR_SCHEMA
    schema["additionalProperties"] = False
    return schema


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}},
    }


def _finish_operation(operation: dict[str, Any], route: Route, tag: str) -> dict[str, Any]:
    """Apply the template's facts and the error contract to one Powertools operation."""
    method = route.method.lower()
    operation["operationId"] = route.event
    operation["tags"] = [tag]
    if route.authorizer is None:
        operation["security"] = []
    responses: dict[str, Any] = operation.get("responses") or {}
    responses.pop("422", None)
    takes_body = method in BODY_METHODS or "requestBody" in operation
    codes = {**ERROR_RESPONSES, **(UNSUPPORTED_MEDIA_TYPE if takes_body else {})}
    for code, declared in list(responses.items()):  # error codes the route declared itself
        if int(code) >= 400:
            responses[code] = _error_response(declared.get("description") or codes.get(int(code), ("", "Error"))[1])
    for status, (name, _) in codes.items():
        responses.setdefault(str(status), {"$ref": f"#/components/responses/{name}"})
    operation["responses"] = dict(sorted(responses.items()))
    if method == "post":
        parameters = [p for p in operation.get("parameters", []) if p.get("name", "").lower() != "idempotency-key"]
        operation["parameters"] = [*parameters, copy.deepcopy(IDEMPOTENCY_KEY_PARAMETER)]
    return operation


def _drop_unreferenced(document: dict[str, Any], names: Sequence[str]) -> None:
    """Remove the schemas ``names`` (in order) that nothing else refers to."""
    schemas = document["components"]["schemas"]
    for name in names:
        rest = {k: v for k, v in schemas.items() if k != name}
        if json.dumps(f"#/components/schemas/{name}") not in json.dumps([document["paths"], rest]):
            schemas.pop(name, None)


def build_document(template: Template | None = None, apps: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document of every ``Api`` event of ``template``.

    ``apps`` ({logical id: resolver}) defaults to :func:`resolvers` (imports the functions).

    Raises:
        OpenApiError: an ``Api`` event has no route in its function, a route has no ``Api`` event,
            or two functions define one component name differently.
    """
    from teamcal.api import BASE_PATH

    template = template or Template.from_file()
    functions = api_functions(template)
    apps = resolvers(template) if apps is None else apps
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {"schemas": {ERROR_SCHEMA: _jira_error_schema()}}
    problems: list[str] = []
    for logical_id, routes in functions.items():
        app = apps.get(logical_id)
        if app is None:
            problems += [f"{r.event} ({r.method} {r.path}): {logical_id} has no resolver `app`" for r in routes]
            continue
        own = _function_document(app)
        _merge_components(components, own.get("components") or {}, logical_id)
        by_key = {(r.path, r.method.lower()): r for r in routes}
        for path, item in (own.get("paths") or {}).items():
            for method, operation in item.items():
                full = BASE_PATH + path
                route = by_key.pop((full, method), None)
                if route is None:
                    problems.append(f"{logical_id}: route {method.upper()} {full} has no Api event in template.yaml")
                    continue
                finished = _finish_operation(operation, route, _service_name(template, logical_id))
                paths.setdefault(full, {})[method] = finished
        problems += [f"{r.event} ({r.method} {r.path}): no such route in {logical_id}" for r in by_key.values()]
    if problems:
        raise OpenApiError("the code and template.yaml disagree:\n  " + "\n  ".join(problems))
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "the API's origin (on AWS add the stage: https://…/{stage})"}],
        "security": [{SECURITY_SCHEME: []}],
        "paths": {path: dict(sorted(item.items())) for path, item in sorted(paths.items())},
        "components": {
            **components,
            "schemas": dict(sorted(components["schemas"].items())),
            "responses": {
                name: _error_response(description)
                for _, (name, description) in sorted({**ERROR_RESPONSES, **UNSUPPORTED_MEDIA_TYPE}.items())
            },
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A teamcal token (`POST /token`, or `python -m teamcal.admin create-token`)",
                }
            },
        },
    }
    _drop_unreferenced(document, POWERTOOLS_422_SCHEMAS)
    return document


def render(document: Mapping[str, Any]) -> str:
    """The document as written to :data:`DOCUMENT` (2-space indent, trailing newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the document; exit code 1 when ``--check`` finds it stale."""
    parser = argparse.ArgumentParser(prog="python -m devstack.openapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the written document is not current")
    parser.add_argument("--output", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
