"""A fake Jira site (Cloud or Data Center flavour), served by werkzeug on 127.0.0.1.

Built from Atlassian's documented response shapes; the Jira client talks HTTP to it exactly as it
talks to a real site. Implemented:

* ``GET /rest/api/{v}/myself`` (Cloud ``accountId``/``emailAddress``; DC ``key``/``name``; both
  ``displayName`` and ``timeZone``); ``GET /rest/api/{v}/field`` (``id``, ``name``, ``custom``,
  ``schema.type``).
* Cloud (``v`` = 3): ``POST /rest/api/3/search/jql`` ``{jql, fields, maxResults, nextPageToken}``
  → ``{issues, nextPageToken?, isLast}``; the last page has no ``nextPageToken`` (as Jira Cloud
  answers, JRACLOUD-92184); ``startAt`` in the body is refused with 400 "Invalid request payload".
  Basic auth ``email:apiToken``.
* Data Center (``v`` = 2): ``POST /rest/api/2/search`` ``{jql, fields, startAt, maxResults}`` →
  ``{startAt, maxResults, total, issues}``. Bearer personal access token.
* ``GET /rest/agile/1.0/board/{boardId}/sprint?startAt&maxResults`` → ``{maxResults, startAt,
  isLast, values}``; 404 for an unknown board.
* ``GET /rest/api/{v}/project/{projectId}/version?startAt&maxResults`` → ``{self, maxResults,
  startAt, total, isLast, values}``; 404 for an unknown project.
* 401 for wrong or revoked credentials (Jira's ``errorMessages`` body); injected failures
  (:meth:`JiraFake.fail_next`: 429 with ``Retry-After``, 5xx).

The JQL understood is what the sync writes: clauses joined by ``AND`` - ``project = <id>``,
``updated >= "yyyy/MM/dd HH:mm"`` (in the account's time zone, as Jira reads it),
``(f1 is not EMPTY OR f2 is not EMPTY …)`` - and an ``ORDER BY`` that is ignored (issues come by
id). A field that does not exist is Jira's 400 ("Field 'x' does not exist …").
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

BUILTIN_FIELDS: dict[str, tuple[str, str]] = {
    "summary": ("Summary", "string"),
    "duedate": ("Due date", "date"),
    "created": ("Created", "datetime"),
    "updated": ("Updated", "datetime"),
    "resolutiondate": ("Resolved", "datetime"),
    "assignee": ("Assignee", "user"),
    "status": ("Status", "status"),
    "project": ("Project", "project"),
}


def _err(status: int, *messages: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errorMessages": list(messages), "errors": {}}
    return Response(json.dumps(body), status=status, content_type="application/json", headers=headers or {})


def _ok(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def jira_datetime(ms: int) -> str:
    """Epoch ms → Jira's ``2026-11-30T15:20:01.000+0000``."""
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class FakeIssue:
    id: str
    key: str
    project_id: int
    fields: dict[str, Any]
    updated_ms: int


@dataclass
class FakeAccount:
    email: str
    token: str
    account_id: str
    display_name: str = "Jira Bot"
    time_zone: str = "UTC"
    revoked: bool = False


