"""iCalendar export: a calendar's .ics, returned directly or as a snapshot in the bucket.

Export reads every event of the calendar's sources — the event sources (vacation, sickness,
trip, meeting, custom) and the Jira-backed ones (jira, sprint, version: their events are synced
from Jira, as CCJ's export holds "issues and events") — :meth:`EventRepository.by_source`, no
window — and writes them with :mod:`teamcal.ical.writer`.

Reference: calendar-integrations.txt ("Export Calendar to iCal format"); RFC 5545; issue 5.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from teamcal.access import visible_items
from teamcal.auth.principal import Principal
from teamcal.conditional import Validators, not_modified
from teamcal.ical.writer import CalendarWriter
from teamcal.ids import new_id
from teamcal.models.calendars import CalendarRecord
from teamcal.models.ical import Snapshot
from teamcal.models.sources import SourceRecord
from teamcal.services.ical.stores import IcalStores, active_calendar
from teamcal.storage.ics_files import snapshot_key

#: Changes whenever the way a .ics is written changes (part of the ETag).
ICS_FORMAT = "ics-1"
DAY_MS = 86_400_000


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


def event_sources(stores: IcalStores, calendar: CalendarRecord, principal: Principal | None) -> list[SourceRecord]:
    """The calendar's ACTIVE sources (event sources and Jira-backed ones: their synced events)
    that ``principal`` may see (``None``, a feed's anonymous reader: no private Google source)."""
    sources = stores.config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
    return visible_items(principal, calendar, (s for s in sources if s.active))


def source_colors(sources: Iterable[SourceRecord]) -> dict[int, str]:
    out: dict[int, str] = {}
    for source in sources:
        color = _value(source.value).get("color")
        if isinstance(color, str) and color:
            out[source.id] = color
    return out


def year_of(ms: int) -> int:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).year


# ---------------------------------------------------------------------------- validators
@dataclass(frozen=True)
class IcsAnswer:
    """A feed or an export: the calendar's id, its validators, and the .ics ``text`` — ``None``
    when the client's copy is current (answer ``304``: no event was read)."""

    calendar_id: int
    validators: Validators
    text: str | None


def ics_validators(
    stores: IcalStores, calendar: CalendarRecord, sources: list[SourceRecord], reader: str, now: int
) -> Validators:
    """The ETag / Last-Modified of a calendar's .ics as ``reader`` sees it, from what changes it:
    the calendar's change stamp (every event write), the calendar and its visible sources, the
    reader (what it may see), and the UTC day for a feed (its window moves with ``now``). One
    GetItem besides what the caller read; no event read."""
    stamp = stores.events.change_stamp(calendar.id)
    day = now // DAY_MS
    parts = [
        ICS_FORMAT,
        reader,
        stamp.changes,
        stamp.modified,
        calendar.version,
        calendar.updated,
        sorted((s.id, s.version, s.updated) for s in sources),
        day,
    ]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()[:32]
    changed = [stamp.modified, calendar.updated, day * DAY_MS, *(s.updated for s in sources)]
    return Validators(etag=f'"{digest}"', last_modified=max(changed) // 1000 * 1000)


# ---------------------------------------------------------------------------- export
def export_answer(
    stores: IcalStores,
    principal: Principal,
    calendar_id: int,
    now: int,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
) -> IcsAnswer:
    """``GET /calendar/{calendarId}/export``: the validators of the calendar's .ics as
    ``principal`` sees it and, unless the client's copy is current, the .ics
    (:func:`calendar_ics`). A ``304`` reads the calendar, its sources and its change stamp only.

    Raises:
        NotFoundError: as :func:`calendar_ics`.
    """
    calendar = active_calendar(stores, principal, calendar_id)
    sources = event_sources(stores, calendar, principal)
    validators = ics_validators(stores, calendar, sources, f"token:{principal.token_id}:{principal.user}", now)
    if not_modified(if_none_match, if_modified_since, validators):
        return IcsAnswer(calendar.id, validators, None)
    return IcsAnswer(calendar.id, validators, calendar_ics(stores, principal, calendar_id, now)[0])


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
        principal, calendar, (record for source in sources for record in stores.events.by_source(source.id))
    )
    text = CalendarWriter(calendar_name(calendar), source_colors(sources)).write(
        [r.to_item() for r in records], horizon_year=year_of(now) + 10
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
