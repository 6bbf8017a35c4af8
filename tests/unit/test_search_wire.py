"""A search's occurrence values are the same, byte for byte, as the plain formula gives: the
cheaper construction in ``services.events`` (one dict copy, only the list fields copied) changes
no value, no key order and shares no list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from teamcal.models.event_record import EventRecord
from teamcal.recurrence import Occurrence, Series
from teamcal.services import events

pytestmark = pytest.mark.unit

DAY = 86_400_000
HOUR = 3_600_000
START = 1_772_442_000_000  # 2026-03-02T09:00:00Z, a Monday


def _reference(wire: Mapping[str, Any], master: EventRecord, series: Series, occurrence: Occurrence) -> dict[str, Any]:
    """The occurrence's wire form as the search built it before (b2dfca2)."""
    out = {k: list(v) if isinstance(v, list) else v for k, v in wire.items()}
    if occurrence.all_day:
        assert occurrence.all_day_start is not None
        assert occurrence.all_day_end is not None
        times: dict[str, Any] = {
            "allDay": True,
            "allDayStart": occurrence.all_day_start.isoformat(),
            "allDayEnd": occurrence.all_day_end.isoformat(),
        }
    else:
        times = {"allDay": False, "startDate": occurrence.start_ms, "endDate": occurrence.end_ms}
    out.update(times)
    out.update(
        startDate=occurrence.start_ms,
        endDate=occurrence.end_ms,
        parentId=master.id,
        recurrenceId=occurrence.recurrence_id_full if series.multi_per_day else occurrence.recurrence_id,
    )
    if not occurrence.all_day:
        out.update(allDayStart=None, allDayEnd=None)
    return out


def _master(i: int, **fields: Any) -> EventRecord:
    item = {
        "id": 100 + i,
        "calendarId": 2,
        "eventTypeConfigId": 3,
        "summary": f"m{i}",
        "description": "d",
        "userKeys": ["u1", "u2"],
        "reporter": "u1",
        "version": 2,
        "created": 10,
        "updated": 20,
        **fields,
    }
    return EventRecord.from_item(item).normalized("UTC")


