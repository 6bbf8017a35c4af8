"""``ImportJobRecord``: the stored import-job item, read and written back without loss (no
migration), and the repository that takes records only."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.auth.principal import Principal
from teamcal.models.calendars import CalendarRecord
from teamcal.models.import_job import ImportJobRecord
from teamcal.models.sources import SourceRecord
from teamcal.services.ical.import_jobs import _new_job, to_wire
from teamcal.storage.dynamo import deserialize, serialize
from teamcal.storage.import_jobs import ImportJobRepository

pytestmark = pytest.mark.unit

PENDING: dict[str, Any] = {
    "id": 4_503_599_627_370_495,
    "calendarId": 1959,
    "sourceId": 5655,
    "user": "ann",
    "principal": {"tokenId": 7, "user": "ann", "allCalendars": True, "calendarIds": "", "admin": False},
    "origin": "upload",
    "key": "imports/1959/4503599627370495.ics",
    "status": "PENDING_UPLOAD",
    "total": 0,
    "processed": 0,
    "created": 0,
    "updated": 0,
    "skipped": 0,
    "failed": 0,
    "errors": [],
    "errorsOmitted": 0,
    "warnings": [],
    "checkpoint": 0,
    "submitted": 1_767_225_600_000,
}
RUNNING: dict[str, Any] = {
    **PENDING,
    "status": "RUNNING",
    "total": 700,
    "processed": 250,
    "created": 240,
    "failed": 10,
    "errors": [{"uid": "a@x", "reason": "bad"}, {"uid": "b@x", "recurrenceId": "20260105", "reason": "bad"}],
    "warnings": ["VEVENT c@x: unknown TZID"],
    "warningsOmitted": 3,
    "checkpoint": 250,
    "doneAfter": [[252, 260]],
    "started": 1_767_225_601_000,
    "runId": "0f" * 16,
    "leaseUntil": 1_767_225_700_000,
}
#: Attributes this record does not name (a later version's, say): kept as they are.
WITH_EXTRAS: dict[str, Any] = {**RUNNING, "retries": 2, "notes": {"by": "ops", "at": [1, 2]}}


@pytest.mark.parametrize("item", [PENDING, RUNNING, WITH_EXTRAS], ids=["pending", "running", "extras"])
def test_an_item_read_and_written_back_is_the_same_item(item: dict[str, Any]) -> None:
    # Given a stored item, through DynamoDB's attribute values and back
    read = deserialize(serialize(item))
    # When it becomes a record and an item again
    record = ImportJobRecord.from_item(read)
    # Then nothing is lost, added or changed, on the wire form too
    assert record.item() == item
    assert serialize(record.item()) == serialize(item)


def test_extras_are_kept_apart_and_named_attributes_are_typed() -> None:
    record = ImportJobRecord.from_item(WITH_EXTRAS)
    assert record.extra == {"retries": 2, "notes": {"by": "ops", "at": [1, 2]}}
    assert (record.id, record.calendar_id, record.source_id) == (4_503_599_627_370_495, 1959, 5655)
    assert (record.run_id, record.lease_until, record.done_after) == ("0f" * 16, 1_767_225_700_000, [[252, 260]])
    assert record.finished is None
    assert "finished" not in record.item()


def test_counters_and_release() -> None:
    record = ImportJobRecord.from_item(RUNNING)
    record.add("skipped")
    record.add("errorsOmitted", 2)
    record.release()
    item = record.item()
    assert (item["skipped"], item["errorsOmitted"]) == (1, 2)
    assert "runId" not in item
    assert "leaseUntil" not in item


def test_a_new_job_is_stored_as_before() -> None:
    # The item of a new upload job is the dict the service wrote before records (None: absent)
    calendar = CalendarRecord(id=1959, user="ann", value="{}", version=1, created=0, updated=0)
    source = SourceRecord(
        id=5655, calendar_id=1959, event_type_key="meeting", order=1, value="{}", version=1, created=0, updated=0
    )
    principal = Principal(token_id=7, user="ann", all_calendars=True)
    job = _new_job(calendar, source, principal, "upload", 1_767_225_600_000)
    assert job.item() == {
        "id": job.id,
        "calendarId": 1959,
        "sourceId": 5655,
        "user": "ann",
        "principal": principal.to_context(),
        "origin": "upload",
        "status": "PENDING_UPLOAD",
        "total": 0,
        "processed": 0,
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "errors": [],
        "errorsOmitted": 0,
        "warnings": [],
        "checkpoint": 0,
        "submitted": 1_767_225_600_000,
    }


def test_the_wire_form_shows_an_expired_lease_as_interrupted() -> None:
    record = ImportJobRecord.from_item(RUNNING)
    assert to_wire(record, 1_767_225_600_000).status == "RUNNING"
    shown = to_wire(record, 1_767_225_700_001)
    assert shown.status == "INTERRUPTED"
    assert shown.message
    assert record.status == "RUNNING"  # the record itself is not changed
    wire = shown.model_dump(by_alias=True)
    assert (wire["created"], wire["failed"], wire["errorsOmitted"]) == (240, 10, 0)
    assert "runId" not in wire
    assert "principal" not in wire


class _NoClient:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no call expected: {name}")


def test_the_repository_refuses_a_dict() -> None:
    repo = ImportJobRepository(_NoClient(), "calendars")
    with pytest.raises(TypeError, match="ImportJobRecord"):
        repo.create(dict(PENDING))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ImportJobRecord"):
        repo.save(dict(PENDING), None)  # type: ignore[arg-type]
