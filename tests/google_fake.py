"""A fake Google: Calendar API v3 and the OAuth 2.0 token endpoint, served by werkzeug on 127.0.0.1.

The real google-api-python-client (its bundled discovery document) and google-auth talk HTTP to
it, so the tests exercise the same requests the function sends to Google. Implemented, with
Google's answers and error bodies ("Handle API errors" guide, RFC 6749 §5.2):

* ``GET /calendar/v3/users/me/calendarList``: the calendars an account can read;
* ``GET /calendar/v3/calendars/{calendarId}``: one calendar (anonymously with ``key=`` when it is
  public);
* ``GET /calendar/v3/calendars/{calendarId}/events``: ``singleEvents=false`` listings with
  ``maxResults`` / ``pageToken`` paging, ``nextSyncToken`` on the last page, incremental
  listings with ``syncToken`` (changes only, deletions as ``{"id", "status": "cancelled"}``),
  410 ``fullSyncRequired`` for an expired token, 400 for a sync token combined with filters;
* ``POST /token``: ``refresh_token``, ``authorization_code`` (redirect URI and PKCE S256
  checked) and JWT-bearer (service accounts: the assertion's RS256 signature is verified) grants;
  ``invalid_client``, ``invalid_grant``, ``redirect_uri_mismatch``;
* injected failures: 403 ``rateLimitExceeded`` (domain ``usageLimits``), 429, 500.

:meth:`GoogleFake.consent` plays the user on Google's consent page: it checks the authorization
URL the way Google would and returns the ``code`` and ``state`` Google would redirect with.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from google.auth import jwt
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

READONLY = "https://www.googleapis.com/auth/calendar.readonly"
_FILTERS_NOT_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "updatedMin",
    "q",
    "orderBy",
    "iCalUID",
    "privateExtendedProperty",
)


class ConsentError(Exception):
    """What Google's consent page would show instead of redirecting (``redirect_uri_mismatch``…)."""


@dataclass
class FakeCalendar:
    id: str
    summary: str
    time_zone: str = "UTC"
    public: bool = False
    readers: dict[str, str] = field(default_factory=dict)  # account -> accessRole
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> event (tombstones too)
    changed: dict[str, int] = field(default_factory=dict)  # id -> sequence of its last change
    min_sync: int = 0  # sync tokens below this are expired (410)


