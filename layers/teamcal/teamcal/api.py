"""The HTTP edge shared by every REST function: the resolver, the error mapping, the principal.

This is the one place that turns domain errors into HTTP responses. Every error body is Jira's:
``{"errorMessages": ["…"], "errors": {"field": "…"}}`` (CCJ reference: "400 status code is
returned when parameters validation fails. The status is accompanied with the error messages").
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal.auth.principal import Principal
from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RetryableError,
    TeamcalError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    UpstreamError,
)
from teamcal.idempotency import idempotency_key, run_once
from teamcal.lazy import load_all
from teamcal.observability import logger, metrics
from teamcal.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import Route
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

#: The path CCJ clients append to their base URL (CCJ reference, "URL Structure").
BASE_PATH = "/rest/brizo-calendar/api/1"

STATUS_BY_ERROR: dict[type[TeamcalError], int] = {
    InvalidInputError: 400,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    TooManyRequestsError: 429,
    UpstreamError: 502,
    RetryableError: 503,
}


def jira_error(status: int, messages: Sequence[str], errors: Mapping[str, str] | None = None) -> Response[str]:
    """A response with Jira's error body."""
    body = {"errorMessages": list(messages), "errors": dict(errors or {})}
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def status_for(error: TeamcalError) -> int:
    """The HTTP status of a domain error: the nearest class in :data:`STATUS_BY_ERROR`."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") else list(map(str, loc))
    return ".".join(parts)


def validation_errors(errors: Sequence[Mapping[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """Pydantic / Powertools validation errors → Jira's ``errorMessages`` and ``errors``."""
    messages: list[str] = []
    fields: dict[str, str] = {}
    for err in errors:
        msg = str(err.get("msg") or err.get("type") or "invalid value")
        if err.get("type") == "json_invalid":
            messages.append("The request body is not valid JSON")
            continue
        name = _field_name(err.get("loc") or ())
        if name and not name.isdigit():
            fields.setdefault(name, msg)
        else:
            messages.append(f"Request body: {msg}" if not name else msg)
    if not messages:
        messages = [f"{k}: {v}" for k, v in fields.items()]
    return messages, fields


class Resolver(APIGatewayRestResolver):
    """Powertools' REST resolver with request and response validation (``enable_validation``)
    whose validation machinery is imported when first needed instead of at construction.

    ``APIGatewayRestResolver(enable_validation=True)`` imports Powertools' OpenAPI modules (and
    builds a pydantic model) in its constructor: about 25 ms of every function's cold start. Here
    the constructor runs without it and then turns validation on; the validation middlewares are
    made, exactly as Powertools' constructor makes them, by :meth:`prepare`, which :meth:`resolve`
    calls (once) and a SnapStart before-snapshot hook calls ahead (:func:`warm`).
    The OpenAPI document is the same: Powertools reads the flag when it generates it.

    A route's ``responses=`` may name its models instead of holding them (``{"model":
    "models.CreatedToken"}``), so registering the route imports no model: the names are resolved
    by :func:`complete_responses` when Powertools first reads them, i.e. by the request
    validation middleware before it analyses the route (its first request), by
    :meth:`get_openapi_schema`, and by :func:`warm`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._enable_validation = True
        self._prepared = False

    def prepare(self) -> None:
        """Make the validation middlewares (idempotent), as ``enable_validation=True`` would."""
        if self._prepared:
            return
        from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
            OpenAPIRequestValidationMiddleware,
            OpenAPIResponseValidationMiddleware,
        )

        class RequestValidation(OpenAPIRequestValidationMiddleware):
            """Powertools' request validation, after the route's ``responses=`` models are
            resolved (:func:`complete_responses`): it is what analyses a route on its first
            request (``Route.dependant``, which reads ``Route.responses``)."""

            def handler(self, app: Any, next_middleware: Any) -> Any:
                complete_responses(app.context["_route"])
                return super().handler(app, next_middleware)

        self._request_validation_middleware = RequestValidation()  # type: ignore[no-untyped-call]
        self._response_validation_middleware = OpenAPIResponseValidationMiddleware(
            validation_serializer=None,  # Powertools passes its ``serializer`` argument: None here
            has_response_validation_error=self._has_response_validation_error,
        )
        self._prepared = True

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Powertools' ``resolve`` after :meth:`prepare`."""
        self.prepare()
        return super().resolve(event, context)

    def routes(self) -> list[Route]:
        """Every registered route (one per method), in Powertools' order for its OpenAPI document."""
        return [*self._dynamic_routes, *self._static_routes]

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        """Powertools' OpenAPI document (same arguments) after :func:`complete_responses` on every route."""
        for route in self.routes():
            complete_responses(route)
        return super().get_openapi_schema(**kwargs)


