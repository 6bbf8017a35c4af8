"""EventRecord: the one owner of a stored event's rules (overrides, series fields, origin)."""

from __future__ import annotations

import pytest

from teamcal.errors import InvalidInputError
from teamcal.models.event_record import UNBOUNDED_MS, EventRecord, override_entry
from teamcal.models.origin import Origin, OriginKind

pytestmark = pytest.mark.unit

HOUR = 3_600_000
START = 1_772_442_000_000  # 2026-03-02T09:00:00Z, a Monday
CHILD = EventRecord.from_item(
    {"id": 9, "calendarId": 2, "eventTypeConfigId": 3, "startDate": 1_000, "endDate": 2_000, "allDay": False}
)


def _master(**changes: object) -> EventRecord:
    item = {
        "id": 1,
        "calendarId": 2,
        "eventTypeConfigId": 3,
        "kind": "master",
        "summary": "standup",
        "description": None,
        "userKeys": ["u1"],
        "reporter": "u1",
        "allDay": False,
        "allDayStart": None,
        "allDayEnd": None,
        "startDate": START,
        "endDate": START + HOUR,
        "timeZone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;COUNT=3",
        "exdate": [],
        "rdate": [],
        "parentId": None,
        "recurrenceId": None,
        "version": 3,
        "created": 10,
        "updated": 20,
        "seriesEnd": START + 14 * 24 * HOUR + HOUR,
        "overrides": {"20260309T100000": {"id": 8, "startDate": 5, "endDate": 6, "allDay": True}},
        **changes,
    }
    return EventRecord.from_item(item)


def test_item_to_record_to_item_is_lossless_extras_and_every_origin_included() -> None:
    for origin in (None, "google", "jira", {"synchronizationId": 4, "eventId": 77}):
        item = {**_master().to_item(), "origin": origin, "external": {"ns": "ics", "key": "u"}, "sequence": 2}
        if origin is None:
            del item["origin"]
        assert EventRecord.from_item(item).to_item() == item
    single = {"id": 5, "calendarId": 2, "eventTypeConfigId": 3, "kind": "single", "startDate": 0, "endDate": 1}
    assert EventRecord.from_item(single).to_item() == single  # attributes it lacked stay absent


def test_it_is_read_by_attribute_and_no_longer_as_a_mapping() -> None:
    record = _master(origin={"synchronizationId": 4, "eventId": 77}, uid="x", googleEtag="e1", readOnly=True)
    assert record.start_date == START
    assert record.origin == Origin.partner(4, 77)
    assert (record.google_etag, record.read_only, record.private) == ("e1", True, False)
    assert record.to_item()["origin"] == {"synchronizationId": 4, "eventId": 77}
    assert record.to_item()["uid"] == "x"  # an attribute it does not name is kept
    # the transition's Mapping interface is gone: a key read is a TypeError, not a silent default
    with pytest.raises(TypeError):
        record["startDate"]  # type: ignore[index]
    assert not hasattr(record, "get")
    assert record != record.to_item()


def test_the_sync_attributes_it_names_round_trip_and_stay_absent_when_not_stored() -> None:
    item = {
        **_master().to_item(),
        "readOnly": True,
        "private": True,
        "external": {"ns": "gcal:x", "key": "g1"},
        "sequence": 2,
        "lastModified": 1_000,
        "googleEtag": "e",
        "googleExdate": ["20260309T100000"],
        "googleCancelled": [],
        "syncApplied": {"synchronizationId": 4, "version": 3},
    }
    assert EventRecord.from_item(item).to_item() == item
    plain = _master().to_item()
    assert EventRecord.from_item(plain).to_item() == plain
    assert EventRecord.from_item(plain).google_exdate == []


def test_a_record_without_origin_was_made_here() -> None:
    assert _master().came_from.kind is OriginKind.LOCAL
    assert EventRecord.from_item({**_master().to_item(), "origin": "google"}).came_from.kind is OriginKind.GOOGLE


def test_setting_and_removing_an_override_bumps_the_version_and_leaves_the_master_alone() -> None:
    master = _master()
    set_ = master.with_override("20260316T100000", CHILD)
    assert set_.overrides["20260316T100000"] == override_entry(CHILD)
    assert set_.overrides["20260309T100000"] == master.overrides["20260309T100000"]
    assert set_.version == 4
    removed = set_.without_override("20260309T100000")
    assert list(removed.overrides) == ["20260316T100000"]
    assert removed.version == 5
    assert list(master.overrides) == ["20260309T100000"]  # records are immutable
    assert master.version == 3


