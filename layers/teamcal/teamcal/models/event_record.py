"""Rules of a stored event record that every writer shares: a master's ``overrides`` entries.

A recurring master keeps, per exception (a CCJ child with ``parentId`` + ``recurrenceId``), an
entry ``overrides[recurrenceId] = {id, startDate, endDate, allDay}`` (epoch ms, UTC; the
child's own times) so that a search expands the series without reading every child. The events
API, the iCalendar import, the Google sync and the replication receiver all build those entries
here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def override_entry(child: Mapping[str, Any]) -> dict[str, Any]:
    """The master's ``overrides`` entry for the exception ``child`` (a stored child record)."""
    return {
        "id": int(child["id"]),
        "startDate": int(child["startDate"]),
        "endDate": int(child["endDate"]),
        "allDay": bool(child["allDay"]),
    }


def with_override(master: Mapping[str, Any], recurrence_id: str, child: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``master`` whose entry for ``recurrence_id`` is set to ``child`` (removed when
    ``child`` is None), at the next ``version``; the caller sets ``updated`` if it should change."""
    overrides = dict(master.get("overrides") or {})
    if child is None:
        overrides.pop(recurrence_id, None)
    else:
        overrides[recurrence_id] = override_entry(child)
    return {**master, "overrides": overrides, "version": int(master["version"]) + 1}
