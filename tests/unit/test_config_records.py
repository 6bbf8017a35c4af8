"""``CalendarRecord``, ``TokenRecord``, ``SynchronizationRecord`` and ``CalendarMappingRecord``:
stored items read and written back without loss (no migration); the repositories write records,
never dicts; the authorizer reads tokens without pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from teamcal.access import is_active, manages_token
from teamcal.auth.principal import Principal
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.calendars import CalendarRecord
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.models.token_record import TokenRecord
from teamcal.storage.calendars import CalendarRepository
from teamcal.storage.dynamo import deserialize, serialize
from teamcal.storage.invitations import InvitationRepository
from teamcal.storage.tokens import TokenRepository

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

CALENDAR: dict[str, Any] = {
    "id": 1959,
    "user": "66625976fc0cc7a600b08977",
    "value": '{"description":"","name":"Development","usersFromEvents":true}',
    "publicCalendar": False,
    "calendarEditable": True,
    "permCalendarEdit": {"groups": ["devs"], "users": []},
    "eventsEditable": True,
    "permEventsEdit": {"groups": [], "users": ["ann"]},
    "eventReporterEdit": False,
    "permCalendarView": {"groups": [], "users": []},
    "version": 4,
    "created": 1_767_225_600_000,
    "updated": 1_767_225_700_000,
    "status": "ACTIVE",
}
WITH_SOURCES: dict[str, Any] = {**CALENDAR, "sourceIds": {5655, 5656}}

TOKEN: dict[str, Any] = {
    "id": 4_503_599_627_370_495,
    "name": "ci",
    "user": "ann",
    "allCalendars": False,
    "calendarIds": [1959, 2001],
    "groups": ["devs"],
    "editCalendars": True,
    "deleteCalendars": False,
    "editSources": True,
    "deleteSources": False,
    "admin": False,
    "hint": "tcal_abcd…",
    "created": 1_767_225_600_000,
    "createdBy": 17,
    "tokenHash": "ab" * 32,
}


def _through_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    return deserialize(serialize(item))


@pytest.mark.parametrize("item", [CALENDAR, WITH_SOURCES], ids=["no-sources", "sources"])
def test_a_calendar_item_read_and_written_back_is_the_same_item(item: dict[str, Any]) -> None:
    # Given a stored calendar, as the repository reads it (a number set comes back as a list)
    stored = serialize(item)
    read = deserialize(stored)
    # When it becomes a record and the record an item again
    record = CalendarRecord.model_validate(read)
    # Then the DynamoDB attribute values are the same ones (the number set stays a number set)
    again = serialize(record.item())
    assert {k: v for k, v in again.items() if k != "sourceIds"} == {k: v for k, v in stored.items() if k != "sourceIds"}
    if "sourceIds" in item:
        assert set(again["sourceIds"]["NS"]) == set(stored["sourceIds"]["NS"])
        assert sorted(record.source_ids) == [5655, 5656]
    else:
        assert "sourceIds" not in again


def test_a_calendar_keeps_unknown_attributes_and_leaves_unstored_defaults_absent() -> None:
    # Given an older item without grants or status, and an attribute the model does not name
    item = {k: v for k, v in CALENDAR.items() if not k.startswith("perm") and k != "status"} | {"note": "kept"}
    record = CalendarRecord.model_validate(_through_dynamo(item))
    # Then the record reads the defaults and writes back only what was stored
    assert record.active
    assert is_active(record)
    assert record.perm_calendar_edit.is_empty()
    assert record.item() == item


def test_a_calendar_built_in_code_stores_every_grant_it_was_given() -> None:
    from teamcal.models.values import PermissionGrant

    empty = PermissionGrant(groups=[], users=[])
    record = CalendarRecord(
        id=1,
        user="ann",
        value="{}",
        perm_calendar_edit=empty,
        perm_events_edit=empty,
        perm_calendar_view=empty,
        version=1,
        created=5,
        updated=5,
        status="ACTIVE",
    )
    assert record.item() == {
        "id": 1,
        "user": "ann",
        "value": "{}",
        "permCalendarEdit": {"groups": [], "users": []},
        "permEventsEdit": {"groups": [], "users": []},
        "permCalendarView": {"groups": [], "users": []},
        "version": 1,
        "created": 5,
        "updated": 5,
        "status": "ACTIVE",
    }


def test_a_token_item_read_and_written_back_is_the_same_item() -> None:
    read = _through_dynamo(TOKEN)
    record = TokenRecord.from_item(read)
    assert record.item() == TOKEN
    assert serialize(record.item()) == serialize(TOKEN)
    assert record.calendar_ids == (1959, 2001)
    assert record.created_by == 17


def test_a_token_without_optional_attributes_writes_back_without_them() -> None:
    # Given a bootstrap token (createdBy None is not stored) with an attribute the record does not name
    item = {k: v for k, v in TOKEN.items() if k not in ("createdBy", "groups")} | {"note": "kept"}
    record = TokenRecord.from_item(_through_dynamo(item))
    assert record.created_by is None
    assert record.groups == ()
    assert record.item() == item


def test_a_token_grants_its_principal() -> None:
    principal = TokenRecord.from_item(TOKEN).principal()
    assert principal == Principal(
        token_id=TOKEN["id"],
        user="ann",
        calendar_ids=frozenset({1959, 2001}),
        groups=frozenset({"devs"}),
        edit_calendars=True,
        edit_sources=True,
    )


def test_an_admin_manages_the_tokens_it_created_read_from_the_record() -> None:
    record = TokenRecord.from_item(TOKEN)
    creator = Principal(token_id=17, user="root", admin=True, calendar_ids=frozenset({1959}))
    other = Principal(token_id=18, user="root", admin=True, calendar_ids=frozenset({1959}))
    assert manages_token(creator, record)
    assert not manages_token(other, record)


MAPPING: dict[str, Any] = {
    "id": 77,
    "synchronizationId": 12,
    "localCalendarId": 1959,
    "partnerCalendarId": 4242,
    "eventTypes": ["meeting"],
    "direction": "PULL",
    "createdBy": "PARTNER",
    "created": 1_767_225_600_000,
}


def test_a_mapping_item_read_and_written_back_is_the_same_item() -> None:
    read = _through_dynamo(MAPPING)
    record = CalendarMappingRecord.from_item(read)
    assert record.item() == MAPPING
    assert serialize(record.item()) == serialize(MAPPING)
    assert (record.pulls, record.pushes) == (True, False)
    assert record.wants_type("meeting")
    assert not record.wants_type("vacation")
    # no types listed: every type; an attribute it does not name is kept
    other = {**MAPPING, "eventTypes": [], "note": "kept"}
    assert CalendarMappingRecord.from_item(other).wants_type("vacation")
    assert CalendarMappingRecord.from_item(other).item() == other


SYNC: dict[str, Any] = {
    "id": 12,
    "name": "with the other office",
    "status": "INVITATION_RECEIVED",
    "role": "INVITEE",
    "partnerUrl": "https://partner.example/rest/brizo-calendar/api/1",
    "partnerSynchronizationId": 501,
    "partnerDeploymentId": "d" * 32,
    "mappingCount": 0,
    "partnerNotified": True,
    "keyVersion": 1,
    "version": 1,
    "created": 1_767_225_600_000,
    "updated": 1_767_225_600_000,
    "sealedSecret": "sealed",
}
ACCEPTED: dict[str, Any] = {
    **{k: v for k, v in SYNC.items() if k != "sealedSecret"},
    "status": "NOT_CONFIGURED",
    "scope": {"mode": "SHOW_SELECTED", "calendarIds": [1959], "eventTypes": []},
    "managerTokenId": 17,
    "reach": [1959],
    "keyVersion": 2,
}


@pytest.mark.parametrize("item", [SYNC, ACCEPTED], ids=["received", "accepted"])
def test_a_synchronization_item_read_and_written_back_is_the_same_item(item: dict[str, Any]) -> None:
    read = _through_dynamo(item)
    record = SynchronizationRecord.from_item(read)
    assert record.item() == item
    assert serialize(record.item()) == serialize(item)


def test_a_synchronization_evolves_to_its_next_version_and_none_removes_an_attribute() -> None:
    record = SynchronizationRecord.from_item(SYNC)
    new = record.evolved(99, status="NOT_CONFIGURED", sealedSecret=None, keyVersion=2)
    assert (new.version, new.updated, new.status, new.key_version) == (2, 99, "NOT_CONFIGURED", 2)
    assert new.sealed_secret is None
    assert "sealedSecret" not in new.item()
    assert (record.version, record.sealed_secret) == (1, "sealed")  # records are immutable
    accepted = SynchronizationRecord.from_item(ACCEPTED)
    assert (accepted.manager_token_id, accepted.reach, accepted.scope) == (17, (1959,), ACCEPTED["scope"])


def test_the_repositories_refuse_to_write_a_dict() -> None:
    # No client is needed: the refusal comes before any call
    with pytest.raises(TypeError, match="CalendarRecord"):
        CalendarRepository(None, "calendars").create(dict(CALENDAR))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="TokenRecord"):
        TokenRepository(None, "tokens").put(dict(TOKEN))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="CalendarMappingRecord"):
        InvitationRepository(None, "invitations").add_mapping({}, {}, dict(MAPPING))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SynchronizationRecord"):
        InvitationRepository(None, "invitations").create(dict(SYNC))  # type: ignore[arg-type]


def test_the_authorizer_imports_no_pydantic() -> None:
    """Cold start: the TOKEN authorizer reads token records without loading pydantic."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'teamcal'}",
            **dict.fromkeys(
                (
                    "CALENDARS_TABLE",
                    "SOURCES_TABLE",
                    "EVENTS_TABLE",
                    "TOKENS_TABLE",
                    "INVITATIONS_TABLE",
                    "SNAPSHOTS_BUCKET",
                ),
                "x",
            ),
        }
    )
    code = textwrap.dedent(
        """
        import sys
        import functions.authorizer.app
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "pydantic")
        assert loaded == [], loaded
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
