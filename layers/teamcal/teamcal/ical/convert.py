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
* No DTEND and no DURATION means a zero-length timed event (one day for a DATE).
* EXDATE, RDATE and RECURRENCE-ID become teamcal recurrence ids (:mod:`teamcal.recurrence.values`):
  ``YYYYMMDD`` for dates (and for every value of an all-day series), ``YYYYMMDDTHHMMSS`` for wall
  times in the series' zone or floating, ``YYYYMMDDTHHMMSSZ`` for instants in other zones or UTC.

Lenient where real exporters are sloppy, as recurring-ical-events is, each time with a warning
in :attr:`VEventData.warnings` saying what was guessed:

* DTEND (or a negative DURATION) before DTSTART: the two are swapped.
* DTSTART and DTEND of different value types (DATE and DATE-TIME): the DATE becomes midnight in
  the other value's zone, and the event is timed; a DATE DTSTART with a DURATION of hours too.
* An unknown TZID (no VTIMEZONE, not IANA, Windows, vendor-prefixed or an Outlook display name,
  see :mod:`teamcal.ical.zones`): the time is read as floating, in the calendar's zone. A
  VTIMEZONE that matches no IANA zone: each time at the offset the definition gives it, in UTC.
* RRULE text with stray whitespace, lower-case parts or empty list items
  (``freq=weekly; BYDAY= TU,``) is read as meant; a COUNT that is not a positive integer is
  dropped (UNTIL, if any, still ends the rule); several identical RRULEs count once; several
  different ones: the first is the event's rule, the others are :attr:`VEventData.extra_rules`
  (the importer stores each as a series of its own).
* RDATE;VALUE=PERIOD: each period starts an occurrence; periods that last otherwise than the
  event are :attr:`VEventData.periods` (the importer stores them as moved occurrences).
* An RRULE teamcal cannot read (RSCALE, ``FREQ=INVALID``, ``UNTL=``): the event is imported
  once, at DTSTART; a DURATION that cannot be read, RDATE values that are times: ignored.
* An RRULE whose UNTIL is before DTSTART has no occurrence at all (recurring-ical-events returns
  none): :class:`~teamcal.ical.errors.VEventSkipped`.
* RECURRENCE-ID;RANGE=THISANDFUTURE is kept (:attr:`VEventData.this_and_future`) for the importer.

Refused, each with a :class:`~teamcal.ical.errors.VEventError` naming the reason: no DTSTART,
unparseable date values, an RRULE whose COUNT exceeds :data:`MAX_IMPORT_COUNT` or that the engine
cannot read, EXDATE;VALUE=PERIOD.
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

from teamcal.ical.errors import VEventError, VEventSkipped
from teamcal.ical.zones import ZoneResolver
from teamcal.models.text import (
    MAX_DESCRIPTION,
    MAX_EXDATES,
    MAX_RDATES,
    MAX_SUMMARY,
    MAX_USER_KEY,
    MAX_USER_KEYS,
    check_text,
)
from teamcal.recurrence import RecurrenceError, parse_rrule

#: The largest RRULE COUNT an import accepts (Outlook caps COUNT at 999, Google at 730 daily
#: instances); bigger counts are "RRULE bombs": refused per VEVENT.
MAX_IMPORT_COUNT = 10_000
#: Longest UID kept.
MAX_UID = 1000
PERIOD_WARNING = "RDATE;VALUE=PERIOD on an all-day event: each period starts an occurrence as long as the event"
#: The ATTENDEE parameter (and URI scheme) teamcal writes for ``userKeys`` on export.
USER_PARAM = "X-TEAMCAL-USER"
USER_URN = "urn:x-teamcal:user:"

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DAY = dt.timedelta(days=1)
#: Properties whose damage fails the VEVENT (a damaged DURATION or RRULE is dropped with a note).
_TIME_PROPS = ("DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID")
_COUNT = re.compile(r"(?:^|;)COUNT=(\d+)", re.IGNORECASE)
_RRULE_LINE = re.compile(r"^(RRULE)([;:])(.*)$", re.IGNORECASE | re.MULTILINE)
_UNTIL = re.compile(r"(?:^|;)UNTIL=(\d{8})(?:T(\d{6})(Z?))?(?:;|$)")
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
    #: Further different RRULEs of the VEVENT (each becomes a series of its own on import).
    extra_rules: list[str] = field(default_factory=list)
    #: RDATE periods lasting otherwise than the event: (recurrence id as in ``rdate``, its start
    #: and end, epoch ms, end exclusive).
    periods: list[tuple[str, int, int]] = field(default_factory=list)
    #: RECURRENCE-ID;RANGE=THISANDFUTURE: the change applies to later occurrences too.
    this_and_future: bool = False

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


