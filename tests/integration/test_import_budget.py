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
from teamcal.storage.ics_files import upload_key
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


def _singles(n: int) -> bytes:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:s{i}@test\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:202603{1 + i % 28:02d}T{i % 24:02d}0000Z\r\nDTEND:202603{1 + i % 28:02d}T{i % 24:02d}3000Z\r\n"
        f"SUMMARY:s{i}\r\nEND:VEVENT\r\n"
        for i in range(n)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{events}END:VCALENDAR\r\n".encode()


def test_an_inline_import_past_its_budget_is_finished_by_the_worker(aws: None, lambda_context: Any) -> None:
    from functions.ical import app as ical_app
    from tests.integration.ical import ical
    from tests.integration.test_ical_upload import s3_event

    # Given a 3,000-event file and an inline budget that runs out partway
    calendar = zoned_calendar(lambda_context)
    ticks = iter(range(0, 10**9, 10))
    clock = lambda: 1_767_600_000_000 + next(ticks)  # noqa: E731
    data = _singles(3000)
    # When it is imported inline
    job = import_inline(
        stores(), Principal.from_context(ROOT), calendar["id"], None, data, clock=clock, budget_ms=5_000
    )
    # Then the job stopped at a checkpoint, says it resumes by itself, and the file is in the bucket
    assert job.status == "INTERRUPTED"
    assert 0 < job.processed < 3000
    assert job.message is not None
    assert "resumes by itself" in job.message
    key = upload_key(calendar["id"], job.id)
    assert stores().files.read(key, 10 * len(data)) == data
    # When the bucket's event reaches the worker (as the S3 notification does; no second POST)
    assert ical_app.lambda_handler(s3_event(key, len(data)), lambda_context)["jobs"]
    # Then GET /import/{jobId} shows SUCCEEDED, every event counted once and present
    status, shown, _ = ical("GET", f"/import/{job.id}", lambda_context)
    assert status == 200
    assert (shown["status"], shown["processed"], shown["total"], shown["created"]) == ("SUCCEEDED", 3000, 3000, 3000)
    assert len(list(stores().events.by_source(int(shown["sourceId"])))) == 3000
