"""DELETE cascades that die halfway leave no orphans once resumed (calendar → sources → events)."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal import aws as teamcal_aws
from teamcal.auth.principal import Principal
from teamcal.errors import RetryableError
from teamcal.models.event_record import EventRecord
from teamcal.services import calendars as calendar_service
from teamcal.services import sources as source_service
from teamcal.services.stores import ConfigStores
from teamcal.settings import get_settings
from teamcal.storage.events import EventRepository
from teamcal.storage.sources import SourceRepository
from tests.integration.ccj import ROOT, call, new_calendar, new_source

pytestmark = pytest.mark.integration

JAN1 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000
OWNER = Principal(token_id=1, user="root", admin=True, all_calendars=True, delete_calendars=True, delete_sources=True)


class Crash(Exception):
    """Stands for the Lambda dying (timeout, out of memory) in the middle of a cascade."""


def stores() -> ConfigStores:
    settings = get_settings()
    return ConfigStores.connect(teamcal_aws.client("dynamodb"), settings.calendars_table, settings.sources_table)


def events() -> EventRepository:
    return EventRepository(teamcal_aws.client("dynamodb"), get_settings().events_table)


def add_events(calendar_id: int, source_id: int, count: int) -> None:
    for i in range(count):
        start = JAN1 + i * 40 * 24 * HOUR  # spread over months: several index items each
        events().create(
            EventRecord.from_item(
                {
                    "id": source_id * 100 + i,
                    "calendarId": calendar_id,
                    "eventTypeConfigId": source_id,
                    "kind": "single",
                    "startDate": start,
                    "endDate": start + HOUR,
                    "summary": f"event {i}",
                    "version": 1,
                }
            )
        )


def items(table: str) -> list[dict[str, Any]]:
    """Every item of a table (a Scan: fine in a test that checks nothing is left)."""
    return list(teamcal_aws.client("dynamodb").scan(TableName=table)["Items"])


def seeded(ctx: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A calendar with three sources of three events each."""
    cal = new_calendar(ctx)
    sources = [new_source(ctx, cal["id"]) for _ in range(3)]
    for src in sources:
        add_events(cal["id"], src["id"], 3)
    return cal, sources


def assert_nothing_left() -> None:
    settings = get_settings()
    assert items(settings.calendars_table) == []
    assert items(settings.sources_table) == []
    assert items(settings.events_table) == []


class CrashingSources(SourceRepository):
    """Dies when deleting the n-th source item (after that source's events are gone)."""

    def __init__(self, *args: Any, crash_at: int) -> None:
        super().__init__(*args)
        self.calls = 0
        self.crash_at = crash_at

    def delete(self, record: Any) -> bool:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash()
        return super().delete(record)


def crashing_stores(crash_at: int) -> ConfigStores:
    settings = get_settings()
    client = teamcal_aws.client("dynamodb")
    plain = stores()
    return ConfigStores(
        plain.calendars,
        CrashingSources(client, settings.sources_table, settings.calendars_table, crash_at=crash_at),
        plain.event_types,
    )


def test_calendar_delete_that_dies_halfway_is_invisible_then_resumed_by_a_repeated_delete(
    aws: None, lambda_context: Any
) -> None:
    # Given a calendar with three sources of three events each
    cal, sources = seeded(lambda_context)
    # When the DELETE dies while deleting the second source's item
    with pytest.raises(Crash):
        calendar_service.delete_calendar(crashing_stores(crash_at=2), events(), OWNER, cal["id"])
    # Then the calendar is already invisible: GET 404, listings skip it, its sources are gone from view
    assert call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)[0] == 404
    assert call("calendars", "GET", "/calendar", token=ROOT, ctx=lambda_context) == (200, [])
    assert call("sources", "GET", f"/source/{sources[1]['id']}", token=ROOT, ctx=lambda_context)[0] == 404
    # And nothing can be added to it meanwhile
    status, _ = call(
        "sources",
        "POST",
        "/source",
        {"eventTypeId": "meeting", "calendarConfigurationId": cal["id"], "value": '{"name":"x","color":"#000000"}'},
        token=ROOT,
        ctx=lambda_context,
    )
    assert status == 404
    # When the DELETE is repeated
    status, body = call("calendars", "DELETE", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    # Then it completes, and no calendar, source or event item is left
    assert status == 200
    assert body["id"] == cal["id"]
    assert_nothing_left()


def test_interrupted_calendar_deletions_are_finished_by_the_sweeper(aws: None, lambda_context: Any) -> None:
    # Given two calendars whose deletion died at different points, and one untouched calendar
    first, _ = seeded(lambda_context)
    second, _ = seeded(lambda_context)
    kept = new_calendar(lambda_context)
    with pytest.raises(Crash):
        calendar_service.delete_calendar(crashing_stores(crash_at=1), events(), OWNER, first["id"])
    with pytest.raises(Crash):
        calendar_service.delete_calendar(crashing_stores(crash_at=3), events(), OWNER, second["id"])
    # When the sweeper runs
    done = calendar_service.resume_deletions(stores(), events())
    # Then both deletions are finished and only the untouched calendar remains
    assert sorted(done) == sorted([first["id"], second["id"]])
    assert [c["id"] for c in call("calendars", "GET", "/calendar", token=ROOT, ctx=lambda_context)[1]] == [kept["id"]]
    assert len(items(get_settings().calendars_table)) == 1
    assert items(get_settings().sources_table) == []
    assert items(get_settings().events_table) == []


def test_calendar_delete_about_to_time_out_answers_503_and_a_repeat_finishes(aws: None, lambda_context: Any) -> None:
    cal, _ = seeded(lambda_context)
    with pytest.raises(RetryableError):
        calendar_service.delete_calendar(stores(), events(), OWNER, cal["id"], time_left_ms=lambda: 1_000)
    assert call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)[0] == 404
    assert call("calendars", "DELETE", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)[0] == 200
    assert_nothing_left()


