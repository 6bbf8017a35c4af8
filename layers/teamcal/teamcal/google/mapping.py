"""Google Calendar event JSON → teamcal event records (pure: no I/O).

Sources: Google Calendar API v3, Events resource (``start``/``end`` with ``date`` - the end date
EXCLUSIVE - or ``dateTime`` + ``timeZone``; ``recurrence`` = RRULE / EXRULE / RDATE / EXDATE
lines of RFC 5545 §3.8.5; ``recurringEventId`` + ``originalStartTime`` on instances of a recurring
event; ``status: "cancelled"``), the "Recurring events" guide, and the "Synchronize resources
efficiently" guide (with ``singleEvents=false`` a listing holds masters, modified instances and
cancelled instances; an incremental listing carries deleted events as ``{"id", "status":
"cancelled"}``).

How Google's shapes become ours (the record fields of :mod:`teamcal.services.events`):

=====================================  =========================================================
Google                                 teamcal
=====================================  =========================================================
event without ``recurrence``           a ``single`` event
event with ``recurrence``              a ``master``: RRULE → ``recurrence``, EXDATE → ``exdate``,
                                       RDATE → ``rdate`` (PERIOD values and EXRULE are dropped,
                                       with a note)
instance with ``recurringEventId``     a ``child`` of that master: ``recurrenceId`` from
(not cancelled)                        ``originalStartTime``
cancelled instance                     an EXDATE of the master (and its child, if any, goes)
``status: "cancelled"`` (no master)    the event is deleted (a master with its children)
``start.date`` / ``end.date``          ``allDayStart`` / ``allDayEnd`` = end date - 1 day
                                       (Google's end is exclusive, ours inclusive)
``dateTime`` + ``timeZone``            ``startDate``/``endDate`` (epoch ms UTC) and ``timeZone``
                                       (the event's zone, else the Google calendar's, else the
                                       teamcal calendar's)
=====================================  =========================================================

Recurrence ids name an occurrence by its ORIGINAL start (RFC 5545 §3.8.4.4): ``YYYYMMDD`` for an
all-day series, ``YYYYMMDDTHHMMSSZ`` (the UTC instant) for a timed one, so they match whatever the
zones of the master and the instance (:mod:`teamcal.recurrence.values`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from teamcal.errors import InvalidInputError
from teamcal.models.event_record import EventRecord, child_fields, kind_fields
from teamcal.models.event_record import series_fields as record_series_fields
from teamcal.models.text import MAX_DESCRIPTION, MAX_SUMMARY, check_text
from teamcal.recurrence import Series, zone
from teamcal.recurrence.values import format_date, format_local

_DAY = dt.timedelta(days=1)
_UTC = dt.UTC


def namespace(google_calendar_id: str) -> str:
    """The :func:`teamcal.ids.external_id` namespace of a Google calendar's events."""
    return f"google:{google_calendar_id}"


# ---------------------------------------------------------------------------- changes
@dataclass(frozen=True)
class Upsert:
    """A single event or a recurring master to create or replace.

    ``fields``: summary, description and the time fields of :func:`series_fields` (``kind`` is
    ``single`` or ``master``). ``google_exdate``: the EXDATEs of Google's own recurrence lines
    (our form), kept apart from EXDATEs that come from cancelled instances.
    """

    google_id: str
    etag: str | None
    fields: dict[str, Any]
    google_exdate: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstanceUpsert:
    """A modified instance of master ``master_id``: our child replacing occurrence ``recurrence_id``."""

    google_id: str
    master_id: str
    recurrence_id: str
    etag: str | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class InstanceCancel:
    """A cancelled instance of master ``master_id``: an EXDATE ``recurrence_id``."""

    google_id: str
    master_id: str
    recurrence_id: str


@dataclass(frozen=True)
class Delete:
    """A cancelled (deleted) event that is not an instance: it goes, with its children."""

    google_id: str


@dataclass(frozen=True)
class Skip:
    """An item that cannot be stored (no id, unreadable times, a rule the engine refuses)."""

    google_id: str
    reason: str


Change = Upsert | InstanceUpsert | InstanceCancel | Delete | Skip


@dataclass
class _Recurrence:
    rrule: str | None = None
    exdate: list[str] = field(default_factory=list)
    rdate: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- classify
