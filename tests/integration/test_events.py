"""The events function in-process against moto: create, edit (all / current / following),
delete, delete …/recur, search, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamcal.models.common import RESPONSE_BYTE_BUDGET
from teamcal.services.events import PAGE_CAP, SEARCH_CAP
from tests.integration.ccj import ROOT, call, full, new_calendar, new_source, token

pytestmark = pytest.mark.integration

HOUR = 3_600_000
DAY = 24 * HOUR
# Monday 2026-03-02 09:00 Europe/Berlin (CET, UTC+1) = 08:00Z
MAR2_0900_BERLIN = 1_772_438_400_000


def ev(ctx: Any, method: str, path: str, body: Any = None, tok: dict[str, Any] | None = None) -> tuple[int, Any]:
    return call("events", method, path, body, token=tok or ROOT, ctx=ctx)


@pytest.fixture
def setup(aws: None, lambda_context: Any) -> dict[str, Any]:
    calendar = new_calendar(lambda_context, value=json.dumps({"name": "Dev", "timeZone": "Europe/Berlin"}))
    source = new_source(lambda_context, calendar["id"])
    return {"ctx": lambda_context, "calendar": calendar, "source": source}


def search(setup: dict[str, Any], start: int, end: int, **extra: Any) -> list[dict[str, Any]]:
    status, page = ev(
        setup["ctx"],
        "POST",
        "/event/search",
        {"calendarId": setup["calendar"]["id"], "startDate": start, "endDate": end, **extra},
    )
    assert status == 200, page
    assert page["total"] == len(page["values"]) or "maxResults" in extra
    return list(page["values"])


def weekly(setup: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "mode": "add",
        "event": {
            "summary": "standup",
            "eventTypeConfigId": setup["source"]["id"],
            "startDate": MAR2_0900_BERLIN,
            "endDate": MAR2_0900_BERLIN + HOUR,
            "recurrence": "FREQ=WEEKLY;COUNT=10",
            **extra,
        },
    }
    status, created = ev(setup["ctx"], "POST", "/event", body)
    assert status == 200, created
    return dict(created)


def test_create_single_timed_event_and_read_it_back(setup: dict[str, Any]) -> None:
    body = {
        "mode": "add",
        "event": {
            "summary": "1:1",
            "eventTypeConfigId": setup["source"]["id"],
            "startDate": 1_728_367_200_000,
            "endDate": 1_728_369_900_000,
            "userKeys": ["u1"],
        },
    }
    status, created = ev(setup["ctx"], "POST", "/event", body)
    assert status == 200
    assert created["calendarId"] == setup["calendar"]["id"]
    assert created["reporter"] == "root"
    assert created["version"] == 1
    assert created["timeZone"] == "Europe/Berlin"  # the calendar's zone
    assert created["allDay"] is False
    status, got = ev(setup["ctx"], "GET", f"/event/{created['id']}")
    assert status == 200
    assert got == created


def test_all_day_event_keeps_its_inclusive_dates(setup: dict[str, Any]) -> None:
    body = {
        "event": {
            "summary": "vacation",
            "eventTypeConfigId": setup["source"]["id"],
            "allDayStart": "2026-03-30",
            "allDayEnd": "2026-04-01",
        }
    }
    status, created = ev(setup["ctx"], "POST", "/event", body)
    assert status == 200
    assert (created["allDayStart"], created["allDayEnd"]) == ("2026-03-30", "2026-04-01")
    found = search(setup, 1_774_828_800_000, 1_774_828_800_000 + 5 * DAY)  # 2026-03-30T00:00Z
    assert [(f["allDayStart"], f["allDayEnd"]) for f in found] == [("2026-03-30", "2026-04-01")]


def test_weekly_series_keeps_local_time_across_dst(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    found = search(setup, MAR2_0900_BERLIN - DAY, MAR2_0900_BERLIN + 50 * DAY)
    assert len(found) == 8
    assert all(f["id"] == master["id"] and f["parentId"] == master["id"] for f in found)
    # 2026-03-29 Berlin moves to CEST: 09:00 local is 07:00Z from then on
    assert found[3]["startDate"] - found[3]["startDate"] % DAY + 8 * HOUR == found[3]["startDate"]
    assert found[4]["startDate"] % DAY == 7 * HOUR
    assert [f["recurrenceId"] for f in found[:2]] == ["20260302", "20260309"]


def test_edit_current_moves_one_occurrence_and_never_duplicates(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    # When the 2nd occurrence moves to the next day
    body = {
        "mode": "edit",
        "select": "current",
        "event": {
            "parentId": master["id"],
            "recurrenceId": "20260309",
            "startDate": MAR2_0900_BERLIN + 8 * DAY,
            "endDate": MAR2_0900_BERLIN + 8 * DAY + HOUR,
            "summary": "moved",
        },
    }
    status, child = ev(setup["ctx"], "PUT", "/event", body)
    assert status == 200, child
    assert child["parentId"] == master["id"]
    assert child["recurrenceId"] == "20260309"
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 14 * DAY)
    assert [(f["id"], f["summary"]) for f in found] == [(master["id"], "standup"), (child["id"], "moved")]
    # a window holding only the original date shows nothing for it
    assert search(setup, MAR2_0900_BERLIN + 7 * DAY, MAR2_0900_BERLIN + 7 * DAY + HOUR) == []
    # editing the same occurrence again updates the same child
    body["event"]["summary"] = "moved again"
    status, again = ev(setup["ctx"], "PUT", "/event", body)
    assert status == 200
    assert again["id"] == child["id"]
    assert again["version"] == 2


def test_edit_all_keeps_exceptions(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    ev(
        setup["ctx"],
        "PUT",
        "/event",
        {
            "mode": "edit",
            "select": "current",
            "event": {"parentId": master["id"], "recurrenceId": "20260309", "summary": "special"},
        },
    )
    status, edited = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {"mode": "edit", "select": "all", "event": {"id": master["id"], "summary": "daily sync"}},
    )
    assert status == 200
    assert edited["version"] > master["version"]
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 15 * DAY)
    assert [f["summary"] for f in found] == ["daily sync", "special", "daily sync"]


def test_edit_following_splits_the_series(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    status, new = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {
            "mode": "edit",
            "select": "following",
            "event": {"id": master["id"], "recurrenceId": "20260323", "summary": "new format"},
        },
    )
    assert status == 200, new
    assert new["id"] != master["id"]
    assert "COUNT=7" in new["recurrence"]
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 91 * DAY)
    assert [f["summary"] for f in found] == ["standup"] * 3 + ["new format"] * 7
    status, old = ev(setup["ctx"], "GET", f"/event/{master['id']}")
    assert "COUNT=3" in old["recurrence"]


def test_a_split_takes_the_exceptions_after_it_to_the_new_series(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    for rid, summary in (("20260309", "before split"), ("20260330", "after split")):
        status, _ = ev(
            setup["ctx"],
            "PUT",
            "/event",
            {
                "mode": "edit",
                "select": "current",
                "event": {"parentId": master["id"], "recurrenceId": rid, "summary": summary},
            },
        )
        assert status == 200
    status, new = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {
            "mode": "edit",
            "select": "following",
            "event": {"id": master["id"], "recurrenceId": "20260323", "summary": "new format"},
        },
    )
    assert status == 200, new
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 91 * DAY)
    summaries = [f["summary"] for f in found]
    assert summaries == ["standup", "before split", "standup", "new format", "after split"] + ["new format"] * 5
    by_summary = {f["summary"]: f for f in found}
    assert by_summary["before split"]["parentId"] == master["id"]
    assert by_summary["after split"]["parentId"] == new["id"]


def test_delete_recur_exdate_removes_one_occurrence_for_good(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    status, updated = ev(
        setup["ctx"],
        "DELETE",
        f"/event/{master['id']}/recur",
        {"mode": "delete", "select": "current", "exdate": "2026-03-16"},
    )
    assert status == 200, updated
    assert updated["exdate"] == ["20260316"]
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 22 * DAY)
    assert [f["recurrenceId"] for f in found] == ["20260302", "20260309", "20260323"]


def test_deleting_a_child_cancels_that_occurrence(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    _, child = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {"mode": "edit", "select": "current", "event": {"parentId": master["id"], "recurrenceId": "20260309"}},
    )
    status, _ = ev(setup["ctx"], "DELETE", f"/event/{child['id']}/recur", {"mode": "delete", "select": "current"})
    assert status == 200
    found = search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 14 * DAY)
    assert [f["recurrenceId"] for f in found] == ["20260302"]
    assert ev(setup["ctx"], "GET", f"/event/{child['id']}")[0] == 404


def test_delete_master_removes_the_whole_chain(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    _, child = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {"mode": "edit", "select": "current", "event": {"parentId": master["id"], "recurrenceId": "20260309"}},
    )
    status, deleted = ev(setup["ctx"], "DELETE", f"/event/{master['id']}")
    assert status == 200
    assert deleted["id"] == master["id"]
    assert search(setup, MAR2_0900_BERLIN, MAR2_0900_BERLIN + 91 * DAY) == []
    assert ev(setup["ctx"], "GET", f"/event/{child['id']}")[0] == 404


def test_stale_version_is_409_and_changes_nothing(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    first = {"mode": "edit", "event": {"id": master["id"], "summary": "a", "version": 1}}
    assert ev(setup["ctx"], "PUT", "/event", first)[0] == 200
    status, body = ev(
        setup["ctx"], "PUT", "/event", {"mode": "edit", "event": {"id": master["id"], "summary": "b", "version": 1}}
    )
    assert status == 409
    assert body["errorMessages"]
    assert ev(setup["ctx"], "GET", f"/event/{master['id']}")[1]["summary"] == "a"


def test_search_by_source_and_paging(setup: dict[str, Any]) -> None:
    weekly(setup)
    status, page = ev(
        setup["ctx"],
        "POST",
        "/event/search",
        {
            "sourceId": setup["source"]["id"],
            "startDateIso": "2026-03-01T00:00:00+01:00",
            "endDateIso": "2026-05-01",
            "maxResults": 4,
            "startAt": 4,
        },
    )
    assert status == 200
    assert (page["total"], page["startAt"], page["maxResults"], page["isLast"]) == (9, 4, 4, False)
    assert len(page["values"]) == 4


def test_unbounded_secondly_rule_is_capped(setup: dict[str, Any]) -> None:
    weekly(setup, recurrence="FREQ=SECONDLY", endDate=MAR2_0900_BERLIN + 1000)
    status, page = ev(
        setup["ctx"],
        "POST",
        "/event/search",
        {
            "calendarId": setup["calendar"]["id"],
            "startDate": MAR2_0900_BERLIN,
            "endDate": MAR2_0900_BERLIN + 30 * DAY,
            "maxResults": 1,
        },
    )
    assert status == 200
    assert page["truncated"] is True
    assert page["total"] == SEARCH_CAP
    # without maxResults a response carries at most PAGE_CAP values and says more exist
    status, page = ev(
        setup["ctx"],
        "POST",
        "/event/search",
        {"calendarId": setup["calendar"]["id"], "startDate": MAR2_0900_BERLIN, "endDate": MAR2_0900_BERLIN + DAY},
    )
    assert status == 200
    # (and fewer when PAGE_CAP values would pass the response byte budget)
    assert (page["total"], page["maxResults"], page["isLast"]) == (SEARCH_CAP, PAGE_CAP, False)
    assert 0 < len(page["values"]) <= PAGE_CAP
    assert len(json.dumps(page).encode()) < RESPONSE_BYTE_BUDGET + 100_000


def test_scope_and_permissions(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    other = token("eve", calendars=[999])
    assert ev(setup["ctx"], "GET", f"/event/{master['id']}", tok=other)[0] == 404
    status, _ = ev(
        setup["ctx"],
        "POST",
        "/event/search",
        {"calendarId": setup["calendar"]["id"], "startDate": 0, "endDate": DAY},
        tok=other,
    )
    assert status == 404
    viewer = full("bob")  # public calendar, events not editable by others
    assert ev(setup["ctx"], "GET", f"/event/{master['id']}", tok=viewer)[0] == 200
    status, body = ev(setup["ctx"], "PUT", "/event", {"event": {"id": master["id"], "summary": "x"}}, tok=viewer)
    assert status == 403


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            {"startDate": MAR2_0900_BERLIN, "endDate": MAR2_0900_BERLIN + HOUR, "recurrence": "FREQ=SOMETIMES"},
            "recurrence",
        ),
        ({"startDate": MAR2_0900_BERLIN, "endDate": MAR2_0900_BERLIN + HOUR, "timeZone": "Mars/Olympus"}, "timeZone"),
        ({"startDate": MAR2_0900_BERLIN, "endDate": MAR2_0900_BERLIN - 1}, "endDate"),
        ({"startDate": MAR2_0900_BERLIN, "allDayStart": "2026-03-02"}, "allDayStart"),
        ({"allDayStart": "2026-02-30"}, "allDayStart"),
        ({"startDate": "soon"}, "event.startDate"),
        (
            {
                "startDate": MAR2_0900_BERLIN,
                "endDate": MAR2_0900_BERLIN + HOUR,
                "recurrence": "FREQ=DAILY",
                "exdate": ["03/09/2026"],
            },
            "exdate",
        ),
        ({}, "startDate"),
    ],
)
def test_bad_event_fields_are_400_naming_the_field(setup: dict[str, Any], event: dict[str, Any], field: str) -> None:
    status, body = ev(setup["ctx"], "POST", "/event", {"event": {"eventTypeConfigId": setup["source"]["id"], **event}})
    assert status == 400, body
    assert field in body["errors"], body


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"startDate": 0, "endDate": 92 * DAY}, "endDate"),
        ({"startDate": DAY, "endDate": DAY}, "endDate"),
        ({"endDate": DAY}, "startDate"),
        ({"startDateIso": "yesterday", "endDate": DAY}, "startDateIso"),
    ],
)
def test_bad_search_is_400(setup: dict[str, Any], request_body: dict[str, Any], field: str) -> None:
    status, body = ev(setup["ctx"], "POST", "/event/search", {"calendarId": setup["calendar"]["id"], **request_body})
    assert status == 400
    assert field in body["errors"]


def test_search_needs_exactly_one_target(setup: dict[str, Any]) -> None:
    for extra in ({}, {"calendarId": setup["calendar"]["id"], "sourceId": setup["source"]["id"]}):
        status, body = ev(setup["ctx"], "POST", "/event/search", {"startDate": 0, "endDate": DAY, **extra})
        assert status == 400
        assert body["errorMessages"]


def test_put_without_id_is_400_missing_event_id(setup: dict[str, Any]) -> None:
    status, body = ev(setup["ctx"], "PUT", "/event", {"mode": "edit", "event": {"summary": "x"}})
    assert status == 400
    assert body["errorMessages"] == ["Missing event ID"]


def test_recurrence_id_matching_no_occurrence_is_400(setup: dict[str, Any]) -> None:
    master = weekly(setup)
    status, body = ev(
        setup["ctx"],
        "PUT",
        "/event",
        {"mode": "edit", "select": "current", "event": {"parentId": master["id"], "recurrenceId": "20260310"}},
    )
    assert status == 400
    assert "recurrenceId" in body["errors"]


def test_jira_sources_take_no_events(setup: dict[str, Any]) -> None:
    jira = new_source(
        setup["ctx"],
        setup["calendar"]["id"],
        eventTypeId="jira",
        value=json.dumps({"name": "JD", "color": "#cc6fcc", "singleDates": ["duedate"]}),
    )
    status, body = ev(
        setup["ctx"], "POST", "/event", {"event": {"eventTypeConfigId": jira["id"], "allDayStart": "2026-03-02"}}
    )
    assert status == 400
    assert "eventTypeConfigId" in body["errors"]


def test_delete_rereads_when_the_series_changed_between_read_and_write(
    setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a series and a writer that slips in once between our read and our write
    from functions.events import app
    from teamcal.errors import ConflictError

    master = weekly(setup)
    repo = app.stores().events
    real_commit = repo.commit
    calls = {"n": 0}

    def racing_commit(**kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConflictError("the event was changed by another request")
        real_commit(**kwargs)

    monkeypatch.setattr(repo, "commit", racing_commit)
    # When the client cancels an occurrence (no version of its own to defend)
    status, updated = ev(
        setup["ctx"],
        "DELETE",
        f"/event/{master['id']}/recur",
        {"mode": "delete", "select": "current", "exdate": "20260316"},
    )
    # Then the service re-read and succeeded on the second try
    assert status == 200, updated
    assert updated["exdate"] == ["20260316"]
    assert calls["n"] == 2