def complete_responses(route: Route) -> None:
    """Resolve the model names of a route's ``responses=`` into the classes they name (idempotent).

    A content entry of ``responses=`` may give its ``model`` as a dotted name, e.g.
    ``{201: {"description": "created", "content": {"application/json": {"model": "models.Token"}}}}``:
    its first part is looked up in the route function's module namespace (where Powertools also
    resolves the function's string annotations) and the rest as attributes, so a model behind a
    :func:`teamcal.lazy.lazy_import` module is imported only now. Powertools reads
    ``Route.responses`` only when it analyses the route (``Route.dependant``) and when it generates
    the OpenAPI document (``Route._get_openapi_path``); :class:`Resolver` calls this before both.
    The route gets new dicts; the declared ones are left as they are (routes may share them).

    Raises:
        NameError: the route's module has no such name, or what it names has no such attribute
            (unlike a string annotation, which Powertools leaves unresolved).
    """
    responses: dict[int, Mapping[str, Any]] = dict(route.responses or {})

    def named(entry: Mapping[str, Any]) -> bool:
        return isinstance(entry.get("model"), str)

    if not any(named(entry) for response in responses.values() for entry in (response.get("content") or {}).values()):
        return
    namespace: dict[str, Any] = getattr(route.func, "__globals__", {})
    for status, response in responses.items():
        content: Mapping[str, Mapping[str, Any]] = response.get("content") or {}
        if any(named(entry) for entry in content.values()):
            resolved = {
                media: {**entry, "model": _named_model(entry["model"], namespace)} if named(entry) else entry
                for media, entry in content.items()
            }
            responses[status] = {**response, "content": resolved}
    route.responses = responses  # type: ignore[assignment]


def _named_model(name: str, namespace: Mapping[str, Any]) -> Any:
    head, *attributes = name.split(".")
    try:
        value = namespace[head]
        for attribute in attributes:
            value = getattr(value, attribute)
    except (KeyError, AttributeError) as e:
        raise NameError(f"responses= names {name!r}, which the route's module does not define") from e
    return value


def make_resolver() -> Resolver:
    """A REST resolver with request validation, the base path stripped, and Jira error bodies.

    Routes are declared relative to :data:`BASE_PATH` (``@app.get("/calendar")``).
    """
    app = Resolver(strip_prefixes=[BASE_PATH])

    @app.exception_handler(TeamcalError)
    def _domain_error(e: TeamcalError) -> Response[str]:
        status = status_for(e)
        logger.info("request refused", extra={"status": status, "error": type(e).__name__, "reason": e.message})
        return jira_error(status, [e.message], e.errors)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(e: RequestUnsupportedContentType) -> Response[str]:
        return jira_error(415, ["Unsupported Content-Type: send application/json"])

    @app.exception_handler(RequestValidationError)
    def _invalid(e: RequestValidationError) -> Response[str]:
        messages, fields = validation_errors(e.errors())
        return jira_error(400, messages, fields)

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(e: UnicodeDecodeError) -> Response[str]:
        return jira_error(400, ["The request body is not valid UTF-8"])

    @app.exception_handler(RecursionError)
    def _too_deep(e: RecursionError) -> Response[str]:
        return jira_error(400, ["The request body is nested too deeply"])

    @app.not_found
    def _no_route(e: Exception) -> Response[str]:
        return jira_error(404, ["No such resource"])

    _before_snapshot(lambda: warm(app))
    return app


def warm(app: Resolver) -> None:
    """Do now what the first request would: make the validation middlewares, run every module
    :func:`teamcal.lazy.lazy_import` deferred, resolve the models ``responses=`` names
    (:func:`complete_responses`), and analyse every route's signature (Powertools'
    ``Route.dependant``: its parameters, body and response fields, whose pydantic schemas are built
    then), and build every teamcal model whose build was deferred (:func:`build_models`). Under
    SnapStart this runs before the snapshot (:func:`make_resolver` registers it)."""
    app.prepare()
    load_all()
    for route in app.routes():
        complete_responses(route)
        route.dependant  # noqa: B018 - the property computes and caches the analysis
        route.body_field  # noqa: B018
    build_models()


def build_models() -> None:
    """Build the validators of every teamcal pydantic model imported so far whose build was
    deferred (``defer_build=True``: otherwise the first use builds it, within a request)."""
    from pydantic import BaseModel  # here, not at import: pydantic's model machinery is ~60 ms

    for name, module in list(sys.modules.items()):
        if name != "teamcal" and not name.startswith("teamcal."):
            continue
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == name
                and not value.__pydantic_complete__
            ):
                value.model_rebuild(raise_errors=False)  # one that cannot build yet stays deferred


