"""What API Gateway would build from the template: routes, TOKEN authorizers, gateway responses.

Everything here is read from the template's ``AWS::Serverless::Api`` resource and from the
``Type: Api`` events of its functions; a construct the emulator does not reproduce (an event on
the implicit API, a REQUEST or Cognito authorizer, ``AWS_IAM``) raises :class:`TemplateError` at
start instead of being served differently from AWS.

Route selection follows API Gateway's resource matching: the most specific resource wins, segment
by segment (a literal beats ``{param}``, which beats ``{proxy+}``); then the method, an exact
method before ``ANY``. A request whose best resource lacks the method gets
``MISSING_AUTHENTICATION_TOKEN``, like an unknown path: there is no fallback to a less specific
resource.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devstack.template import Template

#: API Gateway's default status and ``$context.error.message`` of each gateway response type used.
DEFAULT_RESPONSES: dict[str, tuple[int, str | None]] = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "AUTHORIZER_FAILURE": (500, None),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "DEFAULT_5XX": (502, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
}


class TemplateError(ValueError):
    """The template declares an API construct the local stack cannot reproduce faithfully."""


@dataclass(frozen=True)
class TokenAuthorizerSpec:
    """A Lambda TOKEN authorizer: its function, identity header and cache TTL (seconds)."""

    name: str
    function: str
    header: str = "Authorization"
    ttl_seconds: int = 300
    validation_expression: str | None = None


@dataclass(frozen=True)
class Route:
    """One ``Type: Api`` event: ``path`` as declared (``/a/{id}/{proxy+}``), ``method`` upper case
    or ``ANY``, the function's logical id, and the authorizer name (``None``: no authorizer)."""

    path: str
    method: str
    function: str
    authorizer: str | None = None
    event: str = ""

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/")) if self.path.strip("/") else ()

    @property
    def specificity(self) -> tuple[int, ...]:
        """Per segment: 0 literal, 1 ``{param}``, 2 ``{proxy+}``; smaller sorts first (wins)."""
        return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters if ``path`` (decoded, leading ``/``) fits this route, else ``None``."""
        parts = path[1:].split("/") if path not in ("", "/") else []
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = "/".join(parts[i:])
                if not rest:
                    return None
                params[segment[1:-2]] = rest
                return params
            if i >= len(parts):
                return None
            if segment.startswith("{"):
                if not parts[i]:
                    return None
                params[segment[1:-1]] = parts[i]
            elif segment != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None


@dataclass(frozen=True)
class RouteMatch:
    """The chosen route and the request's path parameters."""

    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class GatewayResponse:
    """A rendered gateway response: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: str


@dataclass
class ApiSpec:
    """One ``AWS::Serverless::Api`` as API Gateway would deploy it."""

    logical_id: str
    api_id: str
    stage: str
    routes: list[Route]
    authorizers: dict[str, TokenAuthorizerSpec] = field(default_factory=dict)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for ``method`` + ``path`` (see the module docstring for the rule), or ``None``."""
        candidates = [(r, p) for r in self.routes if (p := r.match(path)) is not None]
        if not candidates:
            return None
        best = min(r.specificity for r, _ in candidates)
        on_resource = [(r, p) for r, p in candidates if r.specificity == best]
        for wanted in (method.upper(), "ANY"):
            for route, params in on_resource:
                if route.method == wanted:
                    return RouteMatch(route, params)
        return None

    def gateway_response(self, kind: str, message: str | None = None, request_id: str = "") -> GatewayResponse:
        """Render gateway response ``kind`` (``UNAUTHORIZED``, …) as the template declares it.

        Falls back to the template's ``DEFAULT_4XX`` / ``DEFAULT_5XX`` body, then to API Gateway's
        built-in ``{"message": …}``. Response templates may use ``$context.error.messageString``,
        ``$context.error.message`` and ``$context.requestId`` (no other VTL).
        """
        status, default_message = DEFAULT_RESPONSES[kind]
        message = message if message is not None else default_message
        declared = self.gateway_responses.get(kind)
        if declared is not None:
            status = int(declared.get("StatusCode", status))
        else:
            declared = self.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX") or {}
        templates = declared.get("ResponseTemplates") or {}
        content_type, body = next(iter(templates.items()), ("application/json", None))
        if body is None:
            body = json.dumps({"message": message})
        body = (
            str(body)
            .replace("$context.error.messageString", json.dumps(message))
            .replace("$context.error.message", message or "")
            .replace("$context.requestId", request_id)
        )
        headers = {"Content-Type": str(content_type), "x-amzn-ErrorType": _error_type(kind)}
        for name, value in ((declared.get("ResponseParameters") or {}).get("Headers") or {}).items():
            headers[str(name)] = str(value).strip("'")
        return GatewayResponse(status, headers, body)

    # ------------------------------------------------------------------ reading the template
    @classmethod
    def from_template(cls, tpl: Template, logical_id: str | None = None) -> ApiSpec:
        """Read the API ``logical_id`` (default: the template's only ``AWS::Serverless::Api``).

        Raises:
            TemplateError: no or several APIs, an unsupported authorizer or event, an authorizer
                whose ``FunctionArn`` is not ``!GetAtt <a function>.Arn`` (or ``!Ref <a function>.Alias``,
                the alias of its ``AutoPublishAlias``), a route naming an
                undeclared authorizer.
        """
        apis = [lid for lid, _ in tpl.of_type("AWS::Serverless::Api")]
        if logical_id is None:
            if len(apis) != 1:
                raise TemplateError(f"expected exactly one AWS::Serverless::Api, found {apis}")
            logical_id = apis[0]
        props = tpl.resources[logical_id].get("Properties") or {}
        auth = props.get("Auth") or {}
        authorizers = {
            name: _token_authorizer(tpl, name, spec) for name, spec in (auth.get("Authorizers") or {}).items()
        }
        default = auth.get("DefaultAuthorizer")
        if default is not None and default not in authorizers:
            raise TemplateError(f"DefaultAuthorizer {default!r} is not a declared TOKEN authorizer")
        stack_key = f"{tpl.stack}/{logical_id}".encode()
        return cls(
            logical_id=logical_id,
            api_id=hashlib.sha256(stack_key).hexdigest()[:10],
            stage=str(tpl.resolve(props.get("StageName", "Prod"))),
            routes=_routes(tpl, logical_id, authorizers, default),
            authorizers=authorizers,
            gateway_responses=tpl.resolve(props.get("GatewayResponses") or {}),
            binary_media_types=tuple(
                str(t).replace("~1", "/") for t in tpl.resolve(props.get("BinaryMediaTypes") or [])
            ),
        )


