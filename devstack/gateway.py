"""The API Gateway emulator: a werkzeug server that serves one ``AWS::Serverless::Api``.

Per request, in API Gateway's order: body size limit (10 MiB, ``REQUEST_TOO_LARGE``), route
(:mod:`devstack.routing`; none → ``MISSING_AUTHENTICATION_TOKEN``), TOKEN authorizer
(:mod:`devstack.authorizer`), then the function through the proxy integration
(:mod:`devstack.proxy`). A function that raises or returns a malformed result gives 502, one that
does not answer within 29 s (API Gateway's integration timeout) gives 504.
Beside the API, ``GET /swagger`` serves Swagger UI of ``docs/openapi.json`` (:mod:`devstack.swagger`).

URLs have no stage prefix (``http://127.0.0.1:3000/rest/...``, as ``sam local start-api``);
the event's ``requestContext.path`` has it, as on AWS.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from devstack import swagger
from devstack.authorizer import TokenAuthorizer, method_arn
from devstack.drivers import FunctionError, FunctionTimeout, Invoke
from devstack.proxy import HttpRequest, HttpResponse, MalformedResponse, build_event, parse_response
from devstack.routing import ApiSpec

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("devstack.gateway")

#: API Gateway's payload limit for REST APIs, in bytes.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: API Gateway's default integration timeout, in seconds.
INTEGRATION_TIMEOUT = 29.0
_FLUSH_PATH = re.compile(r"/restapis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)/cache/authorizers")


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log (the gateway logs each request itself)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class ApiGateway:
    """Serve ``api`` on ``host``:``port`` (0: any free port), invoking functions through ``invoke``.

    ``clock`` (seconds, monotonic) drives the authorizer caches; tests pass a fake one.
    """

    def __init__(
        self,
        api: ApiSpec,
        invoke: Invoke,
        host: str = "127.0.0.1",
        port: int = 3000,
        clock: Any = time.monotonic,
    ) -> None:
        self.api = api
        self._invoke = invoke
        self._host = host
        self._port = port
        self.authorizers = {name: TokenAuthorizer(spec, invoke, clock) for name, spec in api.authorizers.items()}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ driver
    def start(self) -> None:
        """Bind and serve in a background thread (returns once the socket listens).

        Raises:
            OSError: the address cannot be bound (port taken, unknown host).
        """
        try:
            self._server = make_server(
                self._host, self._port, self.wsgi, threaded=True, request_handler=_RequestHandler
            )
        except SystemExit as e:  # werkzeug prints why and exits when the port is taken
            raise OSError(f"cannot listen on {self._host}:{self._port}") from e
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.1), name="devstack-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (in-flight requests finish first)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("the gateway is not started")
        return int(self._server.server_port)

    # ------------------------------------------------------------------ requests
    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application (also usable with werkzeug's test ``Client``)."""
        response = self._respond(Request(environ))
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path in swagger.PATHS:  # dev tooling beside the API: Swagger UI of docs/openapi.json
            return swagger.respond(request)
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        if (request.content_length or 0) > MAX_BODY_BYTES:
            out = self._gateway("REQUEST_TOO_LARGE", None, request_id)
        else:
            body = request.get_data(cache=False)
            http = HttpRequest(
                method=request.method,
                path=request.path,
                headers=list(request.headers.items()),
                query=list(request.args.items(multi=True)),
                body=body,
                source_ip=request.remote_addr or "127.0.0.1",
            )
            out = (
                self._gateway("REQUEST_TOO_LARGE", None, request_id)
                if len(body) > MAX_BODY_BYTES
                else self.handle(http, request_id)
            )
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s -> %d (%.0f ms)", request.method, request.full_path.rstrip("?"), out.status, elapsed)
        response = Response(out.body, status=out.status)
        response.headers.clear()
        for name, value in out.headers:
            response.headers.add(name, value)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    def flush_authorizer_caches(self, rest_api_id: str, stage: str) -> bool:
        """API Gateway's ``FlushStageAuthorizersCache`` for this API's stage: every TOKEN
        authorizer forgets its cached results. ``False`` when the API id or stage is not ours."""
        if (rest_api_id, stage) != (self.api.api_id, self.api.stage):
            return False
        for authorizer in self.authorizers.values():
            authorizer.cache.clear()
        return True

    def _control(self, request: HttpRequest, request_id: str) -> HttpResponse | None:
        """The API Gateway control-plane calls the functions make (``AWS_ENDPOINT_URL_API_GATEWAY``
        points here in the local stack): ``DELETE /restapis/{id}/stages/{stage}/cache/authorizers``
        → 202, or 404 ``NotFoundException`` for another API or stage. ``None`` for anything else."""
        match = _FLUSH_PATH.fullmatch(request.path)
        if request.method != "DELETE" or match is None:
            return None
        if self.flush_authorizer_caches(match["api"], match["stage"]):
            log.info("authorizer caches flushed")
            return HttpResponse(202, [("x-amzn-RequestId", request_id)], b"")
        body = json.dumps({"message": "Invalid stage identifier specified"}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "NotFoundException")]
        return HttpResponse(404, [*headers, ("x-amzn-RequestId", request_id)], body)

    def handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        """Route, authorize and invoke one request; every outcome is an HTTP response."""
        control = self._control(request, request_id)
        if control is not None:
            return control
        match = self.api.match(request.method, request.path)
        if match is None:
            return self._gateway("MISSING_AUTHENTICATION_TOKEN", None, request_id)
        authorizer_context = None
        if match.route.authorizer is not None:
            authorizer = self.authorizers[match.route.authorizer]
            decision = authorizer.authorize(
                request.header(authorizer.spec.header), method_arn(self.api, request.method, request.path)
            )
            if decision.refusal is not None:
                if decision.detail:
                    log.warning("authorizer %s: %s", authorizer.spec.name, decision.detail)
                return self._gateway(decision.refusal, decision.message, request_id)
            authorizer_context = decision.authorizer
        event = build_event(
            request,
            match,
            self.api,
            authorizer=authorizer_context,
            request_id=request_id,
            now_ms=int(time.time() * 1000),
        )
        try:
            return parse_response(self._invoke(match.route.function, event, timeout=INTEGRATION_TIMEOUT))
        except FunctionError as e:
            log.error("%s raised %s: %s\n%s", e.logical_id, e.error_type, e.error_message, "".join(e.stack_trace))
        except FunctionTimeout as e:
            log.error("%s", e)
            return self._gateway("INTEGRATION_TIMEOUT", None, request_id)
        except MalformedResponse as e:
            log.error("%s returned a malformed proxy response: %s", match.route.function, e)
        return self._gateway("DEFAULT_5XX", None, request_id)

    def _gateway(self, kind: str, message: str | None, request_id: str) -> HttpResponse:
        rendered = self.api.gateway_response(kind, message, request_id)
        return HttpResponse(rendered.status, list(rendered.headers.items()), rendered.body.encode("utf-8"))
