"""The master's ``overrides`` entries: one construction for every writer."""

from __future__ import annotations

import pytest

from teamcal.models.event_record import override_entry, with_override

pytestmark = pytest.mark.unit

CHILD = {"id": 9, "startDate": 1_000, "endDate": 2_000, "allDay": False, "summary": "moved"}
MASTER = {"id": 1, "version": 3, "overrides": {"20260302": {"id": 8, "startDate": 5, "endDate": 6, "allDay": True}}}


def test_an_entry_holds_the_childs_id_and_times_only() -> None:
    assert override_entry(CHILD) == {"id": 9, "startDate": 1_000, "endDate": 2_000, "allDay": False}


def test_setting_and_removing_an_override_bumps_the_version_and_leaves_the_master_alone() -> None:
    set_ = with_override(MASTER, "20260309", CHILD)
    assert set_["overrides"]["20260309"] == override_entry(CHILD)
    assert set_["overrides"]["20260302"] == MASTER["overrides"]["20260302"]
    assert set_["version"] == 4
    removed = with_override(set_, "20260302", None)
    assert list(removed["overrides"]) == ["20260309"]
    assert removed["version"] == 5
    assert list(MASTER["overrides"]) == ["20260302"]