def _before_snapshot(hook: Callable[[], None]) -> None:
    """Register ``hook`` with Lambda's ``snapshot_restore_py`` (SnapStart runtimes, Python 3.12+);
    elsewhere (tests, the local stack) nothing runs it and the first request does the work."""
    try:
        from snapshot_restore_py import register_before_snapshot
    except ImportError:  # not on Lambda
        return
    register_before_snapshot(hook)


#: Media types no teamcal route parses. Powertools would read them as an HTML form (and fail on a
#: multipart body without a boundary); teamcal takes JSON (and .ics where a route says so): 415.
_FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/")
#: Methods whose requests may carry a body teamcal reads.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The route that reads its body as bytes: an .ics file may be Windows-1252 or UTF-16, which
#: the importer decodes itself (``teamcal.ical.reader.decode``); README, "BinaryMediaTypes".
_RAW_BODY_PATH_END = "/import"


def _media_type(event: Mapping[str, Any]) -> str:
    """The request's media type, lower case, without parameters (``""`` when absent)."""
    headers = event.get("headers") or {}
    value = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    return value.split(";", 1)[0].strip().lower()


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8")) if isinstance(body, str) else 0


def _precheck(event: Mapping[str, Any]) -> Response[str] | None:
    """Refuse bodies the resolver must never see: too large (413), an HTML form encoding (415),
    undecodable (400: not base64, or not UTF-8 except for an .ics import's bytes)."""
    limit = get_settings().max_body_bytes
    if _body_size(event) > limit:
        return jira_error(413, [f"The request body is larger than {limit} bytes"])
    if event.get("httpMethod") in _BODY_METHODS and _media_type(event).startswith(_FORM_MEDIA_TYPES):
        return jira_error(415, ["Unsupported Content-Type: send application/json"])
    body = event.get("body")
    if event.get("isBase64Encoded") and body:
        raw = event.get("httpMethod") == "POST" and str(event.get("path") or "").endswith(_RAW_BODY_PATH_END)
        try:
            decoded = base64.b64decode(body, validate=True)
            if not raw:
                decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return jira_error(400, ["The request body is not valid base64-encoded UTF-8"])
    return None


def resolve(app: APIGatewayRestResolver, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run ``app`` on a REST proxy event; returns the proxy response.

    Before the routes: the body prechecks (413, 415 for form encodings, 400 for undecodable
    bodies) and, for a POST with an ``Idempotency-Key`` header, :mod:`teamcal.idempotency` (a retry
    gets the first response). Every answer is counted by :func:`count_response` (an exception that
    escapes counts as ``5xx``: API Gateway turns it into a 502).
    """
    response: dict[str, Any] | None = None
    try:
        response = _resolve(app, event, context)
        return response
    finally:
        count_response(event, None if response is None else int(response.get("statusCode") or 500))


#: The EMF metric counting responses, per route and status class (see :func:`count_response`).
RESPONSE_METRIC = "ApiResponses"


def count_response(event: Mapping[str, Any], status: int | None) -> None:
    """Emit one ``ApiResponses`` count (namespace ``POWERTOOLS_METRICS_NAMESPACE``) with the
    dimensions ``service``, ``route`` (``"POST /calendar/{calendarId}/import"``: the API resource,
    base path removed, so one series per route, never per id) and ``statusClass`` (``2xx`` … ``5xx``;
    ``None``: the handler raised, ``5xx``). A separate EMF document, so the function's own metrics
    keep their dimensions."""
    resource = str(event.get("resource") or "").removeprefix(BASE_PATH) or "/"
    status_class = "5xx" if status is None else f"{min(max(status // 100, 1), 5)}xx"
    dimensions = {"route": f"{event.get('httpMethod', '-')} {resource}", "statusClass": status_class}
    if metrics.service:
        dimensions["service"] = str(metrics.service)
    with single_metric(name=RESPONSE_METRIC, unit=MetricUnit.Count, value=1, default_dimensions=dimensions):
        pass


def _resolve(app: APIGatewayRestResolver, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    early = _precheck(event)
    if early is not None:
        return _render(early)
    context_ = (event.get("requestContext") or {}).get("authorizer") or {}
    if "tokenId" in context_:
        logger.append_keys(token_id=str(context_["tokenId"]))
    table = get_settings().idempotency_table
    try:
        key = idempotency_key(event) if table else None
        if table and key is not None:
            return run_once(table, key, event, context, lambda: app.resolve(event, context))
    except TeamcalError as e:
        return _render(jira_error(status_for(e), [e.message], e.errors))
    return app.resolve(event, context)


def _render(response: Response[str]) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": response.body,
        "isBase64Encoded": False,
    }


def principal(app: APIGatewayRestResolver) -> Principal:
    """The principal of the current request, from the TOKEN authorizer's context.

    Raises:
        UnauthorizedError: the request did not pass the authorizer.
    """
    return Principal.from_context(app.current_event.request_context.authorizer.get_context())
