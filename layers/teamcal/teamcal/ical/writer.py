"""teamcal event records → an RFC 5545 VCALENDAR that Google Calendar and Outlook accept.

Output (RFC 5545 §3.4, §3.6.1, §3.6.5):

* ``VCALENDAR`` with ``PRODID``, ``VERSION:2.0``, ``CALSCALE:GREGORIAN``, ``METHOD:PUBLISH`` and
  ``X-WR-CALNAME`` (no X-WR-TIMEZONE: every time carries its own TZID or ``Z``, and importers
  that honour X-WR-TIMEZONE would move UTC events into it);
* a ``VTIMEZONE`` for every TZID used, computed from the tz database (:mod:`zoneinfo`) for the
  years the events need and no others (see :func:`vtimezone`): a bounded window around each
  event's start, and the last :data:`SERIES_WINDOW_YEARS` years before the horizon for a series
  that runs up to it. An export therefore costs at most a few transitions per event and zone;
  ``bench/export.py`` prints the figures;
* one ``VEVENT`` per single event or recurring master with a stable ``UID`` (an imported event
  keeps its own UID; others are ``<id>@teamcal``), ``DTSTAMP``/``LAST-MODIFIED`` (the event's
  ``updated``), ``CREATED``, ``SEQUENCE``, ``DTSTART``/``DTEND`` (``VALUE=DATE`` and an EXCLUSIVE
  DTEND for all-day events: ``allDayEnd`` + 1 day), ``RRULE`` (UNTIL written in UTC for timed
  series and as a DATE for all-day series, as §3.3.10 requires), ``RDATE``, ``EXDATE``,
  ``SUMMARY``, ``DESCRIPTION``, an ``ATTENDEE`` per ``userKeys`` entry and ``X-COLOR`` (the
  source's ``value.color``);
* each exception (a CCJ child) as a second VEVENT with the master's UID and a ``RECURRENCE-ID``
  naming the original occurrence, in the master's zone.

Every content line goes through one path, :func:`content_line`: property and parameter names
must be IANA/X names, parameter values are quoted and RFC 6868-escaped (:func:`param_value`),
TEXT values are escaped (§3.3.11, :func:`text`), and a value that would still hold a control
character (§3.1: only HTAB; CR and LF only as the ``\n`` escape) is refused with
:class:`UnsafeValueError`: stored text can never become structure. :class:`CalendarWriter` leaves
out an event it cannot write safely (its id is in :attr:`CalendarWriter.refused`) rather than
failing the whole export.

Lines are folded at 75 octets (§3.1). The text is written
directly (icalendar's component model is not needed to serialise): this keeps an export of
10,000 events well under icalendar's own serialisation time; the tests parse every export back
with icalendar.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from teamcal.ical.convert import USER_PARAM, USER_URN
from teamcal.recurrence import Ref, Series, parse_ref, parse_rrule
from teamcal.recurrence.expand import locate

PRODID = "-//teamcal//teamcal iCalendar export 1.0//EN"
_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_DAY = dt.timedelta(days=1)
CRLF = "\r\n"


# ---------------------------------------------------------------------------- one escaping path
class UnsafeValueError(ValueError):
    """A value cannot be written into a content line without changing the line's structure (a
    control character other than HTAB and line breaks, an unpaired surrogate, a bad name)."""


#: Characters no content line may carry (RFC 5545 §3.1 CONTROL, plus C1 controls and unpaired
#: surrogates, which some readers treat as line ends or cannot decode). HTAB is allowed; CR and
#: LF are allowed in input only where they are escaped (TEXT ``\n``, RFC 6868 ``^n``).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")
_NAME = re.compile(r"[A-Za-z0-9-]+")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
#: Parameter values quoted even though §3.2 would allow them bare.
_NEEDS_QUOTES = re.compile('[:;,"^\r\n]')


def _refuse_controls(value: str, what: str) -> None:
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise UnsafeValueError(f"{what} holds the control character U+{ord(found.group()):04X}")


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping: backslash, semicolon, comma and line breaks (CRLF, CR and
    LF each become ``\n``). Does not check for other control characters: :func:`text` does."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def text(value: str, what: str = "TEXT") -> str:
    """A TEXT property value (RFC 5545 §3.3.11), escaped.

    Raises:
        UnsafeValueError: ``value`` holds a control character other than HTAB, CR or LF.
    """
    _refuse_controls(value, what)
    return escape_text(value)


def param_value(value: str, what: str = "parameter") -> str:
    """A parameter value (RFC 5545 §3.2) with RFC 6868 escapes: ``^`` → ``^^``, ``"`` → ``^'``,
    a line break → ``^n``; DQUOTE-quoted when it holds ``:;,``, needed an escape, or begins or
    ends with white space (parsers strip a bare value's edges; a quoted one is kept as it is).

    Raises:
        UnsafeValueError: ``value`` holds a control character other than HTAB, CR or LF.
    """
    _refuse_controls(value, what)
    escaped = _LINE_BREAK.sub("^n", value.replace("^", "^^").replace('"', "^'"))
    quoted = _NEEDS_QUOTES.search(value) or value != value.strip()
    return f'"{escaped}"' if quoted else escaped


def content_line(name: str, value: str, params: Sequence[tuple[str, str]] = ()) -> str:
    """One folded content line ``name;param=value…:value`` (RFC 5545 §3.1, §3.2).

    ``value`` is the property value already in its format (use :func:`text` for TEXT); parameter
    values are raw and go through :func:`param_value`.

    Raises:
        UnsafeValueError: a name is not an IANA/X name, or a value would hold a control character
            (other than HTAB) or a line break.
    """
    names = [name, *(key for key, _ in params)]
    if not all(_NAME.fullmatch(n) for n in names):
        raise UnsafeValueError(f"not a property or parameter name: {names!r}")
    if _FORBIDDEN.search(value) or "\r" in value or "\n" in value:
        raise UnsafeValueError(f"the {name} value holds a control character")
    head = name + "".join(f";{key}={param_value(raw, key)}" for key, raw in params)
    return fold(f"{head}:{value}")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence."""
    if len(line) <= 75 and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[bytes] = []
    start, width = 0, 75
    while start < len(data):
        end = min(start + width, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end])
        start, width = end, 74
    return "\r\n ".join(p.decode("utf-8") for p in parts)