def _error_type(kind: str) -> str:
    return {
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "REQUEST_TOO_LARGE": "RequestTooLargeException",
        "AUTHORIZER_FAILURE": "AuthorizerFailureException",
        "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
        "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    }.get(kind, "InternalServerErrorException")


def _function_of(tpl: Template, arn: Any, where: str) -> str:
    target = arn.get("Fn::GetAtt") if isinstance(arn, Mapping) else None
    if isinstance(target, str):
        target = target.split(".", 1)
    alias = arn.get("Ref") if isinstance(arn, Mapping) else None
    if isinstance(alias, str) and alias.endswith(".Alias"):  # SAM's reference to an AutoPublishAlias
        target = [alias.removesuffix(".Alias"), "Arn"]
    if not isinstance(target, list) or len(target) != 2 or target[1] != "Arn":
        raise TemplateError(
            f"{where}: FunctionArn must be !GetAtt <Function>.Arn or !Ref <Function>.Alias, not {arn!r}"
        )
    if tpl.resources.get(target[0], {}).get("Type") != "AWS::Serverless::Function":
        raise TemplateError(f"{where}: {target[0]!r} is not an AWS::Serverless::Function of the template")
    return str(target[0])


def _token_authorizer(tpl: Template, name: str, spec: Mapping[str, Any]) -> TokenAuthorizerSpec:
    where = f"Authorizer {name}"
    if "FunctionArn" not in spec:
        raise TemplateError(f"{where}: only Lambda TOKEN authorizers are emulated")
    if spec.get("FunctionPayloadType", "TOKEN") != "TOKEN":
        raise TemplateError(f"{where}: FunctionPayloadType {spec['FunctionPayloadType']} is not emulated")
    identity = spec.get("Identity") or {}
    validation = identity.get("ValidationExpression")
    return TokenAuthorizerSpec(
        name=name,
        function=_function_of(tpl, spec["FunctionArn"], where),
        header=str(identity.get("Header", "Authorization")),
        ttl_seconds=int(tpl.resolve(identity.get("ReauthorizeEvery", 300))),
        validation_expression=None if validation is None else str(tpl.resolve(validation)),
    )


def _routes(
    tpl: Template, api: str, authorizers: Mapping[str, TokenAuthorizerSpec], default: str | None
) -> list[Route]:
    routes = []
    for logical_id, resource in tpl.of_type("AWS::Serverless::Function"):
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            rest = props.get("RestApiId")
            if rest is None:
                raise TemplateError(f"{logical_id}.{name}: events on the implicit API are not emulated")
            if (rest.get("Ref") if isinstance(rest, Mapping) else rest) != api:
                continue
            authorizer = (props.get("Auth") or {}).get("Authorizer", default)
            if authorizer == "NONE":
                authorizer = None
            elif authorizer is not None and authorizer not in authorizers:
                raise TemplateError(f"{logical_id}.{name}: authorizer {authorizer!r} is not emulated")
            routes.append(
                Route(
                    path=str(tpl.resolve(props["Path"])),
                    method=str(props["Method"]).upper(),
                    function=logical_id,
                    authorizer=authorizer,
                    event=name,
                )
            )
    return routes
