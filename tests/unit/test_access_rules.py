"""The permission rules of the access gate (teamcal.access), one test (or table) per rule. Pure: no AWS."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.access import (
    Action,
    Answer,
    can_edit_events,
    can_view,
    decide,
    require_change_settings,
    require_create_calendar,
    require_delete_calendar,
    require_edit_calendar,
    require_edit_sources,
    require_manage_event_types,
    require_view,
)
from teamcal.auth.principal import Principal
from teamcal.errors import ForbiddenError, InvalidInputError, NotFoundError
from teamcal.models.calendars import CalendarRecord, CalendarSettings
from teamcal.models.event_record import EventRecord

pytestmark = pytest.mark.unit

CAL_ID = 42


def calendar(**settings: Any) -> CalendarRecord:
    return CalendarRecord.model_validate(
        {"id": CAL_ID, "user": "owner", "value": "{}", "version": 1, "created": 0, "updated": 0, **settings}
    )


def who(user: str = "ann", *, scope: list[int] | None = None, **flags: Any) -> Principal:
    return Principal(
        token_id=1,
        user=user,
        all_calendars=scope is None,
        calendar_ids=frozenset(scope or ()),
        groups=frozenset(flags.pop("groups", ())),
        **flags,
    )


EVERY_FLAG = {"edit_calendars": True, "delete_calendars": True, "edit_sources": True, "delete_sources": True}


# ---------------------------------------------------------------- rule 1: scope
def test_rule1_outside_the_scope_is_not_found_even_for_the_owner_or_an_admin() -> None:
    cal = calendar(publicCalendar=True)
    for principal in (who("owner", scope=[7]), who("x", scope=[7], admin=True)):
        assert not can_view(principal, cal)
        with pytest.raises(NotFoundError):
            require_view(principal, cal)
    assert can_view(who(scope=[CAL_ID]), cal)


# ---------------------------------------------------------------- rule 2: view
@pytest.mark.parametrize(
    ("settings", "principal", "visible"),
    [
        ({"publicCalendar": True}, who(), True),
        ({}, who(), False),
        ({}, who("owner"), True),
        ({}, who(admin=True), True),
        ({"permCalendarView": {"users": ["ann"]}}, who(), True),
        ({"permCalendarView": {"groups": ["team"]}}, who(groups=["team"]), True),
        ({"permCalendarView": {"groups": ["team"]}}, who(groups=["other"]), False),
        ({"permCalendarEdit": {"users": ["ann"]}}, who(), True),
        ({"permEventsEdit": {"groups": ["g"]}}, who(groups=["g"]), True),
        ({"calendarEditable": True}, who(), False),
        ({}, who(""), False),
    ],
)
def test_rule2_view(settings: dict[str, Any], principal: Principal, visible: bool) -> None:
    assert can_view(principal, calendar(**settings)) is visible


def test_rule2_a_private_calendar_not_viewable_is_not_found_not_forbidden() -> None:
    with pytest.raises(NotFoundError):
        require_edit_calendar(who(**EVERY_FLAG), calendar())
    with pytest.raises(NotFoundError):
        require_delete_calendar(who(**EVERY_FLAG), calendar())
    with pytest.raises(NotFoundError):
        require_edit_sources(who(**EVERY_FLAG), calendar(), delete=True)


# ---------------------------------------------------------------- rule 3: edit configuration
@pytest.mark.parametrize(
    ("settings", "principal", "allowed"),
    [
        ({}, who("owner", edit_calendars=True), True),
        ({}, who("owner"), False),  # no token flag
        ({}, who(admin=True, edit_calendars=True), True),
        ({"calendarEditable": False}, who(edit_calendars=True), False),
        ({"calendarEditable": True}, who(edit_calendars=True), True),  # empty grant: everyone who views
        ({"calendarEditable": True, "permCalendarEdit": {"users": ["bob"]}}, who(edit_calendars=True), False),
        ({"calendarEditable": True, "permCalendarEdit": {"users": ["ann"]}}, who(edit_calendars=True), True),
        (
            {"calendarEditable": True, "permCalendarEdit": {"groups": ["leads"]}},
            who(edit_calendars=True, groups=["leads"]),
            True,
        ),
        ({"calendarEditable": False, "permCalendarEdit": {"users": ["ann"]}}, who(edit_calendars=True), False),
    ],
)
def test_rule3_edit_calendar(settings: dict[str, Any], principal: Principal, allowed: bool) -> None:
    cal = calendar(publicCalendar=True, **settings)
    if allowed:
        require_edit_calendar(principal, cal)
    else:
        with pytest.raises(ForbiddenError):
            require_edit_calendar(principal, cal)


# ---------------------------------------------------------------- rule 4: permissions and owner
def test_rule4_editors_change_content_owners_and_admins_change_permissions() -> None:
    cal = calendar(publicCalendar=True, calendarEditable=True)
    editor, owner, admin = who(), who("owner"), who(admin=True)
    same = CalendarSettings(publicCalendar=True, calendarEditable=True)
    require_change_settings(editor, cal, same, None)  # sending stored values is no change
    require_change_settings(editor, cal, CalendarSettings(), None)
    with pytest.raises(ForbiddenError):
        require_change_settings(editor, cal, CalendarSettings(publicCalendar=False), None)
    with pytest.raises(ForbiddenError):
        require_change_settings(
            editor, cal, CalendarSettings.model_validate({"permEventsEdit": {"users": ["ann"]}}), None
        )
    require_change_settings(owner, cal, CalendarSettings(publicCalendar=False), None)
    require_change_settings(admin, cal, CalendarSettings(publicCalendar=False), None)
    with pytest.raises(ForbiddenError):
        require_change_settings(owner, cal, CalendarSettings(), "new-owner")
    require_change_settings(owner, cal, CalendarSettings(), "owner")
    require_change_settings(admin, cal, CalendarSettings(), "new-owner")


# ---------------------------------------------------------------- rule 5: sources
@pytest.mark.parametrize(
    ("principal", "delete", "allowed"),
    [
        (who("owner", edit_sources=True), False, True),
        (who("owner", delete_sources=True), False, False),
        (who("owner", delete_sources=True), True, True),
        (who("owner", edit_sources=True), True, False),
        (who(edit_sources=True, delete_sources=True), False, False),  # not an editor of the calendar
        (who(admin=True, edit_sources=True), False, True),
    ],
)
def test_rule5_sources(principal: Principal, delete: bool, allowed: bool) -> None:
    cal = calendar(publicCalendar=True)
    if allowed:
        require_edit_sources(principal, cal, delete=delete)
    else:
        with pytest.raises(ForbiddenError):
            require_edit_sources(principal, cal, delete=delete)


def test_rule5_calendar_editors_may_change_sources() -> None:
    cal = calendar(publicCalendar=True, calendarEditable=True, permCalendarEdit={"groups": ["g"]})
    require_edit_sources(who(edit_sources=True, groups=["g"]), cal)
    with pytest.raises(ForbiddenError):
        require_edit_sources(who(edit_sources=True), cal)


# ---------------------------------------------------------------- rule 6: delete calendar
@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (who("owner", delete_calendars=True), True),
        (who(admin=True, delete_calendars=True), True),
        (who("owner", **{**EVERY_FLAG, "delete_calendars": False}), False),
        (who(**EVERY_FLAG), False),  # an editor, not the owner
    ],
)
def test_rule6_delete_calendar(principal: Principal, allowed: bool) -> None:
    cal = calendar(publicCalendar=True, calendarEditable=True)
    if allowed:
        require_delete_calendar(principal, cal)
    else:
        with pytest.raises(ForbiddenError):
            require_delete_calendar(principal, cal)


# ---------------------------------------------------------------- rule 7: create calendar
def test_rule7_create_calendar() -> None:
    assert require_create_calendar(who(edit_calendars=True), None) == "ann"
    assert require_create_calendar(who(edit_calendars=True), "ann") == "ann"
    assert require_create_calendar(who(edit_calendars=True, admin=True), "bob") == "bob"
    with pytest.raises(ForbiddenError):
        require_create_calendar(who(scope=[1], edit_calendars=True, admin=True), None)
    with pytest.raises(ForbiddenError):
        require_create_calendar(who(), None)
    with pytest.raises(InvalidInputError):
        require_create_calendar(who("", edit_calendars=True), None)


def test_calendar_creation_ccj_all_calendars_token_may_create_for_any_user() -> None:
    """Issue 11, case 7: the vendor's ``POST /calendar`` sample names ``"user": "userID"``; CCJ
    tokens carry no user, and an all-calendars token with editCalendars may create for anyone."""
    assert require_create_calendar(who(edit_calendars=True), "bob") == "bob"
    assert require_create_calendar(who("", edit_calendars=True), "userID") == "userID"
    with pytest.raises(ForbiddenError):
        require_create_calendar(who(scope=[CAL_ID], edit_calendars=True), "bob")


def test_creating_an_event_needs_the_events_edit_right_not_reporter_edit() -> None:
    """Issue 11, case 5: ``eventReporterEdit`` grants changing one's own events, never creating."""
    cal = calendar(publicCalendar=True, eventReporterEdit=True)
    viewer = who("vic", scope=[CAL_ID])
    assert decide(viewer, Action.CREATE_EVENT, cal) is Answer.FORBIDDEN
    assert (
        decide(
            viewer,
            Action.EDIT_EVENT,
            cal,
            EventRecord.from_item({"id": 1, "calendarId": 1, "eventTypeConfigId": 1, "reporter": "vic"}),
        )
        is Answer.ALLOW
    )
    assert (
        decide(
            viewer,
            Action.DELETE_EVENT,
            cal,
            EventRecord.from_item({"id": 1, "calendarId": 1, "eventTypeConfigId": 1, "reporter": "vic"}),
        )
        is Answer.ALLOW
    )
    assert (
        decide(
            viewer,
            Action.EDIT_EVENT,
            cal,
            EventRecord.from_item({"id": 1, "calendarId": 1, "eventTypeConfigId": 1, "reporter": "rita"}),
        )
        is Answer.FORBIDDEN
    )


