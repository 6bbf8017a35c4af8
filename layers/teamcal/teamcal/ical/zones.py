"""TZID → IANA zone name, per file (RFC 5545 §3.2.19 TZID, §3.6.5 VTIMEZONE).

teamcal stores every event's zone as an IANA name (``timeZone``), because recurrence repeats in
wall time of that zone (:mod:`teamcal.recurrence`). Real files name zones in several ways; a
:class:`ZoneResolver` tries, in order:

1. the TZID as an IANA name (``Europe/Berlin``, ``UTC``), quotes and surrounding ``/`` removed;
2. a Windows zone name (Outlook: ``W. Europe Standard Time``) through the CLDR mapping icalendar
   ships (:data:`icalendar.timezone.windows_to_olson.WINDOWS_TO_OLSON`);
3. a "globally unique" TZID with a vendor prefix (libical, Evolution, Lightning:
   ``/freeassociation.sourceforge.net/Tzfile/Europe/Berlin``, ``/mozilla.org/20050126_1/Europe/Berlin``):
   the longest trailing IANA name;
4. the file's own VTIMEZONE with that TZID: the IANA zone whose UTC offsets are the same at noon
   UTC of every day of :data:`SAMPLE_YEARS`, preferring a zone whose city the TZID mentions;
   a definition with one fixed whole-hour offset maps to ``Etc/GMT±h``.

5. an Outlook display name (``(UTC-03:00) Brasília``, ``(GMT+01:00) Amsterdam, Berlin, Bern``):
   the IANA zone of one of the cities it lists whose standard offset is the one it shows
   (:func:`display_name_zone`); with no such city, a fixed ``Etc/GMT±h`` of that offset.

A VTIMEZONE that matches no IANA zone (a made-up rule) still gives each wall time its instant
(:meth:`ZoneResolver.instant_of`); the importer then stores that instant in UTC.

Anything else is unknown (``None``); the importer then reads the time as floating in the
calendar's zone and says so in a per-VEVENT warning (:mod:`teamcal.ical.convert`). Results are
cached per resolver (one file), never across files: icalendar's own cache of VTIMEZONE
definitions is process-wide, so two files defining the same custom TZID differently would otherwise
leak into each other.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import icalendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

#: Years over which a custom VTIMEZONE is compared with the IANA zones: first a long span (which
#: tells apart zones that only lately share rules, e.g. New York and Grand Turk), then the recent
#: years alone (for definitions that carry only today's rules of a zone that changed them), then
#: the earlier years alone (for outdated definitions: Brasília with the DST Brazil dropped in 2019).
SAMPLE_YEARS = ((2008, 2028), (2020, 2028), (2008, 2019))
_UTC = dt.UTC
#: Mondays, noon UTC, 1970-2008: the earlier history that ranks equivalent zones.
_HISTORY = tuple(dt.datetime(1970, 1, 5, 12, tzinfo=dt.UTC) + dt.timedelta(weeks=i) for i in range(2035))
_PROBES = tuple(dt.datetime(year, month, 15, 12, tzinfo=_UTC) for year in (2019, 2024) for month in (1, 4, 7, 10))


def iana(name: str) -> str | None:
    """``name`` if it is an IANA zone name the tz database knows, else ``None``."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _clean(tzid: str) -> str:
    return tzid.strip().strip('"').strip()


def named_zone(tzid: str) -> str | None:
    """Steps 1-3 of the module docstring: the IANA zone a TZID names by itself, or ``None``."""
    cleaned = _clean(tzid)
    direct = iana(cleaned.strip("/"))
    if direct is not None:
        return direct
    windows = WINDOWS_TO_OLSON.get(cleaned.strip("/"))
    if windows is not None:
        return windows
    parts = [p for p in cleaned.split("/") if p]
    for start in range(1, len(parts)):
        found = iana("/".join(parts[start:]))
        if found is not None:
            return found
    return _suffix_zone(cleaned)


@lru_cache(maxsize=256)
def _suffix_zone(tzid: str) -> str | None:
    """The longest IANA ``Area/City`` name ``tzid`` ends with after a separator
    (``custom_Pacific/Fiji`` → ``Pacific/Fiji``)."""
    best = None
    for name in _candidates():
        fits = "/" in name and tzid.endswith(name) and len(tzid) > len(name) and not tzid[-len(name) - 1].isalnum()
        if fits and (best is None or len(name) > len(best)):
            best = name
    return best


@lru_cache(maxsize=1)
def _candidates() -> tuple[str, ...]:
    """Every IANA zone except the ``posix/`` and ``right/`` copies, sorted."""
    return tuple(sorted(z for z in available_timezones() if not z.startswith(("posix/", "right/"))))


