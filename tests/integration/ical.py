"""Helpers for the iCalendar tests: call the ical function in-process, search a calendar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack.template import create_resources
from functions.ical import app as ical_app
from tests.conftest import TEMPLATE, api_event
from tests.integration.ccj import ROOT, call, new_calendar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"


@contextmanager
def moto_resources() -> Iterator[None]:
    """moto in-process with the template's resources, for a whole test module (creating them
    costs about half a second; each test makes its own calendar, so tests stay independent)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        create_resources(TEMPLATE, boto3)
        yield


def fixture(name: str) -> str:
    """A provider-shaped .ics fixture by name (``google.ics``)."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def ical(
    method: str,
    path: str,
    ctx: Any,
    *,
    token: dict[str, Any] | None = ROOT,
    raw: str | None = None,
    content_type: str = "text/calendar",
    query: dict[str, str] | None = None,
    base64_body: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """Run ``functions/ical`` on a REST event; (status, body: JSON-parsed unless text/calendar,
    headers). ``token=None`` sends no authorizer context (the feed route)."""
    event = api_event(
        method,
        path,
        authorizer=token,
        raw_body=raw,
        base64_body=base64_body,
        query=query,
        headers={"Content-Type": content_type},
    )
    if token is None:
        event["requestContext"].pop("authorizer", None)
    out = ical_app.lambda_handler(event, ctx)
    headers = {k: v[-1] for k, v in (out.get("multiValueHeaders") or {}).items()}
    headers.update(out.get("headers") or {})
    body = out.get("body")
    if body and not headers.get("Content-Type", "").startswith("text/calendar"):
        body = json.loads(body)
    return out["statusCode"], body, headers


def zoned_calendar(ctx: Any, zone: str = "Europe/Berlin", name: str = "Team") -> dict[str, Any]:
    """A public calendar whose ``value.timeZone`` is ``zone``."""
    return new_calendar(ctx, value=json.dumps({"name": name, "timeZone": zone}))


def search(ctx: Any, calendar_id: int, start_iso: str, end_iso: str) -> list[dict[str, Any]]:
    """Every occurrence of the calendar in [start, end) (POST /event/search)."""
    status, page = call(
        "events",
        "POST",
        "/event/search",
        {"calendarId": calendar_id, "startDateIso": start_iso, "endDateIso": end_iso},
        token=ROOT,
        ctx=ctx,
    )
    assert status == 200, page
    return list(page["values"])


def import_ics(ctx: Any, calendar_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """POST /calendar/{id}/import; asserts 202 and returns the job."""
    status, job, _ = ical("POST", f"/calendar/{calendar_id}/import", ctx, raw=text, **kwargs)
    assert status == 202, job
    return dict(job)
