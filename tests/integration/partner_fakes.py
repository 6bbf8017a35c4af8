"""A fake partner deployment on 127.0.0.1 for the synchronization tests: records every request
and answers what each test programs (a JSON answer, an error status, a huge body, a redirect, or
no answer at all until the test ends)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

BASE = "/rest/brizo-calendar/api/1"


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class Seen:
    """One request the fake received: method, path below the API base, headers, raw body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, Any] | Callable[["Seen"], tuple[int, Any]]


@dataclass
class FakePartner:
    """Programmable answers by ``(method, path)`` (path below the API base; ``*`` matches any
    path); unprogrammed requests get 404 with Jira's body."""

    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    server: BaseWSGIServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}{BASE}"

    def on(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    def calls(self, path_suffix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(path_suffix)]

    def _answer(self, seen: Seen) -> tuple[int, Any]:
        answer = self.answers.get((seen.method, seen.path)) or self.answers.get((seen.method, "*"))
        if answer is None:
            return 404, {"errorMessages": ["no such resource"], "errors": {}}
        return answer(seen) if callable(answer) else answer

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        seen = Seen(request.method, request.path.removeprefix(BASE), dict(request.headers), request.get_data())
        self.seen.append(seen)
        status, body = self._answer(seen)
        if body == "HANG":
            self.release.wait(10)
            status, body = 200, {}
        if status in (301, 302, 307):
            response = Response("", status=status, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        elif isinstance(body, bytes):
            response = Response(body, status=status, content_type="application/json")
        else:
            response = Response(json.dumps(body), status=status, content_type="application/json")
        return response(environ, start_response)

    def start(self) -> FakePartner:
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_Quiet)
        server = self.server
        threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
