"""The Jira REST client: the handful of calls the sync needs, through the partners' outbound guard.

Every request goes through :meth:`teamcal.partners.client.PartnerClient.exchange`: the site's
addresses are resolved and checked (https, global addresses only; loopback http only in local
development), redirects are not followed, connect / read timeouts and a size cap apply. Requests
are never retried here: backoff is the sync's business (:mod:`teamcal.services.jira_sync`).

Calls (Atlassian REST API documentation; ``{v}`` is 3 on Cloud, 2 on Data Center):

* ``GET /rest/api/{v}/myself`` - the account (Cloud ``accountId``, DC ``key`` / ``name``).
* ``GET /rest/api/{v}/field`` - every field with its ``schema.type`` (``date`` / ``datetime``).
* Cloud ``POST /rest/api/3/search/jql`` ``{jql, fields, maxResults, nextPageToken}`` →
  ``{issues, nextPageToken?, isLast?}`` (the last page has no ``nextPageToken``);
  DC ``POST /rest/api/2/search`` ``{jql, fields, startAt, maxResults}`` →
  ``{startAt, maxResults, total, issues}``.
* ``GET /rest/agile/1.0/board/{boardId}/sprint?startAt&maxResults`` →
  ``{startAt, maxResults, isLast, values}``.
* ``GET /rest/api/{v}/project/{projectId}/version?startAt&maxResults`` →
  ``{startAt, maxResults, total, isLast, values}``.

Paging is hidden behind one opaque cursor (a string): Cloud's ``nextPageToken`` or the next
``startAt`` as text. ``None`` asks for the first page; a page answers the next cursor or ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from teamcal.jira.credentials import JiraCredentials
from teamcal.jira.errors import JiraApiError, JiraAuthError, JiraConfigError, JiraNotFound, JiraTransientError
from teamcal.partners.errors import PartnerProtocolError, PartnerUnreachableError
from teamcal.partners.urls import PartnerUrl

USER_AGENT = "teamcal-jira/1"
#: Issues asked per search page (Jira Cloud caps at 5,000 ids / 100 issues with fields; DC 1,000).
ISSUE_PAGE = 100
#: Sprints and versions per page (the agile API's default and maximum is 50).
AGILE_PAGE = 50
_SHOWN = 300


class Transport(Protocol):
    """What the client needs of :class:`teamcal.partners.client.PartnerClient`."""

    def exchange(
        self, url: PartnerUrl, method: str, path: str, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One guarded request; see :meth:`PartnerClient.exchange`."""
        ...


@dataclass(frozen=True)
class Page:
    """One page of a listing: its ``items`` and the ``cursor`` of the next page (``None``: last)."""

    items: list[dict[str, Any]]
    cursor: str | None