def _clean_rule(value: str) -> str:
    """An RRULE value as its exporter meant it: no whitespace, upper case, no empty parts or
    list items (``freq=weekly; BYDAY= TU,`` → ``FREQ=WEEKLY;BYDAY=TU``)."""
    parts = []
    for part in re.sub(r"\s+", "", value).upper().split(";"):
        if not part:
            continue
        name, _, items = part.partition("=")
        parts.append(f"{name}={','.join(i for i in items.split(',') if i)}")
    return ";".join(parts)


def clean_rrules(text: str) -> tuple[str, list[str]]:
    """``text`` with every RRULE line's value cleaned (:func:`_clean_rule`), and a note for each
    value that changed."""
    notes: list[str] = []

    def fix(match: re.Match[str]) -> str:
        value = match.group(3)
        cleaned = _clean_rule(value)
        if cleaned != value.strip():
            notes.append(f"RRULE {value.strip()[:80]!r} was read as {cleaned[:80]!r}")
        return f"{match.group(1)}{match.group(2)}{cleaned}"

    return _RRULE_LINE.sub(fix, text), notes


def parse_vevent(text: str) -> icalendar.Event:
    """Parse one VEVENT text with icalendar (RRULE values cleaned first: :func:`clean_rrules`).

    Raises:
        VEventError: icalendar cannot read it, or one of its date/recurrence properties is broken.
    """
    try:
        with warnings.catch_warnings():
            # a vendor-prefixed TZID (/freeassociation.sourceforge.net/...) is resolved here
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            component = icalendar.Event.from_ical(clean_rrules(text)[0])
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise VEventError(f"malformed VEVENT: {str(e)[:200]}") from e
    if not isinstance(component, icalendar.Event):
        raise VEventError("malformed VEVENT")
    for name, message in component.errors:
        if name in _TIME_PROPS:
            raise VEventError(f"invalid {name}: {str(message)[:200]}")
    return component


def _moment(value: Any, tzid: str | None, ctx: Context, name: str, notes: list[str] | None = None) -> Moment:
    """A parsed date/date-time (``value``) and its TZID parameter → :class:`Moment`. An unknown
    TZID makes the time floating, with a note in ``notes``."""
    if isinstance(value, dt.datetime):
        if tzid:
            zone = ctx.zones.resolve(str(tzid))
            instant = ctx.zones.instant_of(str(tzid), value.replace(tzinfo=None)) if zone is None else None
            if instant is not None:
                note = f"TZID {str(tzid)[:64]!r} matches no IANA zone: its times were read at its own offsets, in UTC"
                if notes is not None and note not in notes:
                    notes.append(note)
                return Moment("utc", instant)
            if zone is None:
                note = (
                    f"unknown TZID {str(tzid)[:64]!r} (no VTIMEZONE defines it): "
                    f"its times were read in the calendar's zone {ctx.default_zone}"
                )
                if notes is not None and note not in notes:
                    notes.append(note)
                return Moment("floating", value.replace(tzinfo=None))
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


def _one(component: icalendar.Event, name: str, ctx: Context, notes: list[str] | None = None) -> Moment | None:
    prop = component.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        prop = prop[0]
    value = getattr(prop, "dt", None)
    if value is None:
        raise VEventError(f"invalid {name}")
    return _moment(value, getattr(prop, "params", {}).get("TZID"), ctx, name, notes)


