"""Helpers for the calendar, source and event type tests: call a handler, build tokens, seed data."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from typing import Any

from teamcal.auth.principal import Principal
from tests.conftest import api_event

MEETING_VALUE = json.dumps({"name": "Team meetings", "color": "#7500ca", "concurrence": "allow"})
CALENDAR_VALUE = json.dumps({"name": "Development", "description": "", "usersFromEvents": True})


def call(
    function: str, method: str, path: str, body: Any = None, *, token: dict[str, Any], ctx: Any, **kwargs: Any
) -> tuple[int, Any]:
    """Run ``functions/<function>/app.py`` on a REST proxy event; returns (status, parsed body)."""
    handler = importlib.import_module(f"functions.{function}.app").lambda_handler
    out = handler(api_event(method, path, body, authorizer=token, **kwargs), ctx)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else None


_ids = iter(range(100, 10_000))


def token(
    user: str = "ann",
    *,
    calendars: Iterable[int] | None = None,
    groups: Iterable[str] = (),
    edit_calendars: bool = False,
    delete_calendars: bool = False,
    edit_sources: bool = False,
    delete_sources: bool = False,
    admin: bool = False,
) -> dict[str, Any]:
    """An authorizer context; ``calendars=None`` means an all-calendars token."""
    return Principal(
        token_id=next(_ids),
        user=user,
        all_calendars=calendars is None,
        calendar_ids=frozenset(calendars or ()),
        groups=frozenset(groups),
        edit_calendars=edit_calendars,
        delete_calendars=delete_calendars,
        edit_sources=edit_sources,
        delete_sources=delete_sources,
        admin=admin,
    ).to_context()


def full(user: str = "ann", **kwargs: Any) -> dict[str, Any]:
    """An all-calendars token with every CCJ flag (not admin unless asked)."""
    flags = {"edit_calendars": True, "delete_calendars": True, "edit_sources": True, "delete_sources": True}
    return token(user, **{**flags, **kwargs})


ROOT = full("root", admin=True)


def new_calendar(ctx: Any, tok: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """POST /calendar (public unless told) and return the created calendar."""
    body = {"publicCalendar": True, "value": CALENDAR_VALUE, **fields}
    status, created = call("calendars", "POST", "/calendar", body, token=tok or ROOT, ctx=ctx)
    assert status == 200, created
    return dict(created)


def new_source(ctx: Any, calendar_id: int, tok: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """POST /source (a meeting source unless told) and return the created source."""
    body = {"eventTypeId": "meeting", "calendarConfigurationId": calendar_id, "value": MEETING_VALUE, **fields}
    status, created = call("sources", "POST", "/source", body, token=tok or ROOT, ctx=ctx)
    assert status == 200, created
    return dict(created)


def assert_jira_error(body: Any, field: str | None = None) -> None:
    """``body`` is Jira's error body (naming ``field`` when given)."""
    assert set(body) == {"errorMessages", "errors"}, body
    assert body["errorMessages"]
    assert all(isinstance(m, str) and m for m in body["errorMessages"])
    if field is not None:
        assert field in body["errors"], body