def test_an_override_entry_holds_the_childs_id_and_times_only() -> None:
    assert override_entry(CHILD) == {"id": 9, "startDate": 1_000, "endDate": 2_000, "allDay": False}


def test_cancelling_an_occurrence_makes_an_exdate_and_drops_its_override() -> None:
    master = _master()
    cancelled = master.cancel_occurrences(["20260309T100000"], updated=99)
    assert cancelled.exdate == ["20260309T100000"]
    assert cancelled.overrides == {}
    assert (cancelled.version, cancelled.updated) == (4, 99)
    assert cancelled.series_end == master.series_end  # COUNT: the last occurrence stays
    assert cancelled.kind == "master"


def test_normalising_fills_kind_series_end_overrides_and_both_all_day_forms() -> None:
    raw = EventRecord.from_item(
        {
            "id": 1,
            "calendarId": 2,
            "eventTypeConfigId": 3,
            "allDayStart": "2026-03-02",
            "allDayEnd": "2026-03-03",
            "recurrence": "FREQ=DAILY;UNTIL=20260310",
            "timeZone": None,
        }
    )
    record = raw.normalized("Europe/Berlin")
    assert record.kind == "master"
    assert record.all_day is True
    assert (record.all_day_start, record.all_day_end) == ("2026-03-02", "2026-03-03")
    assert record.end_date - record.start_date == 2 * 24 * HOUR
    assert record.time_zone == "Europe/Berlin"
    assert record.overrides == {}
    assert record.series_end == record.series_end_ms
    single = record.replaced({"recurrence": None}).normalized("UTC")
    assert single.kind == "single"
    assert "seriesEnd" not in single
    assert "overrides" not in single


def test_normalising_names_the_bad_field() -> None:
    with pytest.raises(InvalidInputError) as e:
        _master(recurrence="FREQ=SOMETIMES").normalized("UTC")
    assert "recurrence" in e.value.errors


def test_series_end_for_count_until_and_unbounded_rules() -> None:
    assert _master().series_end_ms == START + 14 * 24 * HOUR + HOUR  # COUNT=3 weekly
    until = _master(recurrence="FREQ=DAILY;UNTIL=20260304T080000Z")
    assert until.series_end_ms == START + 2 * 24 * HOUR - HOUR + HOUR  # the UNTIL instant + the duration
    assert _master(recurrence="FREQ=DAILY").series_end_ms == UNBOUNDED_MS


def test_a_child_has_no_series_of_its_own() -> None:
    child = _master().as_child(1, "20260309T100000")
    assert (child.kind, child.parent_id, child.recurrence_id) == ("child", 1, "20260309T100000")
    assert (child.recurrence, child.exdate, child.rdate) == (None, [], [])
    assert "seriesEnd" not in child
    assert "overrides" not in child
    assert child.normalized("UTC").kind == "child"


def test_evolve_merges_a_clients_edit_and_bumps_the_version() -> None:
    master = _master()
    moved = master.evolve({"allDayStart": "2026-03-02", "allDayEnd": "2026-03-02"}, updated=50)
    assert "startDate" not in moved  # sending all-day fields drops the ms ones
    assert moved.all_day is True
    assert (moved.version, moved.updated) == (4, 50)


def test_a_split_hands_the_later_overrides_to_the_new_master() -> None:
    master = _master().with_override("20260316T100000", CHILD)
    kept, handed_over = master.overrides_split(["20260309T100000"])
    assert list(kept.overrides) == ["20260309T100000"]
    assert kept.version == master.version  # the caller's evolve bumps it
    assert handed_over == {"20260316T100000": override_entry(CHILD)}
    other = _master(id=5, overrides={}).adopting_overrides(handed_over)
    assert other.overrides == handed_over
    assert other.version == 3


def test_an_exceptions_time_fields_say_child_and_carry_no_series_end() -> None:
    from teamcal.models.event_record import child_fields

    fields = child_fields(_master(recurrence=None, kind="single").series())
    assert fields["kind"] == "child"
    assert "seriesEnd" not in fields
    assert (fields["startDate"], fields["endDate"], fields["recurrence"]) == (START, START + HOUR, None)