def _many(
    component: icalendar.Event,
    name: str,
    ctx: Context,
    notes: list[str],
    periods: list[tuple[Moment, Moment | dt.timedelta]] | None = None,
) -> list[Moment]:
    """The DATE / DATE-TIME values of EXDATE or RDATE. An RDATE;VALUE=PERIOD contributes its
    start, and (start, end or duration) to ``periods`` when given; otherwise a period is
    refused."""
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
                if periods is None:
                    raise VEventError(f"{name};VALUE=PERIOD is not supported")
                value, until = value
                start = _moment(value, tzid or ddd.params.get("TZID"), ctx, name, notes)
                if isinstance(until, dt.timedelta):
                    periods.append((start, until))
                else:
                    periods.append((start, _moment(until, tzid or ddd.params.get("TZID"), ctx, name, notes)))
                out.append(start)
                continue
            if isinstance(value, dt.time | dt.timedelta):
                note = f"{name} holds a value that is not a date or date-time: ignored"
                if note not in notes:
                    notes.append(note)
                continue
            out.append(_moment(value, tzid or ddd.params.get("TZID"), ctx, name, notes))
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
    try:
        return check_text(text[:limit], name, multiline=True) if text else None
    except ValueError as e:
        raise VEventError(str(e)) from e


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
            try:
                keys.append(check_text(str(key)[:MAX_USER_KEY], "ATTENDEE"))
            except ValueError as e:
                raise VEventError(str(e)) from e
    return keys[:MAX_USER_KEYS]


def _rule_text(prop: Any, notes: list[str]) -> str | None:
    """One RRULE's text, cleaned (module docstring); ``None`` with a note when teamcal cannot
    read it (the event then imports once, at DTSTART)."""
    try:
        text = _clean_rule(str(prop.to_ical().decode("utf-8")))
    except (ValueError, TypeError, AttributeError) as e:
        raise VEventError(f"invalid RRULE: {e}") from e
    parts = text.split(";")
    kept = []
    for part in parts:
        name, _, value = part.partition("=")
        if name == "COUNT" and not (value.isdigit() and int(value) > 0):
            notes.append(f"RRULE COUNT={value[:20]} is not a positive number: ignored")
            continue
        kept.append(part)
    text = ";".join(kept)
    count = _COUNT.search(text)
    if count is not None and int(count.group(1)) > MAX_IMPORT_COUNT:
        raise VEventError(f"RRULE COUNT {int(count.group(1))} is too large (at most {MAX_IMPORT_COUNT} occurrences)")
    try:
        parse_rrule(text)
    except RecurrenceError as e:
        notes.append(f"RRULE {text[:80]!r} cannot be read ({e.message}): the event was imported once, at DTSTART")
        return None
    return text


def _rrules(component: icalendar.Event, notes: list[str]) -> tuple[str | None, list[str]]:
    """The VEVENT's RRULE and its further, different RRULEs (see the module docstring)."""
    prop = component.get("RRULE")
    if prop is None:
        return None, []
    props = prop if isinstance(prop, list) else [prop]
    texts = [t for t in dict.fromkeys(_rule_text(p, notes) for p in props) if t is not None]
    if not texts:
        return None, []
    if len(props) > 1:
        if len(texts) == 1:
            notes.append(f"{len(props)} RRULEs: read as one")
        else:
            notes.append(f"{len(texts)} different RRULEs: each is imported as a series of its own")
    return texts[0], texts[1:]


def _until_before(rule: str, start: Moment, ctx: Context) -> bool:
    """Whether the rule's UNTIL is before DTSTART (the rule then has no occurrence)."""
    match = _UNTIL.search(rule)
    if match is None:
        return False
    day = dt.datetime.strptime(match.group(1), "%Y%m%d")
    if start.kind == "date" or match.group(2) is None:
        first = start.value.date() if isinstance(start.value, dt.datetime) else start.value
        return day.date() < first
    until = day.replace(hour=int(match.group(2)[:2]), minute=int(match.group(2)[2:4]), second=int(match.group(2)[4:]))
    if match.group(3):
        return Moment("utc", until).ms("UTC") < start.ms(ctx.default_zone)
    return until < start.value