def _messages(raw: bytes) -> str:
    """Jira's ``errorMessages`` and ``errors`` values, shortened ("" when the body is not that)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    found = [str(m) for m in body.get("errorMessages") or [] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        found += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(found)[:_SHOWN]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _start_at(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        return max(0, int(cursor))
    except ValueError:
        return 0


class JiraClient:
    """Calls one Jira site (``base``: the checked ``baseUrl``) with ``credentials`` over ``transport``."""

    def __init__(self, transport: Transport, base: PartnerUrl, credentials: JiraCredentials) -> None:
        self._transport = transport
        self._base = base
        self._credentials = credentials
        self.calls = 0

    @property
    def api(self) -> str:
        """``/rest/api/3`` (Cloud) or ``/rest/api/2`` (Data Center)."""
        return f"/rest/api/{self._credentials.api_version}"

    def request(
        self, method: str, route: str, *, query: Mapping[str, Any] | None = None, body: Any = None, what: str = ""
    ) -> Any:
        """``method`` ``baseUrl + route`` (JSON in, JSON out); ``what`` names the object for a 404.

        Raises:
            JiraAuthError: 401, or 403 (the account may not do this).
            JiraNotFound: 404 (``what`` does not exist or is not visible).
            JiraConfigError: 400 (Jira's own message, e.g. an unknown field in the JQL).
            JiraTransientError: 429, 5xx, no answer (``retry_after`` from ``Retry-After``).
            JiraApiError: a redirect, another status, a body that is not JSON.
            PartnerAddressError: the site's address is refused (400).
        """
        path = self._base.path + route + (f"?{urlencode(query)}" if query else "")
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Host": self._base.netloc,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": self._credentials.authorization(),
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.calls += 1
        try:
            status, response_headers, raw = self._transport.exchange(self._base, method, path, payload, headers)
        except PartnerUnreachableError:
            raise JiraTransientError(
                f"Jira at {self._base.netloc} could not be reached (no DNS answer, refused or too slow)"
            ) from None
        except PartnerProtocolError as e:
            raise JiraApiError(0, f"Jira's answer was refused: {e.message}") from None
        if status >= 400 or 300 <= status < 400:
            raise self._error(status, response_headers, raw, what)
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise JiraApiError(status, "Jira answered with a body that is not JSON (is baseUrl a Jira site?)") from None

    def _error(self, status: int, headers: Mapping[str, str], raw: bytes, what: str) -> Exception:
        shown = _messages(raw)
        if status == 401:
            return JiraAuthError(401, "Jira refused the credentials (401): the API token was revoked or is wrong")
        if status == 403:
            return JiraAuthError(403, f"Jira refused access (403){': ' + shown if shown else ''}")
        if status == 404:
            return JiraNotFound(f"Jira does not know {what or 'the resource'} (404){': ' + shown if shown else ''}")
        if status == 400:
            return JiraConfigError(f"Jira refused the request (400): {shown or 'no message'}")
        if status == 429 or status >= 500:
            return JiraTransientError(f"Jira is unavailable or limiting the rate ({status})", _retry_after(headers))
        if 300 <= status < 400:
            return JiraApiError(status, f"Jira answered {status} (redirects are not followed: give the site's own URL)")
        return JiraApiError(status, f"Jira answered {status}: {shown or 'no message'}")

    # ------------------------------------------------------------------ calls
    def myself(self) -> dict[str, Any]:
        """``GET /rest/api/{v}/myself``: the account the credentials belong to."""
        out = self.request("GET", f"{self.api}/myself", what="the account")
        if not isinstance(out, dict):
            raise JiraApiError(200, "Jira's /myself answer is not an object (is baseUrl a Jira site?)")
        return out

    def fields(self) -> dict[str, str]:
        """``GET /rest/api/{v}/field``: field id → ``schema.type`` (``""`` when it has none)."""
        out = self.request("GET", f"{self.api}/field", what="the field list")
        if not isinstance(out, list):
            raise JiraApiError(200, "Jira's field list is not an array")
        found: dict[str, str] = {}
        for item in out:
            if isinstance(item, dict) and item.get("id"):
                schema = item.get("schema") if isinstance(item.get("schema"), dict) else {}
                found[str(item["id"])] = str((schema or {}).get("type") or "")
        return found

    def search(self, jql: str, fields: list[str], cursor: str | None, size: int = ISSUE_PAGE) -> Page:
        """One page of issues matching ``jql`` with ``fields`` (see the module docstring)."""
        if self._credentials.flavor == "cloud":
            body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": size}
            if cursor:
                body["nextPageToken"] = cursor
            out = self.request("POST", "/rest/api/3/search/jql", body=body, what="the search")
            issues = _values(out, "issues")
            token = out.get("nextPageToken")
            last = bool(out.get("isLast")) or not token
            return Page(issues, None if last else str(token))
        start = _start_at(cursor)
        out = self.request(
            "POST",
            "/rest/api/2/search",
            body={"jql": jql, "fields": fields, "startAt": start, "maxResults": size},
            what="the search",
        )
        issues = _values(out, "issues")
        total = int(out.get("total") or 0)
        following = start + len(issues)
        return Page(issues, str(following) if issues and following < total else None)

    def sprints(self, board_id: int, cursor: str | None) -> Page:
        """One page of the board's sprints (``GET /rest/agile/1.0/board/{boardId}/sprint``)."""
        start = _start_at(cursor)
        out = self.request(
            "GET",
            f"/rest/agile/1.0/board/{int(board_id)}/sprint",
            query={"startAt": start, "maxResults": AGILE_PAGE},
            what=f"board {board_id}",
        )
        return _agile_page(out, start)

    def versions(self, project_id: int, cursor: str | None) -> Page:
        """One page of the project's versions (``GET /rest/api/{v}/project/{projectId}/version``)."""
        start = _start_at(cursor)
        out = self.request(
            "GET",
            f"{self.api}/project/{int(project_id)}/version",
            query={"startAt": start, "maxResults": AGILE_PAGE},
            what=f"project {project_id}",
        )
        return _agile_page(out, start)


def _values(out: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(out, dict) or not isinstance(out.get(key), list):
        raise JiraApiError(200, f"Jira's answer has no {key} list")
    return [i for i in out[key] if isinstance(i, dict)]


def _agile_page(out: Any, start: int) -> Page:
    values = _values(out, "values")
    following = start + len(values)
    last = bool(out["isLast"]) if "isLast" in out else following >= int(out.get("total") or 0)
    return Page(values, None if last or not values else str(following))