def classify(item: Mapping[str, Any], default_zone: str) -> Change:
    """What one ``events.list`` item means for our store.

    ``default_zone`` is the zone of events that name none (the Google calendar's ``timeZone``,
    else the teamcal calendar's). Never raises for bad data: an unusable item is a :class:`Skip`.
    """
    google_id = item.get("id")
    if not isinstance(google_id, str) or not google_id:
        return Skip("", "an item without an id")
    master_id = item.get("recurringEventId")
    original = item.get("originalStartTime")
    cancelled = item.get("status") == "cancelled"
    try:
        zone_name = _zone_name(default_zone, "UTC")
        if isinstance(master_id, str) and master_id and isinstance(original, Mapping):
            rid = recurrence_ref(original, zone_name)
            if cancelled:
                return InstanceCancel(google_id, master_id, rid)
            return InstanceUpsert(google_id, master_id, rid, _etag(item), _instance_fields(item, zone_name))
        if cancelled:
            return Delete(google_id)
        lines = item.get("recurrence") or []
        recurrence = _Recurrence()
        series = _series(item, zone_name, lines, recurrence)
        fields = {**_texts(item), **series_fields(series)}
        return Upsert(google_id, _etag(item), fields, tuple(recurrence.exdate), tuple(recurrence.notes))
    except (InvalidInputError, ValueError, TypeError, KeyError) as e:
        reason = e.message if isinstance(e, InvalidInputError) else str(e)
        return Skip(google_id, f"event {google_id}: {reason}"[:300])


def _etag(item: Mapping[str, Any]) -> str | None:
    etag = item.get("etag") or item.get("updated")
    return str(etag) if etag else None


def _texts(item: Mapping[str, Any]) -> dict[str, Any]:
    summary = item.get("summary")
    description = item.get("description")
    return {  # control characters: ValueError, the event is skipped with the reason
        "summary": check_text(str(summary)[:MAX_SUMMARY], "summary", multiline=True) if summary else None,
        "description": (
            check_text(str(description)[:MAX_DESCRIPTION], "description", multiline=True) if description else None
        ),
    }


def _instance_fields(item: Mapping[str, Any], zone_name: str) -> dict[str, Any]:
    return {**_texts(item), **child_fields(_series(item, zone_name, [], _Recurrence()))}


# ---------------------------------------------------------------------------- times
def _zone_name(candidate: object, fallback: str) -> str:
    """``candidate`` when it names an IANA zone, else ``fallback``."""
    if isinstance(candidate, str) and candidate:
        try:
            zone(candidate)
        except InvalidInputError:
            return fallback
        return candidate
    return fallback


def _instant_ms(when: Mapping[str, Any], zone_name: str) -> int:
    """Epoch ms of an EventDateTime's ``dateTime`` (RFC 3339; a value without offset is read in
    its ``timeZone``, else ``zone_name``)."""
    value = dt.datetime.fromisoformat(str(when["dateTime"]).replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(_zone_name(when.get("timeZone"), zone_name)))
    return int(value.timestamp() * 1000)


def _series(item: Mapping[str, Any], zone_name: str, lines: Sequence[object], recurrence: _Recurrence) -> Series:
    start = item.get("start")
    end = item.get("end") or start
    if not isinstance(start, Mapping) or not isinstance(end, Mapping):
        raise InvalidInputError("has no start")
    if start.get("date"):
        first = dt.date.fromisoformat(str(start["date"]))
        end_exclusive = dt.date.fromisoformat(str(end.get("date") or start["date"]))
        last = max(first, end_exclusive - _DAY)  # Google's end date is exclusive, ours inclusive
        _parse_recurrence(lines, zone_name, True, recurrence)
        return Series.from_all_day(first, last, zone_name, recurrence.rrule, recurrence.exdate, recurrence.rdate)
    if start.get("dateTime"):
        series_zone = _zone_name(start.get("timeZone"), zone_name)
        start_ms = _instant_ms(start, series_zone)
        end_ms = _instant_ms(end, series_zone) if end.get("dateTime") else start_ms
        _parse_recurrence(lines, series_zone, False, recurrence)
        return Series.from_timed(
            start_ms, max(end_ms, start_ms), series_zone, recurrence.rrule, recurrence.exdate, recurrence.rdate
        )
    raise InvalidInputError("has neither start.date nor start.dateTime")


