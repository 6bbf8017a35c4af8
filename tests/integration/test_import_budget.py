"""The import checks its time budget before every VEVENT, not only per chunk (a file of a few
costly VEVENTs ran 47 s inline against a 22 s budget before)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.ical.app import stores
from teamcal.auth.principal import Principal
from teamcal.errors import NotFoundError
from teamcal.services.ical.import_jobs import import_inline
from tests.integration.ccj import ROOT
from tests.integration.ical import moto_resources, zoned_calendar

pytestmark = pytest.mark.integration


@pytest.fixture
def aws() -> Iterator[None]:
    with moto_resources():
        yield


def _file(n: int) -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:2026030{1 + i % 9}T100000Z\r\n"
        f"RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:e{i}\r\nEND:VEVENT\r\n"
        for i in range(n)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{events}END:VCALENDAR\r\n".encode()


def test_the_budget_is_checked_before_every_vevent(aws: None, lambda_context: Any) -> None:
    # Given a clock on which each VEVENT's work takes 5 s, and an inline budget of 12 s
    calendar = zoned_calendar(lambda_context)
    ticks = iter(range(0, 10_000_000, 5_000))
    clock = lambda: 1_767_600_000_000 + next(ticks)  # noqa: E731
    # When a file of 10 VEVENTs (less than a chunk) is imported inline
    job = import_inline(
        stores(), Principal.from_context(ROOT), calendar["id"], None, _file(10), clock=clock, budget_ms=12_000
    )
    # Then the run stops at the first VEVENT past the budget, not after the whole chunk
    shown = json.loads(job.model_dump_json(by_alias=True))
    assert shown["status"] == "INTERRUPTED"
    assert 1 <= shown["processed"] <= 4
    # And what was done is kept: the next run goes on from there
    again = import_inline(stores(), Principal.from_context(ROOT), calendar["id"], None, _file(10))
    assert again.status == "SUCCEEDED"


def test_a_source_deleted_while_an_import_writes_keeps_no_orphans(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamcal.services.sources import purge_source
    from teamcal.storage.events import EventRepository

    # Given an import into a source whose deletion (mark DELETING, sweep its events, drop it)
    # completes between the import's check of the source and its batch write
    calendar = zoned_calendar(lambda_context)
    shared = stores()
    first = import_inline(shared, Principal.from_context(ROOT), calendar["id"], None, _file(1))
    source_id = int(first.source_id)
    write = EventRepository.batch_put
    raced: list[int] = []

    def racing_write(self: EventRepository, events: Any, **kwargs: Any) -> int:
        events = list(events)
        if events and not raced:
            raced.append(1)
            record = shared.config.sources.get(source_id)
            assert record is not None
            purge_source(shared.config.sources, self, record, 1_767_600_000_000)
        return write(self, events, **kwargs)

    monkeypatch.setattr(EventRepository, "batch_put", racing_write)
    # When the import writes its chunk after the sweep
    with pytest.raises(NotFoundError, match="deleted during the import"):
        import_inline(shared, Principal.from_context(ROOT), calendar["id"], source_id, _file(5))
    # Then nothing of the source is left behind
    assert raced
    assert list(shared.events.by_source(source_id)) == []