def _stamp(ms: int) -> str:
    when = _EPOCH + dt.timedelta(milliseconds=ms)
    return f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}{when.second:02d}Z"


def _date(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _local(when: dt.datetime) -> str:
    return f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}{when.second:02d}"


# ---------------------------------------------------------------------------- values
Params = tuple[tuple[str, str], ...]


class _Zoned:
    """Formats instants and wall times of one zone (``UTC`` → the ``Z`` form, no TZID)."""

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self.utc = zone in ("UTC", "Etc/UTC")
        self.tz = ZoneInfo(zone)

    def params(self) -> Params:
        return () if self.utc else (("TZID", self.zone),)

    def wall(self, wall: dt.datetime) -> str:
        if self.utc:
            return _local(wall) + "Z"
        return _local(wall)

    def instant(self, ms: int) -> str:
        when = (_EPOCH + dt.timedelta(milliseconds=ms)).astimezone(self.tz)
        return self.wall(when.replace(tzinfo=None))


def _series(record: Mapping[str, Any]) -> Series:
    """The recurrence series of a stored event record (only its own kind of time fields)."""
    fields: dict[str, Any] = {k: record.get(k) for k in ("recurrence", "exdate", "rdate", "timeZone")}
    keys = ("allDayStart", "allDayEnd") if record.get("allDay") else ("startDate", "endDate")
    for key in keys:
        fields[key] = record.get(key)
    return Series.from_wire(fields, str(record.get("timeZone") or "UTC"))


def _wall_of(series: Series, ref: Ref) -> dt.datetime:
    """The original start a recurrence id / EXDATE names (its occurrence when there is one)."""
    found = locate(series, ref)
    return found if found is not None else series.wall_of(ref)