# ---------------------------------------------------------------- rule 8: edit events
@pytest.mark.parametrize(
    ("settings", "principal", "reporter", "allowed"),
    [
        ({}, who("owner"), None, True),
        ({}, who(admin=True), None, True),
        ({}, who(), None, False),
        ({"eventsEditable": True}, who(), None, True),
        ({"eventsEditable": True, "permEventsEdit": {"users": ["bob"]}}, who(), None, False),
        ({"eventsEditable": True, "permEventsEdit": {"groups": ["g"]}}, who(groups=["g"]), None, True),
        ({"eventReporterEdit": True}, who(), "ann", True),
        ({"eventReporterEdit": True}, who(), "bob", False),
        ({"eventReporterEdit": False}, who(), "ann", False),
        ({"eventReporterEdit": True}, who(""), "", False),
    ],
)
def test_rule8_edit_events(settings: dict[str, Any], principal: Principal, reporter: str | None, allowed: bool) -> None:
    assert can_edit_events(principal, calendar(publicCalendar=True, **settings), reporter) is allowed


def test_rule8_no_event_edit_in_a_calendar_the_user_cannot_view() -> None:
    assert not can_edit_events(who(), calendar(eventsEditable=True), None)
    assert not can_edit_events(who("owner", scope=[1]), calendar(), None)


# ---------------------------------------------------------------- rule 9: custom event types
def test_rule9_custom_event_types_need_an_admin_token() -> None:
    require_manage_event_types(who(admin=True))
    with pytest.raises(ForbiddenError):
        require_manage_event_types(who(**EVERY_FLAG))
