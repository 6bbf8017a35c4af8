"""Pure pieces of the calendar/source/event type API: value parsing, schemas, versions, ids."""

from __future__ import annotations

import json

import pytest

from teamcal.errors import ConflictError, InvalidInputError, NotFoundError
from teamcal.models.calendars import CalendarValue
from teamcal.models.event_types import PREDEFINED, PREDEFINED_BY_KEY
from teamcal.models.sources import AgileSourceValue, EventSourceValue, JiraSourceValue
from teamcal.models.values import parse_value
from teamcal.paths import path_id
from teamcal.services.event_types import _slug
from teamcal.services.versions import expected_version, parse_if_match

pytestmark = pytest.mark.unit

SAMPLE_MEETING = (
    '{"color":"#7500ca","projectId":-1,"condColors":[],"name":"Dekki\'s meetings","concurrence":"allow",'
    '"hideStartTime":false,"issueFields":[{"id":"issuekey","showEvent":true,"showInfo":true}],'
    '"summaryFromSourceName":false,"summaryFromIssueSummary":false}'
)


def test_parse_value_keeps_unknown_keys() -> None:
    parsed = parse_value('{"name": "A", "x-mine": {"deep": [1]}}', CalendarValue)
    assert parsed.name == "A"
    assert parsed.model_extra == {"x-mine": {"deep": [1]}}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("", "value"),
        ("nope", "value"),
        ("[]", "value"),
        ("null", "value"),
        ('{"name": Infinity}', "value"),
        ("[" * 5000 + "]" * 5000, "value"),
        ('{"name": ""}', "value.name"),
        ('{"name": "x", "timeZone": "Not/AZone"}', "value.timeZone"),
        ('{"name": "x", "timeZone": "../etc/passwd"}', "value.timeZone"),
    ],
)
def test_parse_value_errors_name_the_field(raw: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_value(raw, CalendarValue)
    assert field in caught.value.errors


def test_calendar_value_accepts_an_iana_zone() -> None:
    assert parse_value('{"name": "x", "timeZone": "America/New_York"}', CalendarValue).time_zone == "America/New_York"


@pytest.mark.parametrize("color", ["#7500ca", "#FFFFFF", "#000000"])
def test_colors_in_rrggbb_form_are_accepted(color: str) -> None:
    assert parse_value(json.dumps({"name": "n", "color": color}), EventSourceValue).color == color


@pytest.mark.parametrize("color", ["7500ca", "#750", "#7500cag", "#7500ca ", "red", 7500, None])
def test_other_colors_are_refused(color: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_value(json.dumps({"name": "n", "color": color}), EventSourceValue)
    assert "value.color" in caught.value.errors


def test_sample_values_fit_their_schemas() -> None:
    assert parse_value(SAMPLE_MEETING, EventSourceValue).concurrence == "allow"
    jira = '{"color":"#cc6fcc","condColors":[],"dateRanges":[],"singleDates":["duedate"],"name":"J","projectId":-1}'
    assert parse_value(jira, JiraSourceValue).single_dates == ["duedate"]
    sprint = '{"boardId":132,"color":"#cc6fcc","name":"Sprints","projectId":10336,"show":0,"state":0}'
    assert parse_value(sprint, AgileSourceValue).board_id == 132


def test_nested_error_location_is_dotted() -> None:
    bad = json.dumps({"name": "n", "color": "#000000", "issueFields": [{"id": "a"}, {"showEvent": True}]})
    with pytest.raises(InvalidInputError) as caught:
        parse_value(bad, EventSourceValue)
    assert caught.value.errors == {"value.issueFields.1.id": "Field required"}


def test_predefined_types() -> None:
    assert [t.key for t in PREDEFINED] == ["vacation", "sickness", "trip", "meeting", "jira", "sprint", "version"]
    assert {k for k, t in PREDEFINED_BY_KEY.items() if t.users_required} == {"vacation", "sickness", "trip", "meeting"}
    assert {t.kind for t in PREDEFINED} == {"events", "jira", "agile"}
    assert PREDEFINED_BY_KEY["version"].kind == "agile"
    assert set(PREDEFINED_BY_KEY["meeting"].ref().model_dump(by_alias=True)) == {
        "issueRequired",
        "key",
        "name",
        "projectRequired",
        "systemType",
        "usersRequired",
    }


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Team offsite", "team-offsite"), ("  Ünïcode!! Days ", "n-code-days"), ("2024 retreat", "custom-2024-retreat")],
)
def test_custom_type_keys_are_slugs(name: str, slug: str) -> None:
    assert _slug(name) == slug


@pytest.mark.parametrize(
    ("header", "version"), [(None, None), ("", None), ("*", None), ("3", 3), ('"3"', 3), ('W/"3"', 3), (" 12 ", 12)]
)
def test_if_match_forms(header: str | None, version: int | None) -> None:
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ["abc", '"3', "3.0", "-1", "1" * 20])
def test_malformed_if_match_is_invalid_input(header: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_if_match(header)


def test_expected_version_is_always_the_stored_one() -> None:
    assert expected_version(5, None, None, "x") == 5
    assert expected_version(5, 5, '"5"', "x") == 5
    with pytest.raises(ConflictError):
        expected_version(5, 4, None, "x")
    with pytest.raises(ConflictError):
        expected_version(5, None, "4", "x")
    with pytest.raises(InvalidInputError):
        expected_version(5, 5, "4", "x")


@pytest.mark.parametrize("segment", ["abc", "", "0", "-1", "1.5", "9007199254740992", "١٢"])
def test_path_ids_that_name_nothing_are_not_found(segment: str) -> None:
    with pytest.raises(NotFoundError):
        path_id(segment, "calendar")


def test_path_id_parses_integers() -> None:
    assert path_id("1959", "calendar") == 1959
    assert path_id(str(2**53 - 1), "source") == 2**53 - 1
