"""The pure mapping of Jira-backed source values, issues, sprints and versions to events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teamcal.jira.errors import JiraConfigError
from teamcal.jira.mapping import (
    check_fields,
    issue_events,
    issue_jql,
    jql_instant,
    parse_source,
    sprint_event,
    version_event,
)
from teamcal.models.sources import SourceRecord


def _source(kind: str, **value: Any) -> SourceRecord:
    return SourceRecord(
        id=7,
        calendar_id=1,
        event_type_key=kind,
        order=1,
        value=json.dumps({"name": "Src", "color": "#000000", **value}),
        version=1,
        created=0,
        updated=0,
    )


CCJ_JIRA = {"singleDates": ["duedate"], "dateRanges": [], "projectId": -1, "summaryFromSourceName": False}


def test_ccj_sample_values_parse() -> None:
    jira = parse_source(_source("jira", **CCJ_JIRA))
    assert (jira.project_id, jira.single_dates, jira.date_ranges) == (None, ("duedate",), ())
    sprint = parse_source(_source("sprint", boardId=132, projectId=10336, show=0, state=0))
    assert (sprint.board_id, sprint.states, sprint.show) == (132, frozenset(), 0)
    version = parse_source(_source("version", projectId=10371, show=0, releasedStatus=0))
    assert (version.project_id, version.released) == (10371, None)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("jira", {"singleDates": [], "dateRanges": []}, "at least one field"),
        ("jira", {"singleDates": "duedate"}, "list of field ids"),
        ("jira", {"singleDates": ["duedate"], "dateRanges": [["a"]]}, "each range is"),
        ("sprint", {"state": 0}, "boardId"),
        ("sprint", {"boardId": 1, "state": 9}, "state"),
        ("version", {"projectId": -1}, "projectId"),
        ("version", {"projectId": 3, "releasedStatus": 5}, "releasedStatus"),
    ],
)
def test_unusable_values_are_configuration_errors(kind: str, value: dict[str, Any], message: str) -> None:
    with pytest.raises(JiraConfigError, match=message):
        parse_source(_source(kind, **value))


def test_range_forms_and_the_fingerprint_follow_the_value() -> None:
    listed = parse_source(_source("jira", dateRanges=[["customfield_1", "duedate"]]))
    mapped = parse_source(_source("jira", dateRanges=[{"start": "customfield_1", "end": "duedate"}]))
    assert listed.date_ranges == mapped.date_ranges == (("customfield_1", "duedate"),)
    assert listed.fingerprint() == mapped.fingerprint()
    assert parse_source(_source("jira", singleDates=["duedate"])).fingerprint() != listed.fingerprint()


def _issue(**fields: Any) -> dict[str, Any]:
    return {"id": "10001", "key": "DEV-1", "fields": {"summary": "Ship it", **fields}}


def test_date_fields_are_all_day_and_date_time_fields_timed() -> None:
    config = parse_source(_source("jira", singleDates=["duedate", "customfield_2"]))
    events = issue_events(
        config, _issue(duedate="2026-12-10", customfield_2="2026-12-01T10:00:00.000+0100"), {}, "Europe/Berlin", "S"
    )
    due, timed = events
    assert (due.key, due.fields["allDay"], due.fields["allDayStart"], due.fields["allDayEnd"]) == (
        "issue:10001:duedate",
        True,
        "2026-12-10",
        "2026-12-10",
    )
    assert timed.fields["allDay"] is False
    assert timed.fields["startDate"] == 1_796_115_600_000  # 09:00Z
    assert due.fields["summary"] == "DEV-1 Ship it"


def test_ranges_need_their_start_and_end_before_start_is_the_start_alone() -> None:
    config = parse_source(_source("jira", dateRanges=[["customfield_1", "duedate"]]))
    assert issue_events(config, _issue(duedate="2026-12-10"), {}, "UTC", "S") == []
    (one,) = issue_events(config, _issue(customfield_1="2026-12-05"), {}, "UTC", "S")
    assert (one.fields["allDayStart"], one.fields["allDayEnd"]) == ("2026-12-05", "2026-12-05")
    (back,) = issue_events(config, _issue(customfield_1="2026-12-05", duedate="2026-12-01"), {}, "UTC", "S")
    assert back.fields["allDayEnd"] == "2026-12-05"
    (mixed,) = issue_events(
        config, _issue(customfield_1="2026-12-05T08:00:00.000Z", duedate="2026-12-06"), {}, "UTC", "S"
    )
    assert (mixed.fields["allDay"], mixed.fields["endDate"]) == (False, 1_796_601_600_000)  # end of 12-06


def test_summary_from_source_name() -> None:
    config = parse_source(_source("jira", singleDates=["duedate"], summaryFromSourceName=True))
    (event,) = issue_events(config, _issue(duedate="2026-12-10"), {}, "UTC", "S")
    assert event.fields["summary"] == "Src"


SPRINT = {
    "id": 5,
    "name": "Sprint 5",
    "state": "closed",
    "startDate": "2026-11-02T09:00:00.000Z",
    "endDate": "2026-11-13T17:00:00.000Z",
    "completeDate": "2026-11-12T12:00:00.000Z",
}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"state": 0}, (1_793_610_000_000, 1_794_484_800_000)),  # start .. completeDate
        ({"state": 3, "show": 1}, (1_794_484_800_000, 1_794_484_800_000)),
        ({"state": "closed", "show": 2}, (1_793_610_000_000, 1_793_610_000_000)),
        ({"state": 1}, None),
        ({"state": ["active", "future"]}, None),
    ],
)
def test_sprint_state_filter_and_show(value: dict[str, Any], shown: tuple[int, int] | None) -> None:
    event = sprint_event(parse_source(_source("sprint", boardId=1, **value)), SPRINT, "UTC")
    assert (None if event is None else (event.fields["startDate"], event.fields["endDate"])) == shown


def test_versions_by_released_status_archived_hidden_and_ranges() -> None:
    released = {"id": "1", "name": "1.0", "released": True, "releaseDate": "2026-11-20", "startDate": "2026-11-01"}
    planned = {"id": "2", "name": "1.1", "released": False, "releaseDate": "2026-12-18"}
    archived = {**planned, "id": "3", "archived": True}
    every = parse_source(_source("version", projectId=1, releasedStatus=0))
    assert version_event(every, released, "UTC").fields["allDayStart"] == "2026-11-01"  # type: ignore[union-attr]
    assert version_event(every, archived, "UTC") is None
    only_release = parse_source(_source("version", projectId=1, show=1))
    assert version_event(only_release, released, "UTC").fields["allDayStart"] == "2026-11-20"  # type: ignore[union-attr]
    unreleased = parse_source(_source("version", projectId=1, releasedStatus=1))
    assert version_event(unreleased, released, "UTC") is None
    assert version_event(unreleased, planned, "UTC") is not None
    assert version_event(parse_source(_source("version", projectId=1, releasedStatus=2)), planned, "UTC") is None


def test_field_check_names_unknown_and_non_date_fields() -> None:
    config = parse_source(_source("jira", singleDates=["duedate", "customfield_9"]))
    with pytest.raises(JiraConfigError, match="no field 'customfield_9'"):
        check_fields(config, {"duedate": "date"})
    with pytest.raises(JiraConfigError, match="not a date"):
        check_fields(config, {"duedate": "date", "customfield_9": "string"})
    check_fields(config, {"duedate": "date", "customfield_9": "datetime"})


def test_jql_full_and_incremental_in_the_account_zone() -> None:
    config = parse_source(_source("jira", singleDates=["duedate", "customfield_10015"], projectId=10336))
    assert issue_jql(config, None, "UTC") == (
        "project = 10336 AND (customfield_10015 is not EMPTY OR duedate is not EMPTY) ORDER BY key ASC".replace(
            "customfield_10015", "cf[10015]"
        )
    )
    assert jql_instant(1_796_054_400_000, "Europe/Berlin") == "2026/11/30 17:00"  # 16:00Z
    assert 'updated >= "2026/11/30 17:00"' in issue_jql(config, 1_796_054_400_000, "Europe/Berlin")
    assert "project" not in issue_jql(parse_source(_source("jira", singleDates=["duedate"])), None, "UTC")
