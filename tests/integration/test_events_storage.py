"""The events repository against moto: the time index, masters, children, cascades."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal import aws as teamcal_aws
from teamcal.errors import ConflictError, InvalidInputError
from teamcal.models.event_record import EventRecord
from teamcal.settings import get_settings
from teamcal.storage.events import UNBOUNDED_MS, ChangeStamp, EventRepository, months_overlapping

pytestmark = pytest.mark.integration

DAY = 86_400_000
JAN1 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def E(item: dict[str, Any]) -> EventRecord:  # noqa: N802 - short: every write of this module wraps its item
    """The record of a test item (the repository writes records only)."""
    return EventRecord.from_item(item)


@pytest.fixture
def repo(aws: None) -> EventRepository:
    return EventRepository(teamcal_aws.client("dynamodb"), get_settings().events_table)


def single(event_id: int, start: int, end: int, source: int = 10, calendar: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "calendarId": calendar,
        "eventTypeConfigId": source,
        "kind": "single",
        "startDate": start,
        "endDate": end,
        "summary": f"event {event_id}",
        "version": 1,
        **extra,
    }


def test_months_overlapping_is_half_open() -> None:
    assert months_overlapping(JAN1, JAN1 + 31 * DAY) == ["2026-01"]
    assert months_overlapping(JAN1, JAN1 + 31 * DAY + 1) == ["2026-01", "2026-02"]
    assert months_overlapping(JAN1 - 1, JAN1 - 1) == ["2025-12"]


def test_window_finds_long_events_that_started_months_before(repo: EventRepository) -> None:
    # Given a 4-month event, a short one inside the window and one after it
    repo.create(E(single(1, JAN1, JAN1 + 120 * DAY)))
    repo.create(E(single(2, JAN1 + 100 * DAY, JAN1 + 100 * DAY + 3_600_000)))
    repo.create(E(single(3, JAN1 + 200 * DAY, JAN1 + 201 * DAY)))
    # When searching a window in April
    found = repo.in_window(1, JAN1 + 95 * DAY, JAN1 + 110 * DAY)
    # Then the long event (started in January) is found once, with the short one, by start
    assert [e.id for e in found] == [1, 2]
    # And an end exactly at the window start does not overlap (half-open)
    assert repo.in_window(1, JAN1 + 120 * DAY, JAN1 + 121 * DAY) == []


def test_replace_moves_the_index_and_checks_the_version(repo: EventRepository) -> None:
    old = single(1, JAN1, JAN1 + DAY)
    repo.create(E(old))
    new = {**old, "startDate": JAN1 + 40 * DAY, "endDate": JAN1 + 41 * DAY, "version": 2}
    repo.replace(E(old), E(new))
    assert repo.in_window(1, JAN1, JAN1 + 30 * DAY) == []
    assert [e.version for e in repo.in_window(1, JAN1 + 35 * DAY, JAN1 + 45 * DAY)] == [2]
    # a second writer holding version 1 loses and changes nothing
    with pytest.raises(ConflictError):
        repo.replace(E(old), E({**old, "summary": "lost"}))
    assert repo.get(1).summary == "event 1"


def test_commit_is_all_or_nothing(repo: EventRepository) -> None:
    # Given a master and a child written together
    master = {
        **single(1, JAN1, JAN1 + 3_600_000),
        "kind": "master",
        "recurrence": "FREQ=DAILY",
        "seriesEnd": UNBOUNDED_MS,
        "overrides": {},
    }
    repo.create(E(master))
    child = {
        **single(2, JAN1 + DAY + 7_200_000, JAN1 + DAY + 10_800_000),
        "kind": "child",
        "parentId": 1,
        "recurrenceId": "20260102",
    }
    new_master = {**master, "version": 2, "overrides": {"20260102": {"id": 2}}}
    repo.commit(create=[E(child)], replace=[(E(master), E(new_master))])
    assert repo.get(1).overrides == {"20260102": {"id": 2}}
    assert [c.id for c in repo.children(1)] == [2]
    # When a second writer holding the old master version tries the same
    with pytest.raises(ConflictError):
        repo.commit(create=[E({**child, "id": 3})], replace=[(E(master), E(new_master))])
    # Then nothing of it was written
    assert [c.id for c in repo.children(1)] == [2]
    assert [e.id for e in repo.in_window(1, JAN1, JAN1 + 5 * DAY)] == [2]


def test_masters_query_skips_finished_series(repo: EventRepository) -> None:
    base = {"kind": "master", "recurrence": "FREQ=DAILY;COUNT=3", "overrides": {}}
    repo.create(E({**single(1, JAN1, JAN1 + 1000), **base, "seriesEnd": JAN1 + 2 * DAY + 1000}))
    repo.create(E({**single(2, JAN1, JAN1 + 1000), **base, "seriesEnd": UNBOUNDED_MS}))
    repo.create(E({**single(3, JAN1 + 300 * DAY, JAN1 + 300 * DAY + 1), **base, "seriesEnd": UNBOUNDED_MS}))
    assert [m.id for m in repo.masters(1, JAN1 + 10 * DAY, JAN1 + 20 * DAY)] == [2]


def test_too_long_event_is_refused(repo: EventRepository) -> None:
    with pytest.raises(InvalidInputError):
        repo.create(E(single(1, JAN1, JAN1 + 6 * 366 * DAY)))


def test_delete_by_source_removes_every_item_and_is_rerunnable(repo: EventRepository) -> None:
    for i in range(1, 40):
        repo.create(E(single(i, JAN1 + i * DAY, JAN1 + (i + 40) * DAY)))
    repo.create(E(single(99, JAN1, JAN1 + DAY, source=11)))
    assert repo.delete_by_source(10) == 39
    assert repo.delete_by_source(10) == 0
    assert [e.id for e in repo.in_window(1, JAN1, JAN1 + 90 * DAY)] == [99]


def test_every_write_bumps_its_calendars_change_stamp(repo: EventRepository) -> None:
    # Given two calendars without writes
    assert repo.change_stamp(1) == ChangeStamp(0, 0)
    # When an event of calendar 1 is created, replaced, bulk-written and its source cascaded
    first = single(1, JAN1, JAN1 + DAY)
    repo.create(E(first))
    after_create = repo.change_stamp(1)
    repo.replace(E(first), E({**first, "summary": "moved", "version": 2}))
    after_replace = repo.change_stamp(1)
    repo.batch_put([E(single(2, JAN1, JAN1 + DAY, calendar=1)), E(single(3, JAN1, JAN1 + DAY, calendar=2))])
    after_bulk = repo.change_stamp(1)
    repo.delete_by_source(10)
    after_cascade = repo.change_stamp(1)
    # Then each write counted once, with the time of the write
    assert [after_create.changes, after_replace.changes, after_bulk.changes, after_cascade.changes] == [1, 2, 3, 4]
    assert 0 < after_create.modified <= after_replace.modified <= after_bulk.modified <= after_cascade.modified
    # And calendar 2 counted only the writes that touched it
    assert repo.change_stamp(2).changes == 2  # the bulk write and the cascade
    # And a failed transaction leaves the stamp alone
    repo.create(E(single(4, JAN1, JAN1 + DAY, calendar=3)))
    with pytest.raises(ConflictError):
        repo.create(E(single(4, JAN1, JAN1 + DAY, calendar=3)))
    assert repo.change_stamp(3).changes == 1
    # And the stamp is never an event of a window
    assert repo.in_window(1, JAN1 - DAY, JAN1 + 2 * DAY) == []


def test_a_dict_is_never_written(repo: EventRepository) -> None:
    with pytest.raises(TypeError, match="EventRecord"):
        repo.create(single(1, JAN1, JAN1 + DAY))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EventRecord"):
        repo.batch_put([single(2, JAN1, JAN1 + DAY)])  # type: ignore[list-item]
    assert repo.in_window(1, JAN1, JAN1 + 2 * DAY) == []