MASTERS = [
    _master(
        1,
        startDate=START,
        endDate=START + HOUR,
        timeZone="Europe/Berlin",
        recurrence="FREQ=WEEKLY;BYDAY=MO,WE",
        exdate=["20260309T100000"],
    ),
    _master(2, allDayStart="2026-03-02", allDayEnd="2026-03-04", timeZone="America/New_York", recurrence="FREQ=WEEKLY"),
    _master(3, startDate=START, endDate=START + HOUR // 2, timeZone="Asia/Tokyo", recurrence="FREQ=DAILY;BYHOUR=9,15"),
    _master(
        4, startDate=START, endDate=START + HOUR, timeZone="UTC", recurrence="FREQ=DAILY", rdate=["20260301T120000"]
    ),
]


def test_occurrence_values_equal_the_plain_formula_in_content_and_key_order(monkeypatch: pytest.MonkeyPatch) -> None:
    start, end = START - 7 * DAY, START + 91 * DAY
    values, truncated = events.occurrences_in([], MASTERS, start, end)
    assert not truncated
    assert {v["allDay"] for v in values} == {True, False}
    assert len(values) > 200
    monkeypatch.setattr(
        events,
        "_occurrence_wire",
        lambda wire, lists, master, series, occurrence: _reference(wire, master, series, occurrence),
    )
    expected, _ = events.occurrences_in([], MASTERS, start, end)
    assert json.dumps(values) == json.dumps(expected)
    # and no two occurrences share a list
    lists = [id(v[k]) for v in values for k in ("userKeys", "exdate", "rdate")]
    assert len(set(lists)) == len(lists)


def _single(i: int, **fields: Any) -> EventRecord:
    return _master(1000 + i, **fields)


def _reference_page(found: list[EventRecord], request: Any, budget: int) -> dict[str, Any]:
    """The page as the search built it before (b2dfca2): every value built, sorted, sliced."""
    from teamcal.models.common import within_budget

    start, end = events.search_window(request)
    values, truncated = events.occurrences_in(found, MASTERS, start, end)
    values.sort(key=lambda v: (v["startDate"], v["id"], v.get("recurrenceId") or ""))
    total = len(values)
    first = request.start_at
    size = request.max_results if request.max_results is not None else min(max(total - first, 0), events.PAGE_CAP)
    last = min(total, first + size)
    if last > first:
        last = first + within_budget(values[first:last], budget)
    page = {"startAt": first, "maxResults": size, "total": total, "isLast": last >= total}
    return {**page, "truncated": truncated, "values": values[first:last]}


@pytest.mark.parametrize("budget", [4_000_000, 20_000])
@pytest.mark.parametrize(("start_at", "max_results"), [(0, None), (7, None), (50, 30), (0, 5), (10_000, None)])
def test_search_pages_equal_the_plain_formula(
    monkeypatch: pytest.MonkeyPatch, budget: int, start_at: int, max_results: int | None
) -> None:
    from teamcal.models.common import within_budget
    from teamcal.models.events import SearchRequest

    found = [
        _single(1, startDate=START + HOUR, endDate=START + 2 * HOUR, timeZone="UTC"),
        _single(2, startDate=START, endDate=START + HOUR, timeZone="UTC"),  # ties the first occurrence
        _single(3, allDayStart="2026-03-05", allDayEnd="2026-03-06", timeZone="UTC"),
    ]

    class Events:
        def in_window(self, calendar_id: int, start: int, end: int) -> list[EventRecord]:
            return found

        def masters(self, calendar_id: int, start: int, end: int) -> list[EventRecord]:
            return MASTERS

    class Stores:
        events = Events()

    monkeypatch.setattr(events, "_searched_sources", lambda stores, principal, request: {2: {3}})
    monkeypatch.setattr(events, "within_budget", lambda values: within_budget(values, budget))
    body: dict[str, Any] = {"calendarId": 2, "startDate": START - 7 * 86_400_000, "endDate": START + 84 * 86_400_000}
    request = SearchRequest.model_validate({**body, "startAt": start_at, "maxResults": max_results})
    page = events.search(Stores(), None, request)  # type: ignore[arg-type]
    expected = _reference_page(found, request, budget)
    assert json.dumps(page.model_dump(by_alias=True)) == json.dumps(expected)


def test_rows_sort_as_a_stable_sort_by_start_id_and_recurrence_id() -> None:
    import random

    rng = random.Random(3)
    values = [
        {
            "startDate": rng.randint(0, 3),
            "id": rng.randint(0, 2),
            "recurrenceId": rng.choice([None, "", "b", "a"]),
            "n": n,
        }
        for n in range(400)
    ]
    rows: list[Any] = [(v["startDate"], v["id"], v["recurrenceId"] or "", v) for v in values]
    events._sort(rows)
    expected = sorted(values, key=lambda v: (v["startDate"], v["id"], v.get("recurrenceId") or ""))
    assert [r[3]["n"] for r in rows] == [v["n"] for v in expected]


def test_every_row_sorts_by_the_start_id_and_recurrence_id_its_value_carries() -> None:
    found = [
        _single(1, startDate=START + DAY, endDate=START + DAY + HOUR),
        _single(2, allDayStart="2026-03-05", allDayEnd="2026-03-06", timeZone="Europe/Paris"),
        # an exception whose master was not read: shown as itself, with its recurrence id
        _single(3, startDate=START, endDate=START + HOUR).as_child(9999, "20260302T090000"),
    ]
    rows, _ = events._occurrence_rows(found, MASTERS, START - 7 * DAY, START + 84 * DAY, events.SEARCH_CAP)
    assert any(r[2] is None for r in rows)
    assert sum(isinstance(r[3], EventRecord) for r in rows) == len(found)
    for row in rows:
        value = events._value(row)
        assert (row[0], row[1], events._recurrence_key(row)) == (
            value["startDate"],
            value["id"],
            value.get("recurrenceId") or "",
        )