def series_fields(series: Series) -> dict[str, Any]:
    """The stored time fields of a series (the events' normal form,
    :func:`teamcal.models.event_record.series_fields`, EXDATE / RDATE sorted) with ``kind``
    (``single`` | ``master``) and, for a master, ``seriesEnd`` (:func:`~teamcal.models.event_record.kind_fields`)."""
    return {**record_series_fields(series, sort_dates=True), **kind_fields(series)}


def with_exdates(record: EventRecord | Mapping[str, Any], exdates: Iterable[str]) -> EventRecord:
    """A master (a record, or the wire fields :func:`classify` gives) with ``exdate`` replaced by
    ``exdates`` and its time fields recomputed. Raises RecurrenceError on a malformed value."""
    master = record if isinstance(record, EventRecord) else EventRecord.from_item(record)
    series = master.replaced({"exdate": sorted(set(exdates))}).series()
    return master.replaced(series_fields(series))


def recurrence_ref(original: Mapping[str, Any], zone_name: str) -> str:
    """The recurrence id naming the occurrence an instance's ``originalStartTime`` names:
    ``YYYYMMDD`` for a date, ``YYYYMMDDTHHMMSSZ`` (UTC) for a date-time."""
    if original.get("date"):
        return format_date(dt.date.fromisoformat(str(original["date"])))
    ms = _instant_ms(original, zone_name)
    when = dt.datetime.fromtimestamp(ms / 1000, _UTC).replace(tzinfo=None)
    return format_local(when) + "Z"


# ---------------------------------------------------------------------------- recurrence lines
def _parse_recurrence(lines: Sequence[object], zone_name: str, all_day: bool, out: _Recurrence) -> None:
    """RFC 5545 content lines (``RRULE:…``, ``EXDATE;TZID=…:…``, ``RDATE;VALUE=DATE:…``) → ``out``.

    Each line is split by icalendar's content-line parser (RFC 5545 §3.1, §3.2): names and
    parameter names are case-insensitive, a parameter value may be quoted (``TZID="…"``). A line
    that is no content line becomes a note.
    """
    from icalendar.parser import Contentline  # only recurring Google events pay for icalendar

    for line in lines:
        try:
            if not isinstance(line, str):
                raise ValueError("not a string")
            raw_name, params, value = Contentline(line).parts()  # type: ignore[no-untyped-call]
        except ValueError:
            out.notes.append(f"ignored recurrence line {str(line)[:60]!r}")
            continue
        name = str(raw_name).strip().upper()
        tzid = params.get("TZID")
        if name == "RRULE":
            if out.rrule is None:
                out.rrule = str(value).strip()
            else:
                out.notes.append("only the first RRULE is kept")
        elif name in ("EXDATE", "RDATE"):
            target = out.exdate if name == "EXDATE" else out.rdate
            if str(params.get("VALUE", "")).upper() == "PERIOD":
                out.notes.append(f"{name} PERIOD values are not supported")
                continue
            for text in str(value).split(","):
                if text.strip():
                    target.append(_date_value(text.strip(), str(tzid) if tzid else None, zone_name, all_day))
        else:
            out.notes.append(f"{name} is not supported (RFC 5545 deprecated EXRULE)" if name == "EXRULE" else name)


def _date_value(text: str, tzid: str | None, zone_name: str, all_day: bool) -> str:
    """One EXDATE / RDATE value → our form (:mod:`teamcal.recurrence.values`): a date stays a
    date; a UTC value stays UTC; a value in the series' zone (or floating) becomes a local wall
    time; a value in another zone becomes its UTC instant. All-day series keep the date only."""
    if len(text) == 8 and text.isdigit():
        return text
    if all_day:
        return text[:8]
    if text.endswith(("Z", "z")) or tzid is None or tzid == zone_name:
        return text.upper() if text.endswith(("Z", "z")) else text
    local = dt.datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo(_zone_name(tzid, zone_name)))
    return format_local(local.astimezone(_UTC).replace(tzinfo=None)) + "Z"
