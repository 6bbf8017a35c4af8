"""iCalendar routes over real HTTP through the local stack: inline import, export (body and S3
snapshot fetched through its presigned URL), the upload path (presigned PUT to the bucket → the
S3 notification the stack drives → the import function), and a subscription feed read without
a token."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.e2e.conftest import StackClient

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
EVERY_FLAG = {"editCalendars": True, "deleteCalendars": True, "editSources": True, "deleteSources": True}


@pytest.fixture(scope="module")
def owner(stack: StackClient) -> str:
    created = stack.new_token(user=f"ical-{uuid.uuid4().hex[:6]}", allCalendars=True, **EVERY_FLAG)
    return str(created["token"])


def calendar(stack: StackClient, token: str) -> dict[str, Any]:
    value = json.dumps({"name": "ical e2e", "timeZone": "Europe/Berlin"})
    response = stack.call("POST", "/calendar", token, json={"publicCalendar": True, "value": value})
    assert response.status_code == 200, response.text
    return dict(response.json())


def summaries(stack: StackClient, token: str, calendar_id: int) -> list[str]:
    body = {"calendarId": calendar_id, "startDateIso": "2026-03-01T00:00:00Z", "endDateIso": "2026-05-01T00:00:00Z"}
    response = stack.call("POST", "/event/search", token, json=body)
    assert response.status_code == 200, response.text
    return sorted(v["summary"] for v in response.json()["values"])


def test_inline_import_then_export_and_snapshot(stack: StackClient, owner: str) -> None:
    # Given a calendar and Google's export sent as text/calendar
    cal = calendar(stack, owner)
    response = stack.call(
        "POST",
        f"/calendar/{cal['id']}/import",
        owner,
        headers={"Content-Type": "text/calendar"},
        data=(FIXTURES / "google.ics").read_bytes(),
    )
    # Then the job is done and the events are searchable
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["created"]) == ("SUCCEEDED", 4)
    assert "Weekly sync (moved to Tuesday)" in summaries(stack, owner, cal["id"])
    # When the calendar is exported as text/calendar
    exported = stack.call("GET", f"/calendar/{cal['id']}/export", owner, headers={"Accept": "text/calendar"})
    assert exported.status_code == 200
    assert exported.headers["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = icalendar.Calendar.from_ical(exported.content)
    assert len(list(parsed.walk("VEVENT"))) == 4  # the cancelled occurrence is an EXDATE now
    # and as a snapshot, whose presigned URL serves the same file from the bucket
    snapshot = stack.call("POST", f"/calendar/{cal['id']}/export", owner)
    assert snapshot.status_code == 201, snapshot.text
    download = stack.session.get(snapshot.json()["url"], timeout=30)
    assert download.status_code == 200
    assert download.content == exported.content


def test_upload_form_posted_to_the_bucket_runs_the_import(stack: StackClient, owner: str) -> None:
    # Given an upload ticket
    cal = calendar(stack, owner)
    ticket = stack.call("POST", f"/calendar/{cal['id']}/import-url", owner)
    assert ticket.status_code == 201, ticket.text
    job_id = ticket.json()["jobId"]
    # When the file is POSTed with the presigned form (straight to the bucket, not through the API)
    form = ticket.json()
    data = (FIXTURES / "outlook.ics").read_bytes()
    posted = stack.session.post(form["url"], data=form["fields"], files={"file": ("outlook.ics", data)}, timeout=30)
    assert posted.status_code in (200, 201, 204), posted.text
    # Then the bucket's notification runs the import function, and the job finishes
    deadline = time.monotonic() + 30
    while True:
        job = stack.call("GET", f"/import/{job_id}", owner).json()
        if job["status"] not in ("PENDING_UPLOAD", "RUNNING") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (job["status"], job["origin"], job["processed"], job["created"]) == ("SUCCEEDED", "upload", 3, 3)
    assert summaries(stack, owner, cal["id"]).count("Planning") == 5


def test_feed_is_read_without_a_token_and_revoked(stack: StackClient, owner: str) -> None:
    cal = calendar(stack, owner)
    created = stack.call("POST", f"/calendar/{cal['id']}/feed", owner)
    assert created.status_code == 201, created.text
    url = created.json()["url"]
    assert url.startswith(stack.url + "/rest/brizo-calendar/api/1/feed/")
    # a calendar app fetches it with no Authorization header
    feed = stack.session.get(url, timeout=30)
    assert feed.status_code == 200
    assert feed.headers["Content-Type"].startswith("text/calendar")
    assert icalendar.Calendar.from_ical(feed.content)["X-WR-CALNAME"].to_ical() == b"ical e2e"
    # once revoked, the same URL is a 404
    assert stack.call("DELETE", f"/calendar/{cal['id']}/feed", owner).status_code == 200
    assert stack.session.get(url, timeout=30).status_code == 404