def _point(series: Series, zoned: _Zoned, wall: dt.datetime) -> str:
    return _date(wall.date()) if series.all_day else zoned.wall(wall)


def _rrule(series: Series, zoned: _Zoned, text: str) -> tuple[str, int | None]:
    """RRULE with UNTIL in the form §3.3.10 wants (a DATE for all-day series, UTC otherwise),
    and the year of UNTIL (None for a rule without one)."""
    rule = parse_rrule(text)
    until = rule.until
    if until is None:
        return rule.to_ical(), None
    if series.all_day:
        rule = replace(rule, until=Ref("date", until.date))
    elif until.kind != "utc":
        wall = until.value if until.kind == "local" else dt.datetime.combine(until.date, dt.time(23, 59, 59))
        assert isinstance(wall, dt.datetime)
        instant = wall.replace(tzinfo=zoned.tz).astimezone(_UTC).replace(tzinfo=None)
        rule = replace(rule, until=Ref("utc", instant))
    return rule.to_ical(), until.date.year


def _attendee(key: str) -> str:
    """ATTENDEE of a ``userKeys`` entry: the key in ``CN`` and ``X-TEAMCAL-USER`` (RFC 6868
    quoted), and as a percent-encoded URI (RFC 3986) in the value, so no character of the key is
    ever structure."""
    _refuse_controls(key, "userKeys")
    if "@" in key and ":" not in key:
        address = "mailto:" + quote(key, safe="@!$&'()*+=.-_~")
    else:
        address = USER_URN + quote(key, safe="!$&'()*+=.-_~")
    return content_line("ATTENDEE", address, (("CN", key), (USER_PARAM, key)))


def uid_of(record: Mapping[str, Any]) -> str:
    """The stable UID of an event: the imported UID, else ``<id>@teamcal``."""
    external = record.get("external") or {}
    if external.get("ns") == "ics" and external.get("key"):
        return str(external["key"])
    return f"{record['id']}@teamcal"


def sequence_of(record: Mapping[str, Any]) -> int:
    """SEQUENCE: the imported one, else the number of revisions (``version`` - 1)."""
    if record.get("sequence") is not None:
        return int(record["sequence"])
    return max(int(record.get("version") or 1) - 1, 0)


def _year_of(ms: int) -> int:
    return (_EPOCH + dt.timedelta(milliseconds=ms)).year


