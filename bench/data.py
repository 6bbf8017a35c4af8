"""Seeded test data for recurrence benchmarks: recurring masters with children and EXDATEs.

:func:`build_masters` returns wire-shaped events (the CCJ fields a DynamoDB item would hold) so
the search benchmark can reuse them; :func:`to_calendar` writes the same data as an iCalendar
object for recurring-ical-events.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

#: 2026-03-01T00:00Z .. +91 days: covers the European and North American spring DST changes and
#: the southern-hemisphere autumn change.
WINDOW_START_MS = 1_772_323_200_000
WINDOW_DAYS = 91
WINDOW_END_MS = WINDOW_START_MS + WINDOW_DAYS * 86_400_000

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "UTC",
    "Asia/Kolkata",
    "Europe/London",
)

_TIMED_RULES = (
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYMONTHDAY=15,-1",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;BYMONTH=3,4;BYDAY=1MO",
    "FREQ=HOURLY;INTERVAL=6",
    "FREQ=DAILY;BYHOUR=9,17",
    "FREQ=WEEKLY;COUNT=150",
    "FREQ=DAILY;COUNT=400",
)
_ALL_DAY_RULES = (
    "FREQ=WEEKLY;BYDAY=FR",
    "FREQ=MONTHLY;BYMONTHDAY=1",
    "FREQ=YEARLY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
)


@dataclass
class Master:
    """One recurring master as wire fields plus its children (wire fields with recurrenceId)."""

    uid: str
    event: dict[str, Any]
    children: list[dict[str, Any]] = field(default_factory=list)


def _ymd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def build_masters(count: int = 500, seed: int = 20260301, span_days: int = 730) -> list[Master]:
    """``count`` recurring masters, mixed FREQ, zones, all-day and timed, starting in the
    ``span_days`` before the window; about a third with EXDATEs and a third with moved children."""
    rng = random.Random(seed)
    window_start = dt.datetime.fromtimestamp(WINDOW_START_MS / 1000, dt.UTC)
    out: list[Master] = []
    for i in range(count):
        tz_name = ZONES[i % len(ZONES)]
        tz = ZoneInfo(tz_name)
        all_day = i % 5 == 4
        day0 = (window_start - dt.timedelta(days=rng.randint(0, span_days))).date()
        uid = f"bench-{i}@teamcal"
        if all_day:
            rule = rng.choice(_ALL_DAY_RULES)
            length = rng.choice((1, 1, 1, 2, 3))
            event: dict[str, Any] = {
                "allDayStart": day0.isoformat(),
                "allDayEnd": (day0 + dt.timedelta(days=length - 1)).isoformat(),
            }
        else:
            rule = rng.choice(_TIMED_RULES)
            local = dt.datetime.combine(day0, dt.time(rng.choice((0, 7, 9, 12, 18, 23)), rng.choice((0, 30))))
            start = local.replace(tzinfo=tz)
            minutes = rng.choice((15, 30, 60, 60, 90, 240, 24 * 60 * 2))
            event = {"startDate": _ms(start), "endDate": _ms(start + dt.timedelta(minutes=minutes))}
        if rng.random() < 0.3 and "UNTIL" not in rule and "COUNT" not in rule:
            until = window_start + dt.timedelta(days=rng.randint(-60, 200))
            until = max(until, dt.datetime.combine(day0, dt.time(), dt.UTC) + dt.timedelta(days=30))
            rule += ";UNTIL=" + (_ymd(until.date()) if all_day else until.strftime("%Y%m%dT%H%M%SZ"))
        event |= {"recurrence": rule, "timeZone": tz_name}
        out.append(Master(uid, event))
    return out


def add_exceptions(masters: list[Master], seed: int = 7) -> None:
    """Give masters EXDATEs and moved children, picked among their occurrences near the window.

    Uses teamcal's expansion only to pick real occurrence dates; the benchmark checks the
    result against recurring-ical-events independently.
    """
    from teamcal.recurrence import Series, expand

    rng = random.Random(seed)
    for i, master in enumerate(masters):
        series = Series.from_wire(master.event, "UTC")
        window = expand(series, WINDOW_START_MS - 20 * 86_400_000, WINDOW_END_MS + 20 * 86_400_000)
        occurrences = window.occurrences
        if not occurrences:
            continue
        if i % 3 == 0:
            picks = rng.sample(occurrences, min(3, len(occurrences)))
            master.event["exdate"] = [
                o.recurrence_id_full if not series.all_day else o.original.isoformat() for o in picks
            ]
        elif i % 3 == 1:
            excluded = set()
            for o in rng.sample(occurrences, min(2, len(occurrences))):
                if o.recurrence_id_full in excluded:
                    continue
                excluded.add(o.recurrence_id_full)
                shift = rng.choice((-3, -1, 1, 2, 40)) * 86_400_000 + rng.choice((0, 3_600_000))
                child: dict[str, Any] = {"recurrenceId": o.recurrence_id_full, "summary": "moved"}
                if series.all_day:
                    start_day = (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=o.start_ms + shift)).date()
                    child |= {"allDayStart": start_day.isoformat(), "allDayEnd": start_day.isoformat()}
                else:
                    child |= {"startDate": o.start_ms + shift, "endDate": o.end_ms + shift}
                master.children.append(child)


def to_calendar(masters: list[Master]) -> Any:
    """The masters and children as an :class:`icalendar.Calendar` (VEVENT per master/child)."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//teamcal//bench//EN")
    cal.add("version", "2.0")
    for master in masters:
        ev = master.event
        tz = ZoneInfo(ev["timeZone"])
        vevent = icalendar.Event()
        vevent.add("uid", master.uid)
        if "allDayStart" in ev:
            first = dt.date.fromisoformat(ev["allDayStart"])
            last = dt.date.fromisoformat(ev["allDayEnd"])
            vevent.add("dtstart", first)
            vevent.add("dtend", last + dt.timedelta(days=1))
        else:
            vevent.add("dtstart", _local(ev["startDate"], tz))
            vevent.add("dtend", _local(ev["endDate"], tz))
        vevent.add("rrule", icalendar.vRecur.from_ical(ev["recurrence"]))
        for ex in ev.get("exdate", ()):
            vevent.add("exdate", _ical_value(ex, tz))
        cal.add_component(vevent)
        for child in master.children:
            vchild = icalendar.Event()
            vchild.add("uid", master.uid)
            vchild.add("recurrence-id", _ical_value(child["recurrenceId"], tz))
            if "allDayStart" in child:
                vchild.add("dtstart", dt.date.fromisoformat(child["allDayStart"]))
                vchild.add("dtend", dt.date.fromisoformat(child["allDayEnd"]) + dt.timedelta(days=1))
            else:
                vchild.add("dtstart", _local(child["startDate"], tz))
                vchild.add("dtend", _local(child["endDate"], tz))
            cal.add_component(vchild)
    return cal


def _local(ms: int, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).astimezone(tz)


def _ical_value(text: str, tz: ZoneInfo) -> dt.date | dt.datetime:
    if "-" in text:
        return dt.date.fromisoformat(text)
    if "T" not in text:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    return dt.datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
