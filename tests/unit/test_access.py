"""The access gate's table: principal kind × object kind × action → allowed, 403 or 404.

The table below is the README's "Permissions" table, character for character (a test checks
that); every cell is checked against :func:`teamcal.access.decide`. Pure: no AWS.

To add a row (a new kind of principal) or a column (a new kind of object): add it to
``PRINCIPALS`` / ``OBJECTS`` and to the table here and in the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from teamcal.access import Action, Answer, decide
from teamcal.auth.principal import Principal
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord

pytestmark = pytest.mark.unit

CAL = 42
OTHER = 7

#: One letter per action; a cell lists the allowed ones (e.g. ``VUX``) (the others are 403), or says 404.
LETTERS = {
    "V": Action.VIEW,
    "E": Action.EDIT_CALENDAR,
    "D": Action.DELETE_CALENDAR,
    "S": Action.EDIT_SOURCES,
    "C": Action.CREATE_EVENT,
    "U": Action.EDIT_EVENT,
    "X": Action.DELETE_EVENT,
    "F": Action.MANAGE_FEED,
    "G": Action.MANAGE_GOOGLE,
}

TABLE = """\
| token \\ object | public | private | shared by user | shared by group | private Google source | partner replica |
|---|---|---|---|---|---|---|
| admin | VEDSCUXF | VEDSCUXF | VEDSCUXF | VEDSCUXF | 404 | VEDSCUXF |
| all-calendars | V | 404 | 404 | 404 | 404 | V |
| scoped elsewhere | 404 | 404 | 404 | 404 | 404 | 404 |
| owner | VEDSCUXFG | VEDSCUXFG | VEDSCUXFG | VEDSCUXFG | VEDSFG | VEDSCUXFG |
| listed user | V | 404 | VESCUX | 404 | 404 | V |
| listed group | V | 404 | 404 | VESCUX | 404 | V |
| reporter | VUX | 404 | 404 | 404 | 404 | V |
| viewer | V | 404 | 404 | 404 | 404 | V |
"""

_FLAGS = {"edit_calendars": True, "delete_calendars": True, "edit_sources": True, "delete_sources": True}


def _token(user: str, *, scope: list[int] | None = None, **extra: Any) -> Principal:
    return Principal(
        token_id=1,
        user=user,
        all_calendars=scope is None,
        calendar_ids=frozenset(scope or ()),
        groups=frozenset(extra.pop("groups", ())),
        **{**_FLAGS, **extra},
    )


#: Every token has every CCJ flag: what differs is who it acts as and what it is tied to.
PRINCIPALS = {
    "admin": _token("root", admin=True),
    "all-calendars": _token("zed"),
    "scoped elsewhere": _token("owen", scope=[OTHER]),
    "owner": _token("owen", scope=[CAL]),
    "listed user": _token("lu", scope=[CAL]),
    "listed group": _token("gina", scope=[CAL], groups=["team"]),
    "reporter": _token("rita", scope=[CAL]),
    "viewer": _token("vic", scope=[CAL]),
}

_RITAS = {"reporter": "rita"}
_SHARED = {"calendarEditable": True, "eventsEditable": True, "eventReporterEdit": True}

#: (calendar settings, the source or event acted on) of each kind of object; owner "owen".
OBJECTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "public": ({"publicCalendar": True, "eventReporterEdit": True}, _RITAS),
    "private": ({"eventReporterEdit": True}, _RITAS),
    "shared by user": (
        {
            **_SHARED,
            "permCalendarView": {"users": ["lu"]},
            "permCalendarEdit": {"users": ["lu"]},
            "permEventsEdit": {"users": ["lu"]},
        },
        _RITAS,
    ),
    "shared by group": (
        {
            **_SHARED,
            "permCalendarView": {"groups": ["team"]},
            "permCalendarEdit": {"groups": ["team"]},
            "permEventsEdit": {"groups": ["team"]},
        },
        _RITAS,
    ),
    "private Google source": (
        {"publicCalendar": True, "eventReporterEdit": True},
        {"private": True, "readOnly": True, "origin": "google", "reporter": None},
    ),
    "partner replica": (
        {"publicCalendar": True, "eventReporterEdit": True},
        {"reporter": "partner:9", "origin": {"synchronizationId": 9, "eventId": 1}},
    ),
}


def _calendar(settings: dict[str, Any]) -> CalendarRecord:
    return CalendarRecord.model_validate(
        {"id": CAL, "user": "owen", "value": "{}", "version": 1, "created": 0, "updated": 0, **settings}
    )


def _event(item: dict[str, Any] | None) -> EventRecord | None:
    """An event of the table's calendar with the object's attributes."""
    if item is None:
        return None
    return EventRecord.from_item({"id": 1, "calendarId": CAL, "eventTypeConfigId": 1, **item})


def _cells() -> list[tuple[str, str, str]]:
    lines = [line for line in TABLE.splitlines() if line.startswith("|")]
    columns = [c.strip() for c in lines[0].strip("|").split("|")][1:]
    out = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out += [(cells[0], column, cell) for column, cell in zip(columns, cells[1:], strict=True)]
    return out


def test_the_table_names_every_principal_and_object() -> None:
    cells = _cells()
    assert {p for p, _, _ in cells} == set(PRINCIPALS)
    assert {o for _, o, _ in cells} == set(OBJECTS)
    assert len(cells) == len(PRINCIPALS) * len(OBJECTS)


@pytest.mark.parametrize(("principal", "kind", "cell"), _cells())
def test_access_table(principal: str, kind: str, cell: str) -> None:
    settings, item = OBJECTS[kind]
    calendar = _calendar(settings)
    allowed = set() if cell == "404" else set(cell)
    assert allowed <= set(LETTERS), cell
    for letter, action in LETTERS.items():
        expected = Answer.NOT_FOUND if cell == "404" else Answer.ALLOW if letter in allowed else Answer.FORBIDDEN
        got = decide(PRINCIPALS[principal], action, calendar, _event(item))
        assert got is expected, f"{principal} × {kind} × {action.value}: {got.value}, expected {expected.value}"


def test_readme_permissions_section_is_the_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Permissions\n", 1)[1].split("\n## ", 1)[0]
    assert TABLE in section, "README.md's Permissions table differs from tests/unit/test_access.py's TABLE"
    for letter, action in LETTERS.items():
        assert f"**{letter}** {action.value}" in section, f"the README's legend lacks {letter}"