class CalendarWriter:
    """Writes one VCALENDAR (see the module docstring).

    ``name`` is X-WR-CALNAME; ``colors`` maps a source id (``eventTypeConfigId``) to its color.
    After :meth:`write`, ``refused`` lists the ids of events left out because a value could not
    be written safely (:class:`UnsafeValueError`).
    """

    def __init__(self, name: str, colors: Mapping[int, str] | None = None, refresh_interval: str | None = None) -> None:
        self.name = name
        self.colors = dict(colors or {})
        self.refresh_interval = refresh_interval
        self.refused: list[int] = []
        self._zones: dict[str, _Zoned] = {}
        self._years: dict[str, set[int]] = {}
        self._series: dict[str, list[tuple[int, int | None]]] = {}

    def _zoned(self, zone: str, ms: int) -> _Zoned:
        zoned = self._zones.get(zone)
        if zoned is None:
            zoned = self._zones[zone] = _Zoned(zone)
        if not zoned.utc:
            year = _year_of(ms)
            self._years.setdefault(zone, set()).update(range(year - 1, year + 2))
        return zoned

    # ------------------------------------------------------------------ events
    def vevent(self, record: Mapping[str, Any], master: Mapping[str, Any] | None = None) -> list[str]:
        """The folded content lines of one VEVENT (a child when ``master`` is given).

        Raises:
            UnsafeValueError: a value cannot be written safely (see :func:`content_line`).
        """
        uid = uid_of(master if master is not None else record)
        lines = [
            "BEGIN:VEVENT",
            content_line("UID", text(uid, "UID")),
            f"DTSTAMP:{_stamp(int(record['updated']))}",
            f"CREATED:{_stamp(int(record['created']))}",
            f"LAST-MODIFIED:{_stamp(int(record['updated']))}",
            f"SEQUENCE:{sequence_of(record)}",
        ]
        zone = str(record.get("timeZone") or "UTC")
        if record.get("allDay"):
            first = dt.date.fromisoformat(str(record["allDayStart"]))
            last = dt.date.fromisoformat(str(record.get("allDayEnd") or record["allDayStart"]))
            lines.append(f"DTSTART;VALUE=DATE:{_date(first)}")
            lines.append(f"DTEND;VALUE=DATE:{_date(last + _DAY)}")
        else:
            zoned = self._zoned(zone, int(record["startDate"]))
            self._zoned(zone, int(record["endDate"]))
            lines.append(content_line("DTSTART", zoned.instant(int(record["startDate"])), zoned.params()))
            lines.append(content_line("DTEND", zoned.instant(int(record["endDate"])), zoned.params()))
        if master is not None:
            lines.append(self._recurrence_id(master, str(record["recurrenceId"])))
        elif record.get("recurrence") or record.get("rdate") or record.get("exdate"):
            lines.extend(self._recurrence(record))
        if record.get("summary"):
            lines.append(content_line("SUMMARY", text(str(record["summary"]), "SUMMARY")))
        if record.get("description"):
            lines.append(content_line("DESCRIPTION", text(str(record["description"]), "DESCRIPTION")))
        lines.extend(_attendee(str(key)) for key in record.get("userKeys") or [])
        color = self.colors.get(int(record.get("eventTypeConfigId") or 0))
        if color and _COLOR.fullmatch(color):  # any other value is not written
            lines.append(content_line("X-COLOR", color))
        lines.append("END:VEVENT")
        return lines

    def _recurrence(self, record: Mapping[str, Any]) -> list[str]:
        series = _series(record)
        zoned = self._zoned(series.time_zone, series.start_ms)
        out: list[str] = []
        until_year: int | None = None
        if record.get("recurrence"):
            rule, until_year = _rrule(series, zoned, str(record["recurrence"]))
            out.append(content_line("RRULE", rule))
        if not zoned.utc and record.get("recurrence"):
            self._series.setdefault(zoned.zone, []).append((_year_of(series.start_ms), until_year))
        params: Params = (("VALUE", "DATE"),) if series.all_day else zoned.params()
        rdate_walls = [series.wall_of(ref) for ref in series.rdates]
        exdate_walls = [_wall_of(series, ref) for ref in series.exdates]
        if not series.all_day:
            for wall in {w.year for w in [*rdate_walls, *exdate_walls]}:
                self._need_years(zoned, wall)
        rdates = [_point(series, zoned, wall) for wall in rdate_walls]
        if rdates:
            out.append(content_line("RDATE", ",".join(rdates), params))
        exdates = list(dict.fromkeys(_point(series, zoned, wall) for wall in exdate_walls))
        if exdates:
            out.append(content_line("EXDATE", ",".join(exdates), params))
        return out

    def _recurrence_id(self, master: Mapping[str, Any], recurrence_id: str) -> str:
        series = _series(master)
        zoned = self._zoned(series.time_zone, series.start_ms)
        wall = _wall_of(series, parse_ref(recurrence_id, "recurrenceId"))
        if series.all_day:
            return f"RECURRENCE-ID;VALUE=DATE:{_date(wall.date())}"
        self._need_years(zoned, wall.year)
        return content_line("RECURRENCE-ID", zoned.wall(wall), zoned.params())

    def _need_years(self, zoned: _Zoned, year: int) -> None:
        if not zoned.utc:
            self._years.setdefault(zoned.zone, set()).update(range(year - 1, year + 2))

    def _safe_vevents(self, record: Mapping[str, Any], children: Sequence[Mapping[str, Any]]) -> list[str]:
        """The VEVENTs of a master and its children; an event that cannot be written safely is
        left out (a refused master takes its children with it) and its id noted in ``refused``."""
        try:
            out = self.vevent(record)
        except UnsafeValueError:
            self.refused.extend(int(r["id"]) for r in [record, *children])
            return []
        for child in children:
            try:
                out.extend(self.vevent(child, record))
            except UnsafeValueError:
                self.refused.append(int(child["id"]))
        return out

    # ------------------------------------------------------------------ calendar
    def write(self, records: Iterable[Mapping[str, Any]], *, horizon_year: int) -> str:
        """The VCALENDAR text (CRLF line ends) of ``records`` (stored events of any kind).

        Children follow their master; a child whose master is not among ``records`` is written
        as a plain event with its own UID. ``horizon_year``: a repeating series that runs up to
        it gets VTIMEZONE transitions up to it (at most :data:`SERIES_WINDOW_YEARS` years before
        it). Events that cannot be written safely are left out (``refused``).
        """
        records = list(records)
        masters = {int(r["id"]): r for r in records if r.get("kind") != "child"}
        children: dict[int, list[Mapping[str, Any]]] = {}
        lone: list[Mapping[str, Any]] = []
        for r in records:
            if r.get("kind") == "child":
                parent = int(r.get("parentId") or 0)
                (children.setdefault(parent, []) if parent in masters else lone).append(r)
        body: list[str] = []
        for record in sorted(masters.values(), key=_order):
            body.extend(self._safe_vevents(record, sorted(children.get(int(record["id"]), ()), key=_order)))
        for record in sorted(lone, key=_order):
            body.extend(self._safe_vevents(record, ()))
        head = [
            "BEGIN:VCALENDAR",
            f"PRODID:{PRODID}",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
        ]
        # a calendar name that cannot be written safely is left out, not the calendar
        with contextlib.suppress(UnsafeValueError):
            head.append(content_line("X-WR-CALNAME", text(self.name, "X-WR-CALNAME")))
        if self.refresh_interval is not None:  # a feed: how often to poll (RFC 7986 §5.7; Outlook)
            duration = _duration(self.refresh_interval)
            head += [f"REFRESH-INTERVAL;VALUE=DURATION:{duration}", f"X-PUBLISHED-TTL:{duration}"]
        zones = [vtimezone(zone, self._zone_years(zone, horizon_year)) for zone in sorted(self._years)]
        return CRLF.join([*head, *zones, *body, "END:VCALENDAR"]) + CRLF

    def _zone_years(self, zone: str, horizon_year: int) -> tuple[int, ...]:
        """The years whose transitions ``zone``'s VTIMEZONE carries (see :func:`vtimezone`)."""
        years = set(self._years.get(zone, ()))
        for first, until in self._series.get(zone, ()):
            last = min(until if until is not None else horizon_year, horizon_year)
            years.update(range(max(first, last - SERIES_WINDOW_YEARS), last + 1))
        return tuple(sorted(y for y in years if _MIN_YEAR <= y <= _MAX_YEAR))


