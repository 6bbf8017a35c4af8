"""``SourceRecord``: the stored source item, read and written back without loss (no migration)."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.access import is_active, is_private, is_read_only
from teamcal.models.event_types import EventTypeRecord
from teamcal.models.sources import SourceRecord
from teamcal.storage.dynamo import deserialize, serialize

pytestmark = pytest.mark.unit

PLAIN: dict[str, Any] = {
    "id": 5655,
    "calendarId": 1959,
    "eventTypeKey": "meeting",
    "emailsEnabled": False,
    "order": 1,
    "value": '{"name":"Meetings","color":"#7500ca"}',
    "version": 3,
    "created": 1_767_225_600_000,
    "updated": 1_767_225_700_000,
    "status": "ACTIVE",
}
GOOGLE: dict[str, Any] = {
    **PLAIN,
    "origin": "google",
    "readOnly": True,
    "private": True,
    "googleCalendarId": "team@group.calendar.google.com",
}


@pytest.mark.parametrize("item", [PLAIN, GOOGLE], ids=["plain", "google"])
def test_an_item_read_and_written_back_is_the_same_item(item: dict[str, Any]) -> None:
    # Given a stored item, through DynamoDB's attribute values and back
    read = deserialize(serialize(item))
    # When it becomes a record and the record an item again
    record = SourceRecord.model_validate(read)
    # Then nothing was lost, added or retyped
    assert record.item() == item
    assert deserialize(serialize(record.item())) == read


def test_defaults_not_stored_stay_absent_and_unknown_attributes_are_kept() -> None:
    # Given an older item without status or emailsEnabled, and an attribute the model does not name
    item = {k: v for k, v in PLAIN.items() if k not in ("status", "emailsEnabled")} | {"note": "kept"}
    record = SourceRecord.model_validate(item)
    # Then the record reads the defaults, and writes back only what was stored
    assert record.active
    assert record.emails_enabled is False
    assert record.item() == item


def test_the_access_gate_reads_the_records_flags() -> None:
    google = SourceRecord.model_validate(GOOGLE)
    plain = SourceRecord.model_validate(PLAIN)
    deleting = SourceRecord.model_validate({**PLAIN, "status": "DELETING"})
    assert is_private(google)
    assert is_read_only(google)
    assert is_active(google)
    assert not is_private(plain)
    assert not is_read_only(plain)
    assert not is_active(deleting)
    assert not deleting.active


def test_a_record_built_in_code_stores_what_was_set() -> None:
    record = SourceRecord(
        id=1, calendar_id=2, event_type_key="meeting", order=1, value="{}", version=1, created=5, updated=5
    )
    assert record.item() == {
        "id": 1,
        "calendarId": 2,
        "eventTypeKey": "meeting",
        "order": 1,
        "value": "{}",
        "version": 1,
        "created": 5,
        "updated": 5,
    }


def test_a_custom_type_item_read_and_written_back_is_the_same_item() -> None:
    # Given a stored custom type (the sources table's other item kind), with its use count
    item = {
        "id": 77,
        "key": "standup",
        "name": "Stand-ups",
        "issueRequired": False,
        "projectRequired": False,
        "usersRequired": True,
        "systemType": False,
        "version": 2,
        "created": 5,
        "updated": 6,
        "useCount": 3,
    }
    record = EventTypeRecord.model_validate(deserialize(serialize(item)))
    # Then it writes back unchanged, and shows as a custom type
    assert record.item() == item
    assert record.event_type().system_type is False
    assert record.event_type().ref().key == "standup"
