"""One VEVENT (RFC 5545 §3.6.1) → the fields of a teamcal event record, without I/O.

The result, :class:`VEventData`, carries the CCJ wire fields of the event (``summary``,
``description``, ``userKeys``, ``allDay`` + ``allDayStart``/``allDayEnd`` or
``startDate``/``endDate``, ``timeZone``, ``recurrence``, ``rdate``, ``exdate``) and what the
importer needs to match and order VEVENTs: UID, RECURRENCE-ID (as a teamcal recurrence id),
SEQUENCE, LAST-MODIFIED and STATUS:CANCELLED. Nothing is expanded: an RRULE is kept as text.

Time rules (RFC 5545 §3.3.4, §3.3.5, §3.8.2):

* ``DTSTART;VALUE=DATE`` → an all-day event; DTEND (a DATE) is EXCLUSIVE in iCalendar and becomes
  the INCLUSIVE ``allDayEnd`` (DTEND minus one day); a DURATION counts whole days; neither means
  one day. Dates never move with a zone.
* A DATE-TIME with TZID is wall time in that zone (resolved to an IANA name by
  :class:`~teamcal.ical.zones.ZoneResolver`); ``…Z`` is UTC; no TZID and no ``Z`` is floating
  time, read in the calendar's zone (or the file's X-WR-TIMEZONE, converted by :mod:`.xwr`
  before this module sees the event). ``timeZone`` is DTSTART's zone.
* DTEND before DTSTART is an error; no DTEND and no DURATION means a zero-length timed event.
* EXDATE, RDATE and RECURRENCE-ID become teamcal recurrence ids (:mod:`teamcal.recurrence.values`):
  ``YYYYMMDD`` for dates (and for every value of an all-day series), ``YYYYMMDDTHHMMSS`` for wall
  times in the series' zone or floating, ``YYYYMMDDTHHMMSSZ`` for instants in other zones or UTC.

Refused, each with a :class:`~teamcal.ical.errors.VEventError` naming the reason: no DTSTART,
unparseable date values, an unknown TZID, several RRULEs, an RRULE whose COUNT exceeds
:data:`MAX_IMPORT_COUNT`, RECURRENCE-ID;RANGE=THISANDFUTURE, DTSTART and DTEND of different value
types, EXDATE;VALUE=PERIOD. An RDATE;VALUE=PERIOD contributes the start of each period (teamcal
occurrences all last as long as the event), with a warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.prop import vDDDLists

from teamcal.ical.errors import VEventError
from teamcal.ical.zones import ZoneResolver

#: The largest RRULE COUNT an import accepts (Outlook caps COUNT at 999, Google at 730 daily
#: instances); bigger counts are "RRULE bombs": refused per VEVENT.
MAX_IMPORT_COUNT = 10_000
#: Longest summary / description kept (the event wire model's limits).
MAX_SUMMARY = 1000
MAX_DESCRIPTION = 100_000
MAX_UID = 1000
MAX_USER_KEYS = 500
PERIOD_WARNING = "RDATE;VALUE=PERIOD: each period starts an occurrence as long as the event itself"
#: The ATTENDEE parameter (and URI scheme) teamcal writes for ``userKeys`` on export.
USER_PARAM = "X-TEAMCAL-USER"
USER_URN = "urn:x-teamcal:user:"

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DAY = dt.timedelta(days=1)
_TIME_PROPS = ("DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")
_COUNT = re.compile(r"(?:^|;)COUNT=(\d+)", re.IGNORECASE)
_DTSTAMP = re.compile(r"^DTSTAMP[;:].*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Moment:
    """A DATE or DATE-TIME value: ``kind`` ``date`` (``value`` a date), ``zoned`` (``value`` a
    naive wall time in IANA zone ``zone``), ``utc`` (naive UTC) or ``floating`` (naive)."""

    kind: str
    value: dt.date
    zone: str | None = None

    def aware(self, default_zone: str) -> dt.datetime:
        """The instant (floating times in ``default_zone``; dates at midnight UTC)."""
        if self.kind == "date":
            return dt.datetime.combine(self.value, dt.time(), _UTC)
        assert isinstance(self.value, dt.datetime)
        if self.kind == "utc":
            return self.value.replace(tzinfo=_UTC)
        return self.value.replace(tzinfo=ZoneInfo(self.zone if self.kind == "zoned" and self.zone else default_zone))

    def ms(self, default_zone: str) -> int:
        """Epoch milliseconds of :meth:`aware`."""
        delta = self.aware(default_zone) - _EPOCH
        return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


@dataclass(slots=True)
class VEventData:
    """What one VEVENT contributes (see the module docstring).

    ``fields`` holds the event record's wire fields; ``recurrence_id`` the RECURRENCE-ID as a
    :class:`Moment` (``None`` for a master or single event); ``last_modified`` epoch ms or
    ``None``; ``index`` the VEVENT's ordinal in the file.
    """

    uid: str
    index: int
    fields: dict[str, Any]
    recurrence_id: Moment | None = None
    sequence: int = 0
    last_modified: int | None = None
    cancelled: bool = False
    uid_generated: bool = False
    warnings: list[str] = field(default_factory=list)

    def is_newer_than(self, sequence: int, last_modified: int | None) -> bool:
        """RFC 5545 §3.8.7.4: a higher SEQUENCE is newer; with the same SEQUENCE, a later
        LAST-MODIFIED is."""
        if self.sequence != sequence:
            return self.sequence > sequence
        return (self.last_modified or 0) > (last_modified or 0)


@dataclass(frozen=True)
class Context:
    """Per-file conversion settings: the calendar's zone (for floating times), the file's TZID
    resolver and X-WR-TIMEZONE (an IANA name, applied by :mod:`.xwr`)."""

    default_zone: str
    zones: ZoneResolver
    x_wr_timezone: str | None = None


def generated_uid(text: str) -> str:
    """A UID for a VEVENT that has none: a hash of its text without DTSTAMP, so importing the
    same file again finds the same event."""
    digest = hashlib.sha256(_DTSTAMP.sub("", text).encode("utf-8", "replace")).hexdigest()
    return f"teamcal-generated-{digest[:32]}"


def parse_vevent(text: str) -> icalendar.Event:
    """Parse one VEVENT text with icalendar.

    Raises:
        VEventError: icalendar cannot read it, or one of its date/recurrence properties is broken.
    """
    try:
        with warnings.catch_warnings():
            # a vendor-prefixed TZID (/freeassociation.sourceforge.net/...) is resolved here
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            component = icalendar.Event.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise VEventError(f"malformed VEVENT: {str(e)[:200]}") from e
    if not isinstance(component, icalendar.Event):
        raise VEventError("malformed VEVENT")
    for name, message in component.errors:
        if name in _TIME_PROPS:
            raise VEventError(f"invalid {name}: {str(message)[:200]}")
    return component


def _moment(value: Any, tzid: str | None, ctx: Context, name: str) -> Moment:
    """A parsed date/date-time (``value``) and its TZID parameter → :class:`Moment`."""
    if isinstance(value, dt.datetime):
        if tzid:
            zone = ctx.zones.resolve(str(tzid))
            if zone is None:
                raise VEventError(f"unknown TZID {str(tzid)[:64]!r} in {name}: the file defines no such time zone")
            return Moment("zoned", value.replace(tzinfo=None), zone)
        if value.tzinfo is None:
            return Moment("floating", value)
        offset = value.utcoffset()
        key = getattr(value.tzinfo, "key", None)
        if offset == dt.timedelta(0) and (key in (None, "UTC", "Etc/UTC") or str(value.tzinfo) == "UTC"):
            return Moment("utc", value.astimezone(_UTC).replace(tzinfo=None))
        if isinstance(key, str):
            return Moment("zoned", value.replace(tzinfo=None), key)
        return Moment("utc", value.astimezone(_UTC).replace(tzinfo=None))
    if isinstance(value, dt.date):
        return Moment("date", value)
    raise VEventError(f"{name} is not a date or date-time")


def _one(component: icalendar.Event, name: str, ctx: Context) -> Moment | None:
    prop = component.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        prop = prop[0]
    value = getattr(prop, "dt", None)
    if value is None:
        raise VEventError(f"invalid {name}")
    return _moment(value, getattr(prop, "params", {}).get("TZID"), ctx, name)


def _many(component: icalendar.Event, name: str, ctx: Context, warnings_out: list[str] | None = None) -> list[Moment]:
    """The DATE / DATE-TIME values of EXDATE or RDATE. An RDATE;VALUE=PERIOD contributes its
    start (the occurrence then lasts as long as the event: a warning says so) when
    ``warnings_out`` is given; otherwise a period is refused."""
    prop = component.get(name)
    if prop is None:
        return []
    out: list[Moment] = []
    for item in prop if isinstance(prop, list) else [prop]:
        if not isinstance(item, vDDDLists):
            raise VEventError(f"invalid {name}")
        tzid = item.params.get("TZID")
        for ddd in item.dts:
            value = ddd.dt
            if isinstance(value, tuple):
                if warnings_out is None:
                    raise VEventError(f"{name};VALUE=PERIOD is not supported")
                value = value[0]
                if PERIOD_WARNING not in warnings_out:
                    warnings_out.append(PERIOD_WARNING)
            if isinstance(value, dt.time | dt.timedelta):
                raise VEventError(f"{name} holds a value that is not a date or date-time")
            out.append(_moment(value, tzid or ddd.params.get("TZID"), ctx, name))
    return out


def _ref(moment: Moment, all_day: bool, series_zone: str) -> str:
    """A :class:`Moment` as a teamcal recurrence id relative to a series (module docstring)."""
    value = moment.value
    if all_day or moment.kind == "date":
        day = value.date() if isinstance(value, dt.datetime) else value
        return day.strftime("%Y%m%d")
    assert isinstance(value, dt.datetime)
    if moment.kind == "floating" or (moment.kind == "zoned" and moment.zone == series_zone):
        return value.strftime("%Y%m%dT%H%M%S")
    instant = moment.aware(series_zone).astimezone(_UTC)
    return instant.strftime("%Y%m%dT%H%M%SZ")


def recurrence_id_text(moment: Moment, all_day: bool, series_zone: str) -> str:
    """RECURRENCE-ID as a teamcal recurrence id for a series (``all_day``, zone)."""
    return _ref(moment, all_day, series_zone)


def _text(component: icalendar.Event, name: str, limit: int) -> str | None:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value)
    return text[:limit] if text else None


def _int(component: icalendar.Event, name: str) -> int:
    value = component.get(name)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _last_modified(component: icalendar.Event, ctx: Context) -> int | None:
    prop = component.get("LAST-MODIFIED")
    value = getattr(prop, "dt", None)
    if not isinstance(value, dt.datetime):
        return None
    return _moment(value, None, ctx, "LAST-MODIFIED").ms("UTC")


def user_keys(component: icalendar.Event) -> list[str]:
    """``userKeys`` from the ATTENDEEs teamcal wrote (``X-TEAMCAL-USER`` parameter or a
    ``urn:x-teamcal:user:`` address); other attendees are not teamcal users and are left out."""
    attendees = component.get("ATTENDEE")
    if attendees is None:
        return []
    keys: list[str] = []
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        key = getattr(attendee, "params", {}).get(USER_PARAM)
        address = str(attendee)
        if not key and address.lower().startswith(USER_URN):
            key = address[len(USER_URN) :]
        if key and str(key) not in keys:
            keys.append(str(key)[:255])
    return keys[:MAX_USER_KEYS]


def _rrule(component: icalendar.Event) -> str | None:
    prop = component.get("RRULE")
    if prop is None:
        return None
    if isinstance(prop, list):
        if len(prop) > 1:
            raise VEventError("several RRULEs in one VEVENT are not supported")
        prop = prop[0]
    try:
        text = str(prop.to_ical().decode("utf-8"))
    except (ValueError, TypeError, AttributeError) as e:
        raise VEventError(f"invalid RRULE: {e}") from e
    count = _COUNT.search(text)
    if count is not None and int(count.group(1)) > MAX_IMPORT_COUNT:
        raise VEventError(f"RRULE COUNT {int(count.group(1))} is too large (at most {MAX_IMPORT_COUNT} occurrences)")
    return text


def _duration(component: icalendar.Event) -> dt.timedelta | None:
    prop = component.get("DURATION")
    if prop is None:
        return None
    value = getattr(prop, "dt", None)
    if not isinstance(value, dt.timedelta):
        raise VEventError("invalid DURATION")
    return value


def _all_day_fields(start: Moment, end: Moment | None, duration: dt.timedelta | None) -> dict[str, Any]:
    first = start.value
    assert not isinstance(first, dt.datetime)
    if end is not None:
        if end.kind != "date":
            raise VEventError("DTSTART is a DATE but DTEND is a DATE-TIME")
        last = end.value - _DAY
        if end.value < first:
            raise VEventError("DTEND is before DTSTART")
    elif duration is not None:
        if duration < dt.timedelta(0):
            raise VEventError("DURATION is negative")
        last = first + dt.timedelta(days=max(duration.days, 1) - 1)
    else:
        last = first
    return {"allDay": True, "allDayStart": first.isoformat(), "allDayEnd": max(first, last).isoformat()}


def _timed_fields(
    start: Moment, end: Moment | None, duration: dt.timedelta | None, ctx: Context
) -> tuple[dict[str, Any], str]:
    zone = start.zone if start.kind == "zoned" and start.zone else ("UTC" if start.kind == "utc" else ctx.default_zone)
    start_ms = start.ms(ctx.default_zone)
    if end is not None:
        if end.kind == "date":
            raise VEventError("DTSTART is a DATE-TIME but DTEND is a DATE")
        end_ms = end.ms(ctx.default_zone)
    elif duration is not None:
        if duration < dt.timedelta(0):
            raise VEventError("DURATION is negative")
        nominal = dt.timedelta(days=duration.days)
        shifted = start.aware(ctx.default_zone) + nominal if nominal else start.aware(ctx.default_zone)
        delta = shifted.astimezone(_UTC) - _EPOCH
        end_ms = delta.days * 86_400_000 + delta.seconds * 1000 + (duration - nominal) // dt.timedelta(milliseconds=1)
    else:
        end_ms = start_ms
    if end_ms < start_ms:
        raise VEventError("DTEND is before DTSTART")
    return {"allDay": False, "startDate": start_ms, "endDate": end_ms}, zone


def to_data(component: icalendar.Event, index: int, text: str, ctx: Context) -> VEventData:
    """Convert a parsed VEVENT (see the module docstring).

    Raises:
        VEventError: the VEVENT cannot be imported (the reason says why).
    """
    uid = _text(component, "UID", MAX_UID + 1)
    generated = uid is None or not uid.strip()
    if uid is not None and len(uid) > MAX_UID:
        raise VEventError(f"UID is longer than {MAX_UID} characters")
    uid = generated_uid(text) if generated or uid is None else uid.strip()
    if ctx.x_wr_timezone:
        component = _with_x_wr_timezone(component, ctx.x_wr_timezone)
    start = _one(component, "DTSTART", ctx)
    if start is None:
        raise VEventError("the VEVENT has no DTSTART")
    end = _one(component, "DTEND", ctx)
    duration = _duration(component) if end is None else None
    rrule = _rrule(component)
    if start.kind == "date":
        fields = _all_day_fields(start, end, duration)
        zone = ctx.default_zone
    else:
        fields, zone = _timed_fields(start, end, duration, ctx)
    all_day = bool(fields["allDay"])
    rid = _one(component, "RECURRENCE-ID", ctx)
    if rid is not None:
        rid_prop = component.get("RECURRENCE-ID")
        if str(getattr(rid_prop, "params", {}).get("RANGE", "")).upper() == "THISANDFUTURE":
            raise VEventError("RECURRENCE-ID;RANGE=THISANDFUTURE is not supported")
    notes: list[str] = []
    fields.update(
        summary=_text(component, "SUMMARY", MAX_SUMMARY),
        description=_text(component, "DESCRIPTION", MAX_DESCRIPTION),
        userKeys=user_keys(component),
        timeZone=zone,
        recurrence=rrule,
        exdate=_refs(_many(component, "EXDATE", ctx), all_day, zone),
        rdate=_refs(_many(component, "RDATE", ctx, notes), all_day, zone),
    )
    status = str(component.get("STATUS", "")).upper()
    return VEventData(
        uid=uid,
        index=index,
        fields=fields,
        recurrence_id=rid,
        sequence=_int(component, "SEQUENCE"),
        last_modified=_last_modified(component, ctx),
        cancelled=status == "CANCELLED",
        uid_generated=generated,
        warnings=notes,
    )


def _refs(moments: Iterable[Moment], all_day: bool, zone: str) -> list[str]:
    return list(dict.fromkeys(_ref(m, all_day, zone) for m in moments))


def _has_tzid(prop: Any) -> bool:
    items = prop if isinstance(prop, list) else [prop]
    return any("TZID" in getattr(item, "params", {}) for item in items)


def _with_x_wr_timezone(component: icalendar.Event, zone: str) -> icalendar.Event:
    """The X-WR-TIMEZONE conversion of one event: UTC and floating values into ``zone`` (Google
    exports write UTC times and name the calendar's zone in X-WR-TIMEZONE).

    Values that carry a TZID are left alone (x-wr-timezone would take a TZID icalendar could not
    resolve for a floating time); this module resolves those itself.
    """
    from teamcal.ical import xwr

    target = ZoneInfo(zone)
    for name in xwr.DATE_TIME_PROPERTIES:
        prop = component.get(name)
        if prop is None or _has_tzid(prop):
            continue
        walked = xwr.to_zone(prop, target)
        if walked is not prop:
            component[name] = walked
    return component