def _order(record: Mapping[str, Any]) -> tuple[int, int]:
    return (int(record.get("startDate") or 0), int(record["id"]))


# ---------------------------------------------------------------------------- VTIMEZONE
#: A series that runs up to the export's horizon gets the transitions of at most this many years
#: before the horizon (and those around its own start): clients apply the last observance before
#: an instant, so earlier occurrences still get an offset, and the VTIMEZONE stays bounded.
SERIES_WINDOW_YEARS = 30
_MIN_YEAR = 1
_MAX_YEAR = 9998
_SECOND = dt.timedelta(seconds=1)


def _offset(tz: ZoneInfo, instant: dt.datetime) -> tuple[dt.timedelta, bool, str]:
    local = instant.astimezone(tz)
    return local.utcoffset() or dt.timedelta(0), bool(local.dst()), local.tzname() or ""


def _utc_offset_text(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _observance(
    tz: ZoneInfo, at: dt.datetime, before: tuple[dt.timedelta, bool, str], after: tuple[dt.timedelta, bool, str]
) -> list[str]:
    """One STANDARD/DAYLIGHT component: from ``at`` (UTC) on, ``after`` applies; DTSTART is the
    local time at ``at`` in the offset before it (RFC 5545 §3.6.5)."""
    kind = "DAYLIGHT" if after[1] else "STANDARD"
    wall = (at + before[0]).replace(tzinfo=None)
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{_local(wall)}",
        f"TZOFFSETFROM:{_utc_offset_text(before[0])}",
        f"TZOFFSETTO:{_utc_offset_text(after[0])}",
        *([content_line("TZNAME", text(after[2], "TZNAME"))] if after[2] else []),
        f"END:{kind}",
    ]