def _duration(component: icalendar.Event, notes: list[str]) -> dt.timedelta | None:
    """DURATION, or ``None`` (absent, or unreadable: then with a note)."""
    prop = component.get("DURATION")
    if prop is None:
        return None
    try:
        value = getattr(prop, "dt", None)
    except ValueError:  # icalendar's BrokenCalendarProperty
        value = None
    if not isinstance(value, dt.timedelta):
        notes.append(f"DURATION {str(prop)[:40]!r} could not be read: ignored")
        return None
    return value


def _all_day_fields(
    start: Moment, end: Moment | None, duration: dt.timedelta | None, notes: list[str]
) -> dict[str, Any]:
    first = start.value
    assert not isinstance(first, dt.datetime)
    if end is not None:
        assert end.kind == "date"
        last = end.value - _DAY
        if end.value < first:
            notes.append("DTEND is before DTSTART: the two were swapped")
            first, last = end.value, first - _DAY
    elif duration is not None:
        if duration < dt.timedelta(0):
            notes.append("DURATION is negative: the event ends where it was said to start")
            first, last = first + dt.timedelta(days=duration.days), first - _DAY
        else:
            last = first + dt.timedelta(days=max(duration.days, 1) - 1)
    else:
        last = first
    return {"allDay": True, "allDayStart": first.isoformat(), "allDayEnd": max(first, last).isoformat()}


def _timed_fields(
    start: Moment, end: Moment | None, duration: dt.timedelta | None, ctx: Context, notes: list[str]
) -> tuple[dict[str, Any], str]:
    zone = start.zone if start.kind == "zoned" and start.zone else ("UTC" if start.kind == "utc" else ctx.default_zone)
    start_ms = start.ms(ctx.default_zone)
    if end is not None:
        end_ms = end.ms(ctx.default_zone)
    elif duration is not None:
        nominal = dt.timedelta(days=duration.days)
        shifted = start.aware(ctx.default_zone) + nominal if nominal else start.aware(ctx.default_zone)
        delta = shifted.astimezone(_UTC) - _EPOCH
        end_ms = delta.days * 86_400_000 + delta.seconds * 1000 + (duration - nominal) // dt.timedelta(milliseconds=1)
    else:
        end_ms = start_ms
    if end_ms < start_ms:
        notes.append(
            "DTEND is before DTSTART: the two were swapped"
            if end is not None
            else "DURATION is negative: the event ends where it was said to start"
        )
        start_ms, end_ms = end_ms, start_ms
    return {"allDay": False, "startDate": start_ms, "endDate": end_ms}, zone


def _midnight_like(day: Moment, other: Moment) -> Moment:
    """A DATE as midnight in the zone of a DATE-TIME (recurring-ical-events' reading of mixed
    DTSTART / DTEND value types)."""
    midnight = dt.datetime.combine(day.value, dt.time())
    if other.kind == "utc":
        return Moment("utc", midnight)
    return Moment(other.kind, midnight, other.zone)


def _comparable(
    start: Moment, end: Moment | None, duration: dt.timedelta | None, notes: list[str]
) -> tuple[Moment, Moment | None]:
    """DTSTART and DTEND of one value type (the module docstring's leniency)."""
    if end is not None and (start.kind == "date") != (end.kind == "date"):
        if start.kind == "date":
            notes.append("DTSTART is a DATE but DTEND a DATE-TIME: the event starts at midnight, in DTEND's zone")
            return _midnight_like(start, end), end
        notes.append("DTSTART is a DATE-TIME but DTEND a DATE: the event ends at midnight, in DTSTART's zone")
        return start, _midnight_like(end, start)
    if start.kind == "date" and duration is not None and duration % _DAY:
        notes.append("DTSTART is a DATE but DURATION counts hours: the event starts at midnight, floating")
        return Moment("floating", dt.datetime.combine(start.value, dt.time())), end
    return start, end