@dataclass
class JiraFake:
    """The fake's state and controls. ``flavor`` is ``cloud`` or ``datacenter``. Thread-safe."""

    flavor: str = "cloud"
    accounts: list[FakeAccount] = field(default_factory=list)
    custom_fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, schema type)
    issues: dict[str, FakeIssue] = field(default_factory=dict)
    sprints: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # board id -> sprints
    versions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # project id -> versions
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    clock_ms: int = 1_790_000_000_000

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._next_issue = 10_000

    # ------------------------------------------------------------------ server
    def start(self) -> JiraFake:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        server = self._server
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def version(self) -> str:
        return "3" if self.flavor == "cloud" else "2"

    def count(self, path_part: str) -> int:
        """Requests whose path contains ``path_part``."""
        with self._lock:
            return sum(1 for _, path in self.requests if path_part in path)

    # ------------------------------------------------------------------ controls
    def add_account(self, email: str, token: str, time_zone: str = "UTC") -> FakeAccount:
        account = FakeAccount(email, token, f"acc-{len(self.accounts) + 1}", time_zone=time_zone)
        self.accounts.append(account)
        return account

    def revoke(self, token: str) -> None:
        for account in self.accounts:
            if account.token == token:
                account.revoked = True

    def add_field(self, field_id: str, name: str, schema_type: str) -> None:
        self.custom_fields[field_id] = (name, schema_type)

    def tick(self, ms: int = 1) -> int:
        """The site's clock (what ``updated`` records): real time, strictly increasing."""
        with self._lock:
            self.clock_ms = max(self.clock_ms + ms, time.time_ns() // 1_000_000)
            return self.clock_ms

    def put_issue(self, key: str, project_id: int, **fields: Any) -> FakeIssue:
        """Create or change an issue (by key); stamps ``updated`` with the site's clock."""
        with self._lock:
            found = next((i for i in self.issues.values() if i.key == key), None)
            if found is None:
                self._next_issue += 1
                found = FakeIssue(str(self._next_issue), key, project_id, {}, 0)
                self.issues[found.id] = found
            found.project_id = project_id
            found.fields.update(fields)
            found.updated_ms = self.tick()
            return found

    def delete_issue(self, key: str) -> None:
        with self._lock:
            for issue_id, issue in list(self.issues.items()):
                if issue.key == key:
                    del self.issues[issue_id]

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = "1") -> None:
        """The next ``count`` API requests (not ``myself``) answer ``status`` (with ``Retry-After``)."""
        with self._lock:
            self.failures.extend([(status, retry_after)] * count)

    # ------------------------------------------------------------------ HTTP
    def _wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path))
            try:
                response = self._route(request)
            except (KeyError, ValueError, TypeError) as e:
                response = _err(400, f"bad request: {e}")
        return response(environ, start_response)

    def _account(self, request: Request) -> FakeAccount | None:
        header = request.headers.get("Authorization", "")
        for account in self.accounts:
            if account.revoked:
                continue
            if self.flavor == "cloud":
                pair = base64.b64encode(f"{account.email}:{account.token}".encode()).decode()
                if header == f"Basic {pair}":
                    return account
            elif header == f"Bearer {account.token}":
                return account
        return None

    def _route(self, request: Request) -> Response:
        account = self._account(request)
        if account is None:
            return _err(401, "You are not authenticated. Authentication required to perform this operation.")
        api = f"/rest/api/{self.version}"
        path = request.path
        if path == f"{api}/myself" and request.method == "GET":
            return self._myself(account)
        if self.failures:
            status, retry_after = self.failures.pop(0)
            return _err(
                status,
                "Rate limit exceeded." if status == 429 else "Internal server error",
                headers={"Retry-After": retry_after} if retry_after else None,
            )
        if path == f"{api}/field" and request.method == "GET":
            return self._fields()
        if self.flavor == "cloud" and path == "/rest/api/3/search/jql" and request.method == "POST":
            return self._search_cloud(request, account)
        if self.flavor == "datacenter" and path == "/rest/api/2/search" and request.method == "POST":
            return self._search_dc(request, account)
        if m := re.fullmatch(r"/rest/agile/1\.0/board/(\d+)/sprint", path):
            return self._sprints(request, int(m.group(1)))
        if m := re.fullmatch(re.escape(api) + r"/project/(\d+)/version", path):
            return self._versions(request, int(m.group(1)))
        return _err(404, "null for uri: " + path)

    def _myself(self, account: FakeAccount) -> Response:
        body: dict[str, Any] = {
            "self": f"{self.url}/rest/api/{self.version}/user",
            "emailAddress": account.email,
            "displayName": account.display_name,
            "active": True,
            "timeZone": account.time_zone,
        }
        if self.flavor == "cloud":
            body["accountId"] = account.account_id
            body["accountType"] = "atlassian"
        else:
            body["key"] = account.account_id
            body["name"] = account.email.split("@")[0]
        return _ok(body)

    def _all_fields(self) -> dict[str, tuple[str, str]]:
        return {**BUILTIN_FIELDS, **self.custom_fields}

    def _fields(self) -> Response:
        out = []
        for field_id, (name, schema_type) in self._all_fields().items():
            item: dict[str, Any] = {"id": field_id, "name": name, "custom": field_id.startswith("customfield_")}
            item["schema"] = {"type": schema_type}
            out.append(item)
        return _ok(out)

    # ------------------------------------------------------------------ search
    def _matches(self, jql: str, account: FakeAccount) -> list[FakeIssue] | Response:
        where = re.split(r"\s+ORDER BY\s+", jql, flags=re.IGNORECASE)[0].strip()
        tests: list[Any] = []
        for clause in [c.strip() for c in re.split(r"\s+AND\s+", where) if c.strip()]:
            if m := re.fullmatch(r"project\s*=\s*(\d+)", clause):
                pid = int(m.group(1))
                tests.append(lambda i, pid=pid: i.project_id == pid)
            elif m := re.fullmatch(r'updated\s*>=\s*"(\d{4}/\d{2}/\d{2} \d{2}:\d{2})"', clause):
                local = dt.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=ZoneInfo(account.time_zone))
                since = int(local.timestamp() * 1000)
                tests.append(lambda i, since=since: i.updated_ms >= since)
            elif m := re.fullmatch(r"\((.*)\)", clause):
                names = []
                for part in re.split(r"\s+OR\s+", m.group(1)):
                    f = re.fullmatch(r'"?([\w.\[\]]+)"?\s+is not EMPTY', part.strip())
                    if f is None:
                        return _err(400, f"Error in the JQL Query: cannot parse '{part}'.")
                    name = f.group(1)
                    if cf := re.fullmatch(r"cf\[(\d+)\]", name):
                        name = f"customfield_{cf.group(1)}"
                    names.append(name)
                for name in names:
                    if name not in self._all_fields():
                        return _err(400, f"Field '{name}' does not exist or you do not have permission to view it.")
                tests.append(lambda i, names=names: any(i.fields.get(n) not in (None, "") for n in names))
            else:
                return _err(400, f"Error in the JQL Query: cannot parse '{clause}'.")
        found = [i for i in self.issues.values() if all(t(i) for t in tests)]
        return sorted(found, key=lambda i: int(i.id))

    def _issue(self, issue: FakeIssue, fields: list[str]) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name in fields:
            if name == "updated":
                shown["updated"] = jira_datetime(issue.updated_ms)
            elif name == "project":
                shown["project"] = {"id": str(issue.project_id)}
            elif name in issue.fields:
                shown[name] = issue.fields[name]
            elif name in self._all_fields():
                shown[name] = None
        return {
            "expand": "",
            "id": issue.id,
            "self": f"{self.url}/rest/api/{self.version}/issue/{issue.id}",
            "key": issue.key,
            "fields": shown,
        }

    def _search_cloud(self, request: Request, account: FakeAccount) -> Response:
        body = json.loads(request.get_data() or b"{}")
        if "startAt" in body:
            return _err(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        found = self._matches(str(body.get("jql") or ""), account)
        if isinstance(found, Response):
            return found
        size = min(int(body.get("maxResults") or 50), 100)
        token = body.get("nextPageToken")
        start = int(base64.urlsafe_b64decode(str(token)).decode()) if token else 0
        page = found[start : start + size]
        out: dict[str, Any] = {"issues": [self._issue(i, list(body.get("fields") or [])) for i in page]}
        if start + size < len(found):
            out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
            out["isLast"] = False
        else:
            out["isLast"] = True
        return _ok(out)

    def _search_dc(self, request: Request, account: FakeAccount) -> Response:
        body = json.loads(request.get_data() or b"{}")
        found = self._matches(str(body.get("jql") or ""), account)
        if isinstance(found, Response):
            return found
        start = int(body.get("startAt") or 0)
        size = min(int(body.get("maxResults") or 50), 1000)
        page = found[start : start + size]
        return _ok(
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(found),
                "issues": [self._issue(i, list(body.get("fields") or [])) for i in page],
            }
        )

    # ------------------------------------------------------------------ agile and versions
    def _sprints(self, request: Request, board_id: int) -> Response:
        if board_id not in self.sprints:
            return _err(404, "Board does not exist or you do not have permission to see it.")
        start = int(request.args.get("startAt") or 0)
        size = min(int(request.args.get("maxResults") or 50), 50)
        values = self.sprints[board_id][start : start + size]
        last = start + size >= len(self.sprints[board_id])
        return _ok({"maxResults": size, "startAt": start, "isLast": last, "values": values})

    def _versions(self, request: Request, project_id: int) -> Response:
        if project_id not in self.versions:
            return _err(404, f"No project could be found with id '{project_id}'.")
        start = int(request.args.get("startAt") or 0)
        size = min(int(request.args.get("maxResults") or 50), 50)
        every = self.versions[project_id]
        values = every[start : start + size]
        last = start + size >= len(every)
        return _ok(
            {
                "self": f"{self.url}{request.path}?startAt={start}&maxResults={size}",
                "maxResults": size,
                "startAt": start,
                "total": len(every),
                "isLast": last,
                "values": values,
            }
        )

    def add_sprint(
        self,
        board_id: int,
        sprint_id: int,
        name: str,
        state: str,
        start: str | None,
        end: str | None,
        complete: str | None = None,
    ) -> dict[str, Any]:
        """Add or replace a sprint (dates as Jira writes them, e.g. ``2026-12-01T09:00:00.000Z``)."""
        sprint: dict[str, Any] = {
            "id": sprint_id,
            "self": f"/rest/agile/1.0/sprint/{sprint_id}",
            "state": state,
            "name": name,
            "originBoardId": board_id,
            "goal": "",
        }
        for key, value in (("startDate", start), ("endDate", end), ("completeDate", complete)):
            if value is not None:
                sprint[key] = value
        with self._lock:
            listed = self.sprints.setdefault(board_id, [])
            listed[:] = [s for s in listed if s["id"] != sprint_id] + [sprint]
            listed.sort(key=lambda s: int(s["id"]))
        return sprint

    def delete_sprint(self, board_id: int, sprint_id: int) -> None:
        with self._lock:
            self.sprints[board_id] = [s for s in self.sprints.get(board_id, []) if s["id"] != sprint_id]

    def add_version(
        self,
        project_id: int,
        version_id: int,
        name: str,
        *,
        released: bool = False,
        release_date: str | None = None,
        start_date: str | None = None,
        archived: bool = False,
    ) -> dict[str, Any]:
        """Add or replace a version (dates ``yyyy-MM-dd``)."""
        version: dict[str, Any] = {
            "self": f"/rest/api/{self.version}/version/{version_id}",
            "id": str(version_id),
            "name": name,
            "archived": archived,
            "released": released,
            "projectId": project_id,
        }
        if release_date is not None:
            version["releaseDate"] = release_date
        if start_date is not None:
            version["startDate"] = start_date
        with self._lock:
            listed = self.versions.setdefault(project_id, [])
            listed[:] = [v for v in listed if v["id"] != str(version_id)] + [version]
            listed.sort(key=lambda v: int(v["id"]))
        return version

    def delete_version(self, project_id: int, version_id: int) -> None:
        with self._lock:
            self.versions[project_id] = [v for v in self.versions.get(project_id, []) if v["id"] != str(version_id)]