@lru_cache(maxsize=1)
def _by_probe() -> dict[tuple[dt.timedelta | None, ...], tuple[str, ...]]:
    """IANA zones grouped by their UTC offsets at :data:`_PROBES` (a cheap first filter)."""
    groups: dict[tuple[dt.timedelta | None, ...], list[str]] = {}
    for name in _candidates():
        zone = ZoneInfo(name)
        groups.setdefault(tuple(p.astimezone(zone).utcoffset() for p in _PROBES), []).append(name)
    return {k: tuple(v) for k, v in groups.items()}


@lru_cache(maxsize=4)
def _samples(first_year: int, last_year: int) -> tuple[dt.datetime, ...]:
    """Noon UTC of every day of ``[first_year, last_year)``."""
    start = dt.datetime(first_year, 1, 1, 12, tzinfo=_UTC)
    days = (dt.date(last_year, 1, 1) - dt.date(first_year, 1, 1)).days
    return tuple(start + dt.timedelta(days=i) for i in range(days))


@lru_cache(maxsize=1)
def _golden() -> frozenset[str]:
    """The representative IANA zone of every Windows zone (CLDR): preferred among equivalents."""
    return frozenset(WINDOWS_TO_OLSON.values())


class _Offsets:
    """The UTC offset a VTIMEZONE definition gives at any instant (from its transitions, computed
    once with icalendar: far faster than asking a tzinfo built from the rules for each instant)."""

    def __init__(self, component: icalendar.Timezone) -> None:
        times, info = component.get_transitions()
        pairs = sorted(zip(times, (i[0] for i in info), strict=True))
        self.times = [t for t, _ in pairs]
        self.offsets = [o for _, o in pairs]
        if not self.offsets:
            raise ValueError("the VTIMEZONE defines no offset")

    def at(self, when: dt.datetime) -> dt.timedelta:
        """The offset at ``when`` (aware UTC)."""
        index = bisect.bisect_right(self.times, when.replace(tzinfo=None)) - 1
        return self.offsets[max(index, 0)]


def _same_offsets(zone: ZoneInfo, samples: tuple[dt.datetime, ...], wanted: list[dt.timedelta]) -> bool:
    return all(when.astimezone(zone).utcoffset() == offset for when, offset in zip(samples, wanted, strict=True))


def _history_score(zone: ZoneInfo, history: list[dt.timedelta]) -> int:
    """On how many Mondays of 1970-2008 ``zone`` has the offsets ``history`` lists."""
    return sum(when.astimezone(zone).utcoffset() == offset for when, offset in zip(_HISTORY, history, strict=True))


def equivalent_zone(tzid: str, offset_at: Callable[[dt.datetime], dt.timedelta]) -> str | None:
    """The IANA zone with the UTC offsets ``offset_at`` gives (see the module docstring), or ``None``.

    Among equivalent zones, one whose city the TZID mentions wins; then a CLDR representative zone
    (``Europe/Paris`` rather than ``Africa/Ceuta``); then the one whose offsets agree most often in
    earlier years (New York rather than Indianapolis, which kept no DST until 2006, for a US
    Eastern definition).
    """
    probe = tuple(offset_at(p) for p in _PROBES)
    candidates = _by_probe().get(probe, ())
    text = _clean(tzid).lower().replace(" ", "_")
    for years in SAMPLE_YEARS:
        samples = _samples(*years)
        wanted = [offset_at(when) for when in samples]
        matching = [name for name in candidates if _same_offsets(ZoneInfo(name), samples, wanted)]
        if not matching:
            continue
        mentioned = [name for name in matching if name.rsplit("/", 1)[-1].lower() in text]
        if mentioned:
            return sorted(mentioned)[0]
        if len(matching) == 1:
            return matching[0]
        golden = _golden()
        history = [offset_at(when) for when in _HISTORY]
        return max(matching, key=lambda name: (name in golden, _history_score(ZoneInfo(name), history), name))
    if len(set(probe)) == 1:
        hours, rest = divmod(int(probe[0].total_seconds()), 3600)
        if rest == 0 and -12 <= hours <= 14:
            return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
    return None


@lru_cache(maxsize=64)
def _equivalent_for_definition(tzid: str, text: str) -> str | None:
    """:func:`equivalent_zone` of a VTIMEZONE text (cached by content: safe across files)."""
    try:
        component = icalendar.Timezone.from_ical(text)
        if not isinstance(component, icalendar.Timezone):
            return None
        offsets = _Offsets(component)
        return equivalent_zone(tzid, offsets.at)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError):
        return None