def _period_fields(
    periods: list[tuple[Moment, Moment | dt.timedelta]], duration_ms: int, zone: str, ctx: Context
) -> list[tuple[str, int, int]]:
    """RDATE periods that do not last ``duration_ms``: (recurrence id, start ms, end ms)."""
    out: list[tuple[str, int, int]] = []
    for start, until in periods:
        start_ms = start.ms(ctx.default_zone)
        if isinstance(until, dt.timedelta):
            end_ms = start_ms + until // dt.timedelta(milliseconds=1)
        else:
            end_ms = until.ms(ctx.default_zone)
        end_ms = max(start_ms, end_ms)
        if end_ms - start_ms != duration_ms:
            out.append((_ref(start, False, zone), start_ms, end_ms))
    return out


def to_data(component: icalendar.Event, index: int, text: str, ctx: Context) -> VEventData:
    """Convert a parsed VEVENT (see the module docstring).

    Raises:
        VEventSkipped: the VEVENT has no occurrence (an RRULE whose UNTIL is before DTSTART).
        VEventError: the VEVENT cannot be imported (the reason says why).
    """
    uid = _text(component, "UID", MAX_UID + 1)
    generated = uid is None or not uid.strip()
    if uid is not None and len(uid) > MAX_UID:
        raise VEventError(f"UID is longer than {MAX_UID} characters")
    uid = generated_uid(text) if generated or uid is None else uid.strip()
    if ctx.x_wr_timezone:
        component = _with_x_wr_timezone(component, ctx.x_wr_timezone)
    notes: list[str] = clean_rrules(text)[1]
    start = _one(component, "DTSTART", ctx, notes)
    if start is None:
        raise VEventError("the VEVENT has no DTSTART")
    end = _one(component, "DTEND", ctx, notes)
    duration = _duration(component, notes) if end is None else None
    start, end = _comparable(start, end, duration, notes)
    rrule, extra_rules = _rrules(component, notes)
    if rrule is not None and _until_before(rrule, start, ctx):
        raise VEventSkipped("RRULE UNTIL is before DTSTART: the series has no occurrence (nothing imported)")
    if start.kind == "date":
        fields = _all_day_fields(start, end, duration, notes)
        zone = ctx.default_zone
    else:
        fields, zone = _timed_fields(start, end, duration, ctx, notes)
    all_day = bool(fields["allDay"])
    rid = _one(component, "RECURRENCE-ID", ctx, notes)
    this_and_future = False
    if rid is not None:
        rid_prop = component.get("RECURRENCE-ID")
        this_and_future = str(getattr(rid_prop, "params", {}).get("RANGE", "")).upper() == "THISANDFUTURE"
    periods: list[tuple[Moment, Moment | dt.timedelta]] = []
    rdates = _many(component, "RDATE", ctx, notes, periods)
    fields.update(
        summary=_text(component, "SUMMARY", MAX_SUMMARY),
        description=_text(component, "DESCRIPTION", MAX_DESCRIPTION),
        userKeys=user_keys(component),
        timeZone=zone,
        recurrence=rrule,
        exdate=_refs(_many(component, "EXDATE", ctx, notes), all_day, zone),
        rdate=_refs(rdates, all_day, zone),
    )
    # the events API's limits, so that no stored item nears DynamoDB's 400 KB: one such VEVENT
    # fails alone instead of failing its whole write batch on every run
    for name, limit in (("exdate", MAX_EXDATES), ("rdate", MAX_RDATES)):
        if len(fields[name]) > limit:
            raise VEventError(f"more than {limit} {name.upper()} values")
    if periods and all_day:
        notes.append(PERIOD_WARNING)
        periods = []
    status = str(component.get("STATUS", "")).upper()
    duration_ms = 0 if all_day else int(fields["endDate"]) - int(fields["startDate"])
    return VEventData(
        uid=uid,
        index=index,
        fields=fields,
        recurrence_id=rid,
        sequence=_int(component, "SEQUENCE"),
        last_modified=_last_modified(component, ctx),
        cancelled=status == "CANCELLED",
        uid_generated=generated,
        warnings=list(dict.fromkeys(notes)),
        extra_rules=extra_rules,
        periods=_period_fields(periods, duration_ms, zone, ctx) if periods else [],
        this_and_future=this_and_future,
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