def _err(status: int, reason: str, message: str, domain: str = "global") -> Response:
    body = {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


def _oauth_err(status: int, error: str, description: str) -> Response:
    return Response(
        json.dumps({"error": error, "error_description": description}), status=status, content_type="application/json"
    )


def _token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _untoken(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(text.encode()))
    return data


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class GoogleFake:
    """The fake's state and controls (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self.calendars: dict[str, FakeCalendar] = {}
        self.clients: dict[str, tuple[str, set[str]]] = {}  # client id -> (secret, redirect URIs)
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (client id, account)
        self.access_tokens: dict[str, str] = {}  # token -> account
        self.service_accounts: dict[str, tuple[str, str]] = {}  # email -> (public key PEM, account)
        self.api_keys: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.failures: list[tuple[int, str]] = []  # next events.list answers (status, reason)
        self.reverse_listing = False  # list instances before their masters
        self._seq = itertools.count(1)
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ server
    def start(self) -> GoogleFake:
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
    def api_endpoint(self) -> str:
        return f"{self.url}/calendar/v3/"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def auth_uri(self) -> str:
        return f"{self.url}/o/oauth2/v2/auth"

    def count(self, path_part: str) -> int:
        """Requests whose path contains ``path_part`` (``"/events"``, ``"/token"``, …)."""
        with self._lock:
            return sum(1 for _, path, _ in self.requests if path_part in path)

    # ------------------------------------------------------------------ accounts and credentials
    def add_client(self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] = ()) -> None:
        self.clients[client_id] = (client_secret, set(redirect_uris))

    def grant(self, account: str, client_id: str) -> str:
        """A refresh token for ``account`` issued to ``client_id`` (as after a past consent)."""
        token = "1//" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = (client_id, account)
        return token

    def revoke(self, refresh_token: str) -> None:
        """The user revoked access: refreshes answer ``invalid_grant``; access tokens die too."""
        with self._lock:
            _, account = self.refresh_tokens.pop(refresh_token)
            for token in [t for t, a in self.access_tokens.items() if a == account]:
                del self.access_tokens[token]

    def add_service_account(self, email: str, public_key_pem: str, account: str) -> None:
        self.service_accounts[email] = (public_key_pem, account)

    # ------------------------------------------------------------------ calendars and events
    def add_calendar(
        self, calendar_id: str, summary: str, owner: str | None, *, public: bool = False, time_zone: str = "UTC"
    ) -> FakeCalendar:
        calendar = FakeCalendar(calendar_id, summary, time_zone, public, {owner: "owner"} if owner else {})
        self.calendars[calendar_id] = calendar
        return calendar

    def put(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an event (a master, a single event or an instance exception)."""
        with self._lock:
            seq = next(self._seq)
            stored = {
                "kind": "calendar#event",
                "status": "confirmed",
                **event,
                "etag": f'"{seq}"',
                "updated": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            }
            calendar = self.calendars[calendar_id]
            calendar.events[event["id"]] = stored
            calendar.changed[event["id"]] = seq
            return stored

    def delete(self, calendar_id: str, event_id: str) -> None:
        """Delete an event: incremental listings carry ``{"id", "status": "cancelled"}``."""
        with self._lock:
            seq = next(self._seq)
            calendar = self.calendars[calendar_id]
            calendar.events[event_id] = {
                "kind": "calendar#event",
                "etag": f'"{seq}"',
                "id": event_id,
                "status": "cancelled",
            }
            calendar.changed[event_id] = seq

    def cancel_instance(self, calendar_id: str, master_id: str, original: dict[str, str]) -> str:
        """Cancel one occurrence of a recurring event (Google keeps it as a cancelled instance)."""
        instance_id = f"{master_id}_{_stamp(original)}"
        self.put(
            calendar_id,
            {"id": instance_id, "status": "cancelled", "recurringEventId": master_id, "originalStartTime": original},
        )
        return instance_id

    def expire_sync_tokens(self, calendar_id: str) -> None:
        with self._lock:
            self.calendars[calendar_id].min_sync = next(self._seq)

    def fail_next(self, count: int, status: int = 403, reason: str = "rateLimitExceeded") -> None:
        """The next ``count`` events.list requests fail with ``status``."""
        with self._lock:
            self.failures.extend([(status, reason)] * count)

    # ------------------------------------------------------------------ consent page
    def consent(self, url: str, account: str) -> dict[str, str]:
        """The user allows access on Google's consent page: ``{"code", "state"}`` of the redirect.

        Raises:
            ConsentError: what Google shows instead (unknown client, redirect URI not registered,
                no offline access, a scope other than read-only, no PKCE S256).
        """
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise ConsentError("invalid_client: The OAuth client was not found.")
        if query.get("redirect_uri") not in client[1]:
            raise ConsentError("redirect_uri_mismatch")
        if query.get("scope") != READONLY or query.get("access_type") != "offline":
            raise ConsentError(f"unexpected scope / access_type: {query.get('scope')} {query.get('access_type')}")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise ConsentError("PKCE S256 is required")
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "client_id": query["client_id"],
            "redirect_uri": query["redirect_uri"],
            "challenge": query["code_challenge"],
            "account": account,
        }
        return {"code": code, "state": query.get("state", "")}

    # ------------------------------------------------------------------ HTTP
    def _wsgi(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path, dict(request.args)))
        try:
            response = self._route(request)
        except (KeyError, ValueError) as e:
            response = _err(400, "badRequest", f"bad request: {e}")
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path
        if path == "/token" and request.method == "POST":
            return self._token(request)
        prefix = "/calendar/v3/"
        if not path.startswith(prefix) or request.method != "GET":
            return _err(404, "notFound", "Not Found")
        rest = path[len(prefix) :]
        identity = self._identity(request)
        if isinstance(identity, Response):
            return identity
        if rest == "users/me/calendarList":
            return self._calendar_list(identity)
        parts = rest.split("/")
        if parts[0] != "calendars" or len(parts) not in (2, 3):
            return _err(404, "notFound", "Not Found")
        calendar = self.calendars.get(unquote(parts[1]))
        if calendar is None or not self._can_read(identity, calendar):
            return _err(404, "notFound", "Not Found")
        if len(parts) == 2:
            body = {
                "kind": "calendar#calendar",
                "id": calendar.id,
                "summary": calendar.summary,
                "timeZone": calendar.time_zone,
            }
            return Response(json.dumps(body), content_type="application/json")
        if parts[2] != "events":
            return _err(404, "notFound", "Not Found")
        return self._events(request, calendar)

    def _identity(self, request: Request) -> str | None | Response:
        """The account of a Bearer token, ``None`` for an anonymous request with a valid key."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            account = self.access_tokens.get(header[7:])
            if account is None:
                return _err(401, "authError", "Invalid Credentials")
            return account
        key = request.args.get("key")
        if key is None:
            return _err(401, "required", "Login Required.")
        if key not in self.api_keys:
            return _err(400, "keyInvalid", "API key not valid. Please pass a valid API key.", domain="usageLimits")
        return None

    def _can_read(self, identity: str | None, calendar: FakeCalendar) -> bool:
        return calendar.public if identity is None else identity in calendar.readers or calendar.public

    def _calendar_list(self, identity: str | None) -> Response:
        if identity is None:
            return _err(401, "required", "Login Required.")
        items = [
            {
                "kind": "calendar#calendarListEntry",
                "id": c.id,
                "summary": c.summary,
                "timeZone": c.time_zone,
                "accessRole": c.readers[identity],
                "primary": c.readers[identity] == "owner" and c.id == identity,
            }
            for c in self.calendars.values()
            if identity in c.readers
        ]
        return Response(json.dumps({"kind": "calendar#calendarList", "items": items}), content_type="application/json")

    def _events(self, request: Request, calendar: FakeCalendar) -> Response:
        args = request.args
        with self._lock:
            if self.failures:
                status, reason = self.failures.pop(0)
                domain = "usageLimits" if status == 403 else "global"
                return _err(status, reason, "Rate Limit Exceeded" if status in (403, 429) else "Backend Error", domain)
        if args.get("singleEvents", "false") != "false":
            return _err(400, "invalid", "this fake lists with singleEvents=false only")
        page_size = min(int(args.get("maxResults", "250")), 2500)
        if args.get("pageToken"):
            cursor = _untoken(args["pageToken"])
        else:
            since = None
            if args.get("syncToken"):
                if any(args.get(f) for f in _FILTERS_NOT_WITH_SYNC_TOKEN):
                    return _err(400, "invalid", "Sync token cannot be used with other request restrictions.")
                since = int(_untoken(args["syncToken"])["s"])
            cursor = {"o": 0, "since": since, "upto": max(calendar.changed.values(), default=0)}
        since = cursor["since"]
        if since is not None and since < calendar.min_sync:
            return _err(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
        with self._lock:
            chosen = [
                (calendar.changed[i], e)
                for i, e in calendar.events.items()
                if calendar.changed[i] <= cursor["upto"]
                and (since is not None and calendar.changed[i] > since or since is None and _listed(e))
            ]
        chosen.sort(key=lambda pair: pair[0], reverse=self.reverse_listing and since is None)
        offset = int(cursor["o"])
        items = [e for _, e in chosen[offset : offset + page_size]]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar.summary,
            "timeZone": calendar.time_zone,
            "items": items,
        }
        if offset + page_size < len(chosen):
            body["nextPageToken"] = _token({**cursor, "o": offset + page_size})
        else:
            body["nextSyncToken"] = _token({"s": cursor["upto"]})
        return Response(json.dumps(body), content_type="application/json")

    def _token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._jwt_grant(form.get("assertion", ""))
        client = self.clients.get(form.get("client_id", ""))
        if client is None or client[0] != form.get("client_secret"):
            return _oauth_err(401, "invalid_client", "The OAuth client was not found.")
        if grant == "refresh_token":
            owner = self.refresh_tokens.get(form.get("refresh_token", ""))
            if owner is None or owner[0] != form["client_id"]:
                return _oauth_err(400, "invalid_grant", "Token has been expired or revoked.")
            return self._issue(owner[1])
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["client_id"] != form["client_id"]:
                return _oauth_err(400, "invalid_grant", "Malformed auth code.")
            if form.get("redirect_uri") != code["redirect_uri"] or form.get("redirect_uri") not in client[1]:
                return _oauth_err(400, "redirect_uri_mismatch", "Bad Request")
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != code["challenge"]:
                return _oauth_err(400, "invalid_grant", "Missing code verifier.")
            refresh = self.grant(code["account"], form["client_id"])
            return self._issue(code["account"], refresh)
        return _oauth_err(400, "unsupported_grant_type", "Invalid grant_type.")

    def _jwt_grant(self, assertion: str) -> Response:
        unverified = jwt.decode(assertion, verify=False)
        known = self.service_accounts.get(str(unverified.get("iss")))
        if known is None:
            return _oauth_err(400, "invalid_grant", "Invalid grant: account not found")
        try:
            # google-auth addresses the assertion to Google's token endpoint, whatever token_uri is
            jwt.decode(assertion, certs=known[0], audience="https://oauth2.googleapis.com/token")
        except ValueError:
            return _oauth_err(400, "invalid_grant", "Invalid JWT Signature.")
        if unverified.get("scope") != READONLY:
            return _oauth_err(400, "invalid_scope", "Invalid scope")
        return self._issue(known[1])

    def _issue(self, account: str, refresh_token: str | None = None) -> Response:
        access = "ya29." + secrets.token_urlsafe(24)
        with self._lock:
            self.access_tokens[access] = account
        body: dict[str, Any] = {"access_token": access, "expires_in": 3599, "token_type": "Bearer", "scope": READONLY}
        if refresh_token:
            body["refresh_token"] = refresh_token
        return Response(json.dumps(body), content_type="application/json")


def _ms(when: dict[str, str]) -> int:
    if "date" in when:
        day = dt.date.fromisoformat(when["date"])
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    return int(dt.datetime.fromisoformat(when["dateTime"]).timestamp() * 1000)


def shown(fake: GoogleFake, calendar_id: str, start_ms: int, end_ms: int) -> list[tuple[int, str | None]]:
    """What Google shows in ``[start_ms, end_ms)``: ``(start epoch ms, summary)`` of every
    occurrence starting there, recurring events expanded the way Google expands them
    (``singleEvents=true``), computed independently of teamcal with dateutil's RFC 5545 parser:
    RRULE / RDATE / EXDATE from the master's lines, cancelled instances removed, modified
    instances in their new place. All-day dates count as UTC midnight (teamcal's convention)."""
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr

    events = [
        e
        for e in fake.calendars[calendar_id].events.values()
        if e.get("status") != "cancelled" or "recurringEventId" in e
    ]
    instances = {(e["recurringEventId"], _ms(e["originalStartTime"])): e for e in events if "recurringEventId" in e}
    out: list[tuple[int, str | None]] = []
    for event in events:
        if "recurringEventId" in event:
            continue
        if not event.get("recurrence"):
            if start_ms <= _ms(event["start"]) < end_ms:
                out.append((_ms(event["start"]), event.get("summary")))
            continue
        start = event["start"]
        if "date" in start:
            head = f"DTSTART;VALUE=DATE:{start['date'].replace('-', '')}"
        else:
            zone = start.get("timeZone") or "UTC"
            local = dt.datetime.fromisoformat(start["dateTime"]).astimezone(ZoneInfo(zone))
            head = f"DTSTART;TZID={zone}:{local.strftime('%Y%m%dT%H%M%S')}"
        rules = rrulestr("\n".join([head, *event["recurrence"]]), forceset=True, tzids=ZoneInfo)
        for occurrence in rules:
            original = occurrence if occurrence.tzinfo else occurrence.replace(tzinfo=dt.UTC)
            ms = int(original.timestamp() * 1000)
            if ms >= end_ms + 366 * 86_400_000:
                break
            moved = instances.get((event["id"], ms))
            if moved is not None:
                if moved.get("status") == "cancelled":
                    continue
                ms, summary = _ms(moved["start"]), moved.get("summary")
            else:
                summary = event.get("summary")
            if start_ms <= ms < end_ms:
                out.append((ms, summary))
    return sorted(out, key=lambda pair: (pair[0], pair[1] or ""))


def _listed(event: dict[str, Any]) -> bool:
    """Full listings (``showDeleted=false``, ``singleEvents=false``) skip deleted events but keep
    cancelled instances of recurring events (Calendar API, events.list ``showDeleted``)."""
    return event.get("status") != "cancelled" or "recurringEventId" in event


def _stamp(original: dict[str, str]) -> str:
    if "date" in original:
        return original["date"].replace("-", "")
    when = dt.datetime.fromisoformat(original["dateTime"]).astimezone(dt.UTC)
    return when.strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------------------- event builders
def timed(event_id: str, start: str, end: str, zone: str = "UTC", **extra: Any) -> dict[str, Any]:
    """An event JSON with ``dateTime`` start/end (RFC 3339 with offset) in ``zone``."""
    return {
        "id": event_id,
        "start": {"dateTime": start, "timeZone": zone},
        "end": {"dateTime": end, "timeZone": zone},
        **extra,
    }


def all_day(event_id: str, first: str, end_exclusive: str, **extra: Any) -> dict[str, Any]:
    """An all-day event JSON (Google's end date is EXCLUSIVE)."""
    return {"id": event_id, "start": {"date": first}, "end": {"date": end_exclusive}, **extra}


def instance(
    master_id: str, original: dict[str, str], start: dict[str, str], end: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """A modified occurrence (exception) of ``master_id`` whose original start is ``original``."""
    return {
        "id": f"{master_id}_{_stamp(original)}",
        "recurringEventId": master_id,
        "originalStartTime": original,
        "start": start,
        "end": end,
        **extra,
    }


@contextmanager
def running() -> Iterator[GoogleFake]:
    """A started fake, stopped on exit."""
    fake = GoogleFake().start()
    try:
        yield fake
    finally:
        fake.stop()