#: The scan step of :func:`_year_observances`: offset changes are found between samples this far
#: apart, then bisected to the second (two changes less than a week apart, which the tz database
#: has only in a few 20th-century glitches, would both be missed: the offset is right on either side).
_SCAN_STEP = dt.timedelta(days=7)


def _utc_offset(tz: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    return instant.astimezone(tz).utcoffset() or dt.timedelta(0)


@lru_cache(maxsize=4096)
def _year_observances(zone: str, year: int, opening: bool) -> tuple[str, ...]:
    """The observances of one year of ``zone``: each offset change found by sampling the year
    every :data:`_SCAN_STEP` and bisecting to the second; ``opening`` adds one for Jan 1 (UTC)
    stating the offset then, so a run of years starts with a defined offset."""
    tz = ZoneInfo(zone)
    start = dt.datetime(year, 1, 1, tzinfo=_UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=_UTC)
    current = _offset(tz, start)
    lines: list[str] = _observance(tz, start, current, current) if opening else []
    low, low_offset = start, current[0]
    while low < end:
        high = min(low + _SCAN_STEP, end)
        high_offset = _utc_offset(tz, high)
        if high_offset != low_offset:
            lo, hi = low, high  # the offset changes in (lo, hi]
            while hi - lo > _SECOND:
                mid = (lo + (hi - lo) / 2).replace(microsecond=0)
                if _utc_offset(tz, mid) == low_offset:
                    lo = mid
                else:
                    hi = mid
            after = _offset(tz, hi)
            lines.extend(_observance(tz, hi, current, after))
            current = after
            low, low_offset = hi, after[0]
            continue
        low, low_offset = high, high_offset
    return tuple(lines)


def vtimezone(zone: str, years: Sequence[int]) -> str:
    """The VTIMEZONE of IANA ``zone`` with the transitions of ``years`` only (each run of
    consecutive years opens with an observance stating the offset on its Jan 1, UTC), as text
    without the final CRLF. Cost and size grow with ``len(years)``, not with their span.

    Source: the tz database through :mod:`zoneinfo`; RFC 5545 §3.6.5.
    """
    lines = ["BEGIN:VTIMEZONE", content_line("TZID", text(zone, "TZID"))]
    previous: int | None = None
    for year in sorted(set(years)):
        lines.extend(_year_observances(zone, year, previous is None or year != previous + 1))
        previous = year
    lines.append("END:VTIMEZONE")
    return CRLF.join(lines)


def write_calendar(
    name: str,
    records: Sequence[Mapping[str, Any]],
    *,
    colors: Mapping[int, str] | None = None,
    horizon_year: int,
) -> str:
    """Shorthand for ``CalendarWriter(name, colors).write(records, horizon_year=...)``."""
    return CalendarWriter(name, colors).write(records, horizon_year=horizon_year)


def _duration(text: str) -> str:
    """An RFC 5545 §3.3.6 duration of the form ``PT<n>H`` / ``PT<n>M`` / ``P<n>D`` (a constant of
    ours, checked so that it can never carry structure into the output)."""
    if not re.fullmatch(r"P(\d{1,4}D|T\d{1,4}[HM])", text):
        raise ValueError(f"not a simple duration: {text!r}")
    return text
