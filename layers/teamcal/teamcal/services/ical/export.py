"""iCalendar export: a calendar's .ics, returned directly or as a snapshot in the bucket.

Export reads every event of the calendar's sources — the event sources (vacation, sickness,
trip, meeting, custom) and the Jira-backed ones (jira, sprint, version: their events are synced
from Jira, as CCJ's export holds "issues and events") — :meth:`EventRepository.by_source`, no
window — and writes them with :mod:`teamcal.ical.writer`.

Reference: calendar-integrations.txt ("Export Calendar to iCal format"); RFC 5545; issue 5.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from teamcal.access import is_active, visible_items
from teamcal.auth.principal import Principal
from teamcal.ical.writer import CalendarWriter
from teamcal.ids import new_id
from teamcal.models.calendars import CalendarRecord
from teamcal.models.ical import Snapshot
from teamcal.services.ical.stores import IcalStores, active_calendar
from teamcal.storage.ics_files import snapshot_key


def _value(raw: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(str(raw or "{}"))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def calendar_name(calendar: CalendarRecord) -> str:
    """The calendar's ``value.name`` (its id when unnamed)."""
    name = _value(calendar.value).get("name")
    return str(name) if name else f"Calendar {calendar.id}"


def event_sources(stores: IcalStores, calendar: CalendarRecord, principal: Principal | None) -> list[dict[str, Any]]:
    """The calendar's ACTIVE sources (event sources and Jira-backed ones: their synced events)
    that ``principal`` may see (``None``, a feed's anonymous reader: no private Google source)."""
    sources = stores.config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
    return visible_items(principal, calendar, (s for s in sources if is_active(s)))


def source_colors(sources: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for source in sources:
        color = _value(source.get("value")).get("color")
        if isinstance(color, str) and color:
            out[int(source["id"])] = color
    return out


def year_of(ms: int) -> int:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).year


# ---------------------------------------------------------------------------- export
def calendar_ics(stores: IcalStores, principal: Principal, calendar_id: int, now: int) -> tuple[str, int]:
    """The calendar's .ics text (every event of its event sources, with recurrence) and the
    number of stored events in it (masters, single events and exceptions).

    Raises:
        NotFoundError: the calendar is absent, being deleted, or not viewable by the token.

    Private Google events are written for the calendar's owner only (:mod:`teamcal.access`, rule 10).
    """
    calendar = active_calendar(stores, principal, calendar_id)
    sources = event_sources(stores, calendar, principal)
    records = visible_items(
        principal, calendar, (record for source in sources for record in stores.events.by_source(int(source["id"])))
    )
    text = CalendarWriter(calendar_name(calendar), source_colors(sources)).write(
        records, horizon_year=year_of(now) + 10
    )
    return text, len(records)


def create_snapshot(
    stores: IcalStores, principal: Principal, calendar_id: int, now: int, expires_seconds: int
) -> Snapshot:
    """``POST /calendar/{calendarId}/export``: write the calendar's .ics to the bucket and return
    ``{snapshotId, key, url, expires}`` (a presigned GET URL valid ``expires_seconds``).

    Raises:
        NotFoundError: as :func:`calendar_ics`.
    """
    text, count = calendar_ics(stores, principal, calendar_id, now)
    snapshot_id = new_id()
    key = snapshot_key(calendar_id, snapshot_id, now)
    stores.files.put(key, text)
    url = stores.files.download_url(key, f"calendar-{calendar_id}.ics", expires_seconds)
    return Snapshot(snapshot_id=snapshot_id, key=key, url=url, expires=now + expires_seconds * 1000, events=count)


def store_large_export(stores: IcalStores, calendar_id: int, text: str, now: int, expires_seconds: int) -> str:
    """Put an export too large for a Lambda response in the bucket; returns its download URL."""
    key = snapshot_key(calendar_id, new_id(), now)
    stores.files.put(key, text)
    return stores.files.download_url(key, f"calendar-{calendar_id}.ics", expires_seconds)
