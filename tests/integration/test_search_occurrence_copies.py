"""A search's expanded occurrences: each one a whole, separate copy of its master's API form."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal import aws
from teamcal.services.events import occurrences_in, to_wire
from teamcal.settings import get_settings
from teamcal.storage.events import EventRepository
from tests.integration.test_events import DAY, MAR2_0900_BERLIN, setup, weekly

pytestmark = pytest.mark.integration
__all__ = ["setup"]  # the fixture, used by name


def test_occurrences_carry_the_master_and_share_no_lists(setup: dict[str, Any]) -> None:
    # Given a weekly master with users and an EXDATE
    weekly(setup, userKeys=["u1", "u2"], exdate=["20260309"])
    repo = EventRepository(aws.client("dynamodb"), get_settings().events_table)
    start, end = MAR2_0900_BERLIN - DAY, MAR2_0900_BERLIN + 91 * DAY
    masters = repo.masters(setup["calendar"]["id"], start, end)
    # When its occurrences are expanded
    values, truncated = occurrences_in([], masters, start, end)
    # Then each carries the master's fields, with its own times and recurrence id
    assert not truncated
    assert len(values) == 9
    master = to_wire(masters[0]).model_dump(by_alias=True)
    for value in values:
        for field in ("summary", "userKeys", "exdate", "timeZone", "version", "calendarId", "reporter"):
            assert value[field] == master[field]
        assert value["parentId"] == master["id"]
    assert len({v["startDate"] for v in values}) == len({v["recurrenceId"] for v in values}) == 9
    # And no two occurrences share a list: changing one changes no other
    values[0]["userKeys"].append("x")
    values[0]["exdate"].clear()
    assert all(v["userKeys"] == ["u1", "u2"] and v["exdate"] == ["20260309"] for v in values[1:])
