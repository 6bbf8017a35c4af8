"""The CCJ reference's response samples round-trip: POST them, GET them, same keys and types.

The samples are the contract (tests/fixtures/ccj/, copied verbatim from the reference). teamcal
adds ``version``, ``created`` and ``updated`` to calendars and sources and ``permCalendarView`` to
the single-calendar form; nothing else may differ but the ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.ccj import ROOT, call

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ccj"
EXTRAS = {"version", "created", "updated", "permCalendarView"}
PERMISSIONS = (
    "publicCalendar",
    "calendarEditable",
    "permCalendarEdit",
    "eventsEditable",
    "permEventsEdit",
    "eventReporterEdit",
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def assert_same_shape(sample: Any, actual: Any, where: str = "$") -> None:
    """Same JSON types everywhere; ``actual`` has every key of ``sample`` and only EXTRAS beyond."""
    assert type(actual) is type(sample), f"{where}: {type(actual).__name__} instead of {type(sample).__name__}"
    if isinstance(sample, dict):
        assert set(sample) <= set(actual), f"{where}: missing {set(sample) - set(actual)}"
        assert set(actual) - set(sample) <= EXTRAS, f"{where}: unexpected {set(actual) - set(sample) - EXTRAS}"
        for key in sample:
            assert_same_shape(sample[key], actual[key], f"{where}.{key}")
    elif isinstance(sample, list):
        assert len(actual) == len(sample), f"{where}: {len(actual)} items instead of {len(sample)}"
        for i, (s, a) in enumerate(zip(sample, actual, strict=True)):
            assert_same_shape(s, a, f"{where}[{i}]")


def post_calendar(sample: dict[str, Any], ctx: Any) -> int:
    """POST the sample calendar (as an admin: the sample's owner is not the token's user), then
    its sources; returns the new calendar id."""
    body = {"value": sample["value"], "user": sample["user"], **{k: sample[k] for k in PERMISSIONS if k in sample}}
    status, created = call("calendars", "POST", "/calendar", body, token=ROOT, ctx=ctx)
    assert status == 200, created
    for source in sample["sources"]:
        status, made = call(
            "sources",
            "POST",
            "/source",
            {
                "eventTypeId": source["eventType"]["key"],
                "calendarConfigurationId": created["id"],
                "emailsEnabled": source["emailsEnabled"],
                "value": source["value"],
                "order": source["order"],
            },
            token=ROOT,
            ctx=ctx,
        )
        assert status == 200, made
    return int(created["id"])


def assert_round_trip(sample: dict[str, Any], actual: dict[str, Any], calendar_id: int) -> None:
    assert_same_shape(sample, actual)
    assert actual["id"] == calendar_id
    assert actual["value"] == sample["value"]  # byte for byte
    assert actual["user"] == sample["user"]
    for key in PERMISSIONS:
        if key in sample:
            assert actual[key] == sample[key]
    for s, a in zip(sample["sources"], actual["sources"], strict=True):
        assert a["value"] == s["value"]  # byte for byte
        assert a["eventType"] == s["eventType"]
        assert (a["order"], a["emailsEnabled"], a["calendarId"]) == (s["order"], s["emailsEnabled"], calendar_id)


def test_calendar_list_sample_round_trips(aws: None, lambda_context: Any) -> None:
    # Given the GET /calendar response sample, posted calendar by calendar and source by source
    sample = fixture("get-calendar-list.json")
    ids = [post_calendar(calendar, lambda_context) for calendar in sample]
    # When GET /calendar reads them back
    status, listed = call("calendars", "GET", "/calendar", token=ROOT, ctx=lambda_context)
    # Then the JSON has the sample's keys and types, and every value string is unchanged
    assert status == 200
    assert [c["id"] for c in listed] == ids
    assert_same_shape(sample, listed)
    for calendar, actual, calendar_id in zip(sample, listed, ids, strict=True):
        assert_round_trip(calendar, actual, calendar_id)


def test_single_calendar_sample_round_trips(aws: None, lambda_context: Any) -> None:
    sample = fixture("get-calendar.json")
    calendar_id = post_calendar(sample, lambda_context)
    status, actual = call("calendars", "GET", f"/calendar/{calendar_id}", token=ROOT, ctx=lambda_context)
    assert status == 200
    assert_round_trip(sample, actual, calendar_id)
    assert actual["permCalendarView"] == {"groups": [], "users": []}


def test_source_sample_round_trips_through_get_source(aws: None, lambda_context: Any) -> None:
    sample = fixture("get-calendar-list.json")[1]
    calendar_id = post_calendar(sample, lambda_context)
    _, calendar = call("calendars", "GET", f"/calendar/{calendar_id}", token=ROOT, ctx=lambda_context)
    for expected, listed in zip(sample["sources"], calendar["sources"], strict=True):
        status, source = call("sources", "GET", f"/source/{listed['id']}", token=ROOT, ctx=lambda_context)
        assert status == 200
        assert source == listed
        assert_same_shape(expected, source)


def test_public_calendar_request_sample_is_accepted(aws: None, lambda_context: Any) -> None:
    body = fixture("post-calendar-public.json")
    status, created = call("calendars", "POST", "/calendar", body, token=ROOT, ctx=lambda_context)
    assert status == 200
    assert created["value"] == body["value"]
    assert (created["publicCalendar"], created["calendarEditable"], created["eventsEditable"]) == (True, True, True)
    assert created["user"] == "userID"
