"""Benchmark: the cost of one calendar's export, worst case for VTIMEZONEs (a script, not a test).

    .venv/bin/python -m bench.export [--events 10000] [--zones 60]

Pure code, no AWS: :class:`teamcal.ical.writer.CalendarWriter` on generated stored records. Two
shapes, each printing wall time and size:

* ``spread``: ``--zones`` DST zones, each with events at far-apart years (1800 … 8999, the
  range the API accepts) — the shape of issue 16 (60 events in 30 zones took 15.5 s and 4.5 MB
  when each VTIMEZONE spanned the earliest to the latest year);
* ``calendar``: ``--events`` events over ``--zones`` zones: singles spread over 10 years,
  a fifth of them weekly series without an end, with descriptions and attendees.

The documented bound (README, "iCalendar"): VTIMEZONE cost grows with the distinct years the
events touch (3 per event at most, plus 31 per zone for open series), never with their span.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

from teamcal.ical.writer import CalendarWriter

DST_ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Prague",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Kyiv",
    "Europe/Lisbon",
    "Europe/Dublin",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Budapest",
    "Europe/Bucharest",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Halifax",
    "America/St_Johns",
    "America/Anchorage",
    "America/Havana",
    "America/Santiago",
    "America/Asuncion",
    "America/Mexico_City",
    "America/Toronto",
    "America/Vancouver",
    "America/Winnipeg",
    "America/Edmonton",
    "America/Boise",
    "America/Detroit",
    "America/Phoenix",
    "America/Regina",
    "America/Godthab",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Australia/Melbourne",
    "Australia/Hobart",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Easter",
    "Africa/Casablanca",
    "Africa/Cairo",
    "Asia/Beirut",
    "Asia/Jerusalem",
    "Asia/Tehran",
    "Asia/Damascus",
    "Asia/Amman",
    "Atlantic/Azores",
    "Atlantic/Canary",
    "America/Bogota",
    "America/Caracas",
    "America/Havana",
]


def _ms(year: int, month: int = 6, day: int = 1, hour: int = 12) -> int:
    return int(dt.datetime(year, month, day, hour, tzinfo=dt.UTC).timestamp() * 1000)


def record(rid: int, zone: str, start_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "kind": "single",
        "calendarId": 1,
        "eventTypeConfigId": 2,
        "allDay": False,
        "startDate": start_ms,
        "endDate": start_ms + 3_600_000,
        "timeZone": zone,
        "version": 1,
        "created": 1_700_000_000_000,
        "updated": 1_700_000_000_000,
        **extra,
    }


def spread(zones: int) -> list[dict[str, Any]]:
    """Two events per zone, in 1800 and 8999."""
    names = sorted(set(DST_ZONES))[:zones]
    return [
        record(i * 2 + j + 1, zone, _ms(year)) for i, zone in enumerate(names) for j, year in enumerate((1800, 8999))
    ]


def calendar(events: int, zones: int, seed: int) -> list[dict[str, Any]]:
    """``events`` events over ``zones`` zones, a fifth of them open weekly series."""
    rng = random.Random(seed)
    names = sorted(set(DST_ZONES))[:zones]
    out = []
    for rid in range(1, events + 1):
        start = _ms(rng.randint(2020, 2029), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23))
        extra: dict[str, Any] = {
            "summary": f"Event {rid}",
            "description": "Agenda; notes, links\n" * 5,
            "userKeys": [f"user{rng.randint(1, 50)}" for _ in range(3)],
        }
        if rid % 5 == 0:
            extra["recurrence"] = "FREQ=WEEKLY"
        out.append(record(rid, rng.choice(names), start, **extra))
    return out


def measure(label: str, records: list[dict[str, Any]], horizon_year: int) -> None:
    began = time.perf_counter()
    text = CalendarWriter("Bench").write(records, horizon_year=horizon_year)
    elapsed = time.perf_counter() - began
    zones = text.count("BEGIN:VTIMEZONE")
    observances = text.count("BEGIN:STANDARD") + text.count("BEGIN:DAYLIGHT")
    print(
        f"{label:>9}: {len(records):>6} events, {zones:>3} zones: {elapsed:6.2f} s, "
        f"{len(text.encode()) / 1e6:6.2f} MB, {observances} observances"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--zones", type=int, default=60)
    parser.add_argument("--seed", type=int, default=5545)
    args = parser.parse_args()
    zones = min(args.zones, len(set(DST_ZONES)))
    horizon = dt.datetime.now(dt.UTC).year + 10
    measure("spread", spread(zones), horizon)
    measure("calendar", calendar(args.events, zones, args.seed), horizon)


if __name__ == "__main__":
    main()