class CrashingEvents(EventRepository):
    """Deletes a source's events, then dies before returning."""

    def delete_by_source(self, source_id: int) -> int:
        super().delete_by_source(source_id)
        raise Crash()


def test_source_delete_that_dies_halfway_is_invisible_then_resumed(aws: None, lambda_context: Any) -> None:
    # Given a calendar with three sources of three events each
    cal, sources = seeded(lambda_context)
    victim = sources[0]
    # When DELETE /source dies after the events went but before the source item did
    dying = CrashingEvents(teamcal_aws.client("dynamodb"), get_settings().events_table)
    with pytest.raises(Crash):
        source_service.delete_source(stores(), dying, OWNER, victim["id"])
    # Then the source is invisible: GET 404, its calendar no longer embeds it, PUT finds nothing
    assert call("sources", "GET", f"/source/{victim['id']}", token=ROOT, ctx=lambda_context)[0] == 404
    _, calendar = call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    assert [s["id"] for s in calendar["sources"]] == [s["id"] for s in sources[1:]]
    assert call("sources", "PUT", "/source", {"id": victim["id"]}, token=ROOT, ctx=lambda_context)[0] == 404
    # When the DELETE is repeated, it completes and returns the source
    status, body = call("sources", "DELETE", f"/source/{victim['id']}", token=ROOT, ctx=lambda_context)
    assert (status, body["id"]) == (200, victim["id"])
    # And only the other sources' items are left
    left_sources = {int(i["id"]["N"]) for i in items(get_settings().sources_table)}
    assert left_sources == {s["id"] for s in sources[1:]}
    assert all(i.get("gsi2pk", {}).get("S") != f"SRC#{victim['id']}" for i in items(get_settings().events_table))
    assert call("sources", "DELETE", f"/source/{victim['id']}", token=ROOT, ctx=lambda_context)[0] == 404


def test_source_delete_removes_its_events_and_only_its_events(aws: None, lambda_context: Any) -> None:
    cal, sources = seeded(lambda_context)
    before = len(items(get_settings().events_table))
    assert call("sources", "DELETE", f"/source/{sources[2]['id']}", token=ROOT, ctx=lambda_context)[0] == 200
    left = [i for i in items(get_settings().events_table) if "gsi2pk" in i]  # not the calendar's change stamp
    assert 0 < len(left) < before
    assert {i["gsi2pk"]["S"] for i in left} == {f"SRC#{s['id']}" for s in sources[:2]}
    assert cal["id"] in {int(i["calendarId"]["N"]) for i in left}


def test_interrupted_source_deletions_are_finished_by_the_sweeper(aws: None, lambda_context: Any) -> None:
    # Given two sources whose DELETE died after their events went, and one untouched source
    cal, sources = seeded(lambda_context)
    dying = CrashingEvents(teamcal_aws.client("dynamodb"), get_settings().events_table)
    for victim in sources[:2]:
        with pytest.raises(Crash):
            source_service.delete_source(stores(), dying, OWNER, victim["id"])
    # When the sweeper runs
    done = source_service.resume_source_deletions(stores(), events())
    # Then both are gone with their events, the untouched one is intact, and the index is empty
    assert sorted(done) == sorted(s["id"] for s in sources[:2])
    assert {int(i["id"]["N"]) for i in items(get_settings().sources_table)} == {sources[2]["id"]}
    assert {i["gsi2pk"]["S"] for i in items(get_settings().events_table) if "gsi2pk" in i} == {
        f"SRC#{sources[2]['id']}"
    }
    assert stores().sources.list_deleting() == []
    _, calendar = call("calendars", "GET", f"/calendar/{cal['id']}", token=ROOT, ctx=lambda_context)
    assert [s["id"] for s in calendar["sources"]] == [sources[2]["id"]]
