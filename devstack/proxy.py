"""The REST API (v1) Lambda proxy integration: HTTP request → event, function result → HTTP response.

Pure functions over small dataclasses, so they are tested without a server.

Body encoding rule (API Gateway base64-encodes a body when its Content-Type matches one of the
API's ``BinaryMediaTypes``): the emulator does that, and also base64-encodes any body that is not
valid UTF-8 whatever its Content-Type, so the function sees the exact bytes (on AWS such a body
would be passed through as text, mangled). Every other body is passed as text with
``isBase64Encoded: false``; an empty body is ``null``.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devstack.routing import ApiSpec, RouteMatch
from devstack.template import ACCOUNT

#: Headers the gateway computes itself; a function's value for them is dropped.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class MalformedResponse(ValueError):
    """The function's result is not a valid proxy response (API Gateway answers 502)."""


@dataclass(frozen=True)
class HttpRequest:
    """An incoming request: ``path`` percent-decoded, headers and query as ordered pairs."""

    method: str
    path: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        """The last value of header ``name`` (case-insensitive), as API Gateway's ``headers``."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass(frozen=True)
class HttpResponse:
    """An outgoing response; ``headers`` may repeat a name."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def is_binary(content_type: str | None, body: bytes, binary_media_types: Iterable[str]) -> bool:
    """Whether ``body`` goes to the function base64-encoded (see the module docstring)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime and any(fnmatch.fnmatchcase(mime, t.lower()) for t in binary_media_types):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


def request_time(epoch_ms: int) -> str:
    """API Gateway's ``requestTime``: ``09/Apr/2015:12:34:56 +0000`` (UTC)."""
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    api: ApiSpec,
    *,
    authorizer: Mapping[str, Any] | None,
    request_id: str,
    now_ms: int,
) -> dict[str, Any]:
    """The proxy event API Gateway sends for ``request`` on ``match.route``.

    ``authorizer`` is ``requestContext.authorizer`` (``principalId``, the authorizer's context
    values as strings, ``integrationLatency``) or ``None`` for a route without authorizer.
    """
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(request.query)
    binary = bool(request.body) and is_binary(request.header("Content-Type"), request.body, api.binary_media_types)
    if not request.body:
        body = None
    elif binary:
        body = base64.b64encode(request.body).decode("ascii")
    else:
        body = request.body.decode("utf-8")
    route = match.route
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": api.api_id,
        "resourceId": route.event or route.path,
        "resourcePath": route.path,
        "httpMethod": request.method,
        "path": f"/{api.stage}{request.path}",
        "stage": api.stage,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": request_time(now_ms),
        "requestTimeEpoch": now_ms,
        "protocol": "HTTP/1.1",
        "domainName": request.header("Host") or "",
        "identity": {"sourceIp": request.source_ip, "userAgent": request.header("User-Agent")},
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": binary,
    }


def parse_response(result: Any) -> HttpResponse:
    """Turn the function's proxy result into the HTTP response API Gateway sends.

    ``headers`` and ``multiValueHeaders`` are merged (a name in both gets the multi values);
    ``body`` is decoded from base64 when ``isBase64Encoded``; Content-Type defaults to
    ``application/json`` as API Gateway's does.

    Raises:
        MalformedResponse: not an object, no integer ``statusCode``, bad header or body types.
    """
    if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int):
        raise MalformedResponse("a proxy result needs an integer statusCode")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, Mapping) or not isinstance(multi, Mapping):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    headers = [(str(k), str(v)) for k, v in single.items() if k not in multi]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((str(name), str(v)) for v in values)
    headers = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    if result.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as e:
            raise MalformedResponse("isBase64Encoded body is not base64") from e
    else:
        raw = (body or "").encode("utf-8")
    return HttpResponse(result["statusCode"], headers, raw)