class ZoneResolver:
    """Resolves the TZIDs of one file (see the module docstring).

    ``vtimezones`` are the texts of the file's VTIMEZONE components; they are parsed only when a
    TZID needs step 4.
    """

    def __init__(self, vtimezones: Iterable[str] = ()) -> None:
        self._texts: dict[str, str] = {}
        for text in vtimezones:
            for line in text.splitlines():
                if line[:5].upper() == "TZID:" or line[:5].upper() == "TZID;":
                    self._texts.setdefault(_clean(line.split(":", 1)[1]), text)
                    break
        self._cache: dict[str, str | None] = {}
        self._definitions: dict[str, _Offsets | None] = {}

    def resolve(self, tzid: str) -> str | None:
        """The IANA zone name for ``tzid``, or ``None`` when it names no zone this file defines."""
        if tzid in self._cache:
            return self._cache[tzid]
        found = named_zone(tzid)
        if found is None:
            found = self._from_definition(_clean(tzid))
        if found is None:
            found = display_name_zone(tzid)
        self._cache[tzid] = found
        return found

    def instant_of(self, tzid: str, wall: dt.datetime) -> dt.datetime | None:
        """The UTC instant (naive) of wall time ``wall`` in the file's own VTIMEZONE ``tzid``, or
        ``None`` without a usable definition. An ambiguous wall time takes its first instant, one
        in a gap the offset before the gap (RFC 5545 §3.3.5)."""
        offsets = self._offsets(_clean(tzid))
        if offsets is None:
            return None
        candidates = sorted(set(offsets.offsets), reverse=True)
        for offset in candidates:
            utc = wall - offset
            if offsets.at(utc.replace(tzinfo=_UTC)) == offset:
                return utc
        return wall - offsets.at((wall - candidates[0]).replace(tzinfo=_UTC))

    def _offsets(self, tzid: str) -> _Offsets | None:
        text = self._texts.get(tzid) or self._texts.get(tzid.strip("/"))
        if text is None:
            return None
        if text not in self._definitions:
            try:
                component = icalendar.Timezone.from_ical(text)
                self._definitions[text] = _Offsets(component) if isinstance(component, icalendar.Timezone) else None
            except (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError):
                self._definitions[text] = None
        return self._definitions[text]

    def _from_definition(self, tzid: str) -> str | None:
        text = self._texts.get(tzid) or self._texts.get(tzid.strip("/"))
        if text is None:
            return None
        return _equivalent_for_definition(tzid, text)


_DISPLAY = re.compile(r"^\(?\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*\)?\s*(.*)$", re.IGNORECASE)
#: Cities of Windows display names that are not the city of an IANA zone name.
_DISPLAY_ALIASES = {
    "brasilia": "America/Sao_Paulo",
    "beijing": "Asia/Shanghai",
    "hong_kong": "Asia/Hong_Kong",
    "mumbai": "Asia/Kolkata",
    "new_delhi": "Asia/Kolkata",
    "eastern_time_(us_&_canada)": "America/New_York",
    "central_time_(us_&_canada)": "America/Chicago",
    "mountain_time_(us_&_canada)": "America/Denver",
    "pacific_time_(us_&_canada)": "America/Los_Angeles",
    "coordinated_universal_time": "UTC",
}


def _city_key(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return plain.strip().lower().replace(" ", "_")


@lru_cache(maxsize=1)
def _by_city() -> dict[str, tuple[str, ...]]:
    """IANA zones by the lower-case last part of their name (``sao_paulo`` → America/Sao_Paulo)."""
    out: dict[str, list[str]] = {}
    for name in _candidates():
        if "/" in name and not name.startswith("Etc/"):
            out.setdefault(name.rsplit("/", 1)[-1].lower(), []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def _standard_offset(name: str) -> dt.timedelta | None:
    zone = ZoneInfo(name)
    offsets = []
    for probe in _PROBES:
        local = probe.astimezone(zone)
        offset, dst = local.utcoffset(), local.dst()
        if offset is not None:
            offsets.append(offset - (dst or dt.timedelta(0)))
    return min(offsets) if offsets else None


@lru_cache(maxsize=256)
def display_name_zone(tzid: str) -> str | None:
    """Step 5 of the module docstring: the IANA zone an Outlook display name means, or ``None``.

    ``(UTC-03:00) Brasília`` → ``America/Sao_Paulo``; ``(GMT+01:00) Amsterdam, Berlin, Bern,
    Rome`` → ``Europe/Amsterdam`` (the first listed city whose zone has that standard offset);
    ``(UTC+05:45) Somewhere`` → ``None`` (no whole-hour fixed zone); ``(UTC+02:00) Nowhere`` →
    ``Etc/GMT-2``. Text that does not start with a ``UTC``/``GMT`` offset is not a display name.
    """
    cleaned = _clean(tzid)
    match = _DISPLAY.match(cleaned)
    if match is None:
        return None
    sign, hours, minutes, rest = match.groups()
    offset = dt.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if sign == "-":
        offset = -offset
    for city in re.split(r"[,;/]| and ", rest or ""):
        key = _city_key(city)
        if not key:
            continue
        names = (_DISPLAY_ALIASES[key],) if key in _DISPLAY_ALIASES else _by_city().get(key, ())
        for name in names:
            if _standard_offset(name) == offset:
                return name
    if offset == dt.timedelta(0):
        return "UTC"
    whole, rest_seconds = divmod(int(offset.total_seconds()), 3600)
    if rest_seconds or not -12 <= whole <= 14:
        return None
    return f"Etc/GMT{-whole:+d}"
