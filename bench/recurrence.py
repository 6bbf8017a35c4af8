"""Benchmark: expanding 500 recurring masters over a 91-day window, three ways, one data set.

Run from the repository root:
``.venv/bin/python -m bench.recurrence [--masters 500] [--repeat 5] [--span-days 730]``.
``--span-days 0`` starts every series at the window, so the floor iterates no history: that run
shows teamcal's per-occurrence overhead alone.

1. teamcal: ``Series.from_wire`` + ``expand`` with the children as overrides (what the search
   does per master). Timed cold (rule caches cleared before each round) and warm.
2. recurring-ical-events: ``of(calendar).between(start, end)`` on the same data as an
   iCalendar object (parsing the .ics text is not timed).
3. The floor: a bare dateutil loop, ``rrulestr(RRULE, dtstart=aware DTSTART).between(...)``
   per master, no EXDATEs, no children, no conversion to ms. Timed with the rrulestr parse
   (a stateless search) and with pre-parsed rules.

Checks that teamcal and recurring-ical-events return the same occurrences (UID, start instant;
dates for all-day), and that teamcal without exceptions returns the floor's starts (plus DTSTART
where the rule does not match it), then prints the timings and ratios (median of the rounds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr

from bench.data import WINDOW_END_MS, WINDOW_START_MS, Master, add_exceptions, build_masters, to_calendar
from teamcal.recurrence import Override, Series, expand
from teamcal.recurrence.engine import compile_rule
from teamcal.recurrence.rule import parse_rrule

UTC = dt.UTC
Key = tuple[str, Any]


def _utc(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=ms)


def _overrides(master: Master) -> list[Override]:
    out = []
    for child in master.children:
        if "allDayStart" in child:
            out.append(Override.all_day_dates(child["recurrenceId"], child["allDayStart"], child["allDayEnd"]))
        else:
            out.append(Override(child["recurrenceId"], child["startDate"], child["endDate"]))
    return out


def run_teamcal(masters: list[Master], children: list[list[Override]]) -> set[Key]:
    """teamcal's expansion of every master; the set of (uid, start) it returns."""
    found: set[Key] = set()
    for master, overrides in zip(masters, children, strict=True):
        series = Series.from_wire(master.event, "UTC")
        for o in expand(series, WINDOW_START_MS, WINDOW_END_MS, overrides=overrides).occurrences:
            found.add((master.uid, o.all_day_start if o.all_day else o.start_ms))
    return found


def run_rie(calendar: Any) -> set[Key]:
    """recurring-ical-events on the same data."""
    found: set[Key] = set()
    for component in recurring_ical_events.of(calendar).between(_utc(WINDOW_START_MS), _utc(WINDOW_END_MS)):
        start = component.DTSTART
        if isinstance(start, dt.datetime):
            found.add((str(component["UID"]), int(start.timestamp() * 1000)))
        else:
            found.add((str(component["UID"]), start))
    return found


def floor_inputs(masters: list[Master]) -> list[tuple[str, str, dt.datetime, dt.timedelta]]:
    """(uid, rrule, aware DTSTART (naive midnight for all-day), duration) per master."""
    out = []
    for master in masters:
        ev = master.event
        if "allDayStart" in ev:
            first = dt.datetime.fromisoformat(ev["allDayStart"])
            duration = dt.datetime.fromisoformat(ev["allDayEnd"]) - first + dt.timedelta(days=1)
            out.append((master.uid, ev["recurrence"], first, duration))
        else:
            start = _utc(ev["startDate"]).astimezone(ZoneInfo(ev["timeZone"]))
            out.append(
                (master.uid, ev["recurrence"], start, dt.timedelta(milliseconds=ev["endDate"] - ev["startDate"]))
            )
    return out


def _window_for(dtstart: dt.datetime, duration: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    lo, hi = _utc(WINDOW_START_MS) - duration, _utc(WINDOW_END_MS)
    if dtstart.tzinfo is None:
        return lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    return lo, hi


def run_floor(inputs: list[tuple[str, str, dt.datetime, dt.timedelta]], rules: list[Any] | None = None) -> int:
    """The bare dateutil loop; returns the number of starts."""
    total = 0
    for i, (_uid, text, dtstart, duration) in enumerate(inputs):
        rule = rules[i] if rules is not None else _rrulestr(text, dtstart)
        lo, hi = _window_for(dtstart, duration)
        total += len(rule.between(lo, hi, inc=True))
    return total


def _rrulestr(text: str, dtstart: dt.datetime) -> Any:
    if dtstart.tzinfo is not None and "UNTIL=" in text and not text.split("UNTIL=")[1][:16].endswith("Z"):
        raise ValueError("bench data writes UTC UNTIL for timed rules")
    return rrulestr(text, dtstart=dtstart)


def floor_starts(inputs: list[tuple[str, str, dt.datetime, dt.timedelta]]) -> set[Key]:
    """The floor's raw starts as (uid, ms or date), for the identity check."""
    found: set[Key] = set()
    for uid, text, dtstart, duration in inputs:
        lo, hi = _window_for(dtstart, duration)
        for start in _rrulestr(text, dtstart).between(lo, hi, inc=True):
            if start.tzinfo is None:
                ms = int(start.replace(tzinfo=UTC).timestamp() * 1000)
            else:
                ms = int(start.timestamp() * 1000)
            if ms < WINDOW_END_MS and ms + duration // dt.timedelta(milliseconds=1) > WINDOW_START_MS:
                found.add((uid, start.date() if start.tzinfo is None else ms))
    return found


def _clear_caches() -> None:
    parse_rrule.cache_clear()
    compile_rule.cache_clear()


def _time(fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> float:
    samples = []
    for _ in range(repeat):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    """Build the data, check the three agree, time them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masters", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--span-days", type=int, default=730, help="DTSTARTs are spread over this many days before the window"
    )
    args = parser.parse_args()

    masters = build_masters(args.masters, span_days=args.span_days)
    add_exceptions(masters)
    children = [_overrides(m) for m in masters]
    calendar = icalendar.Calendar.from_ical(to_calendar(masters).to_ical())
    inputs = floor_inputs(masters)
    preparsed = [_rrulestr(text, dtstart) for _uid, text, dtstart, _d in inputs]

    ours = run_teamcal(masters, children)
    theirs = run_rie(calendar)
    if ours != theirs:
        raise SystemExit(f"MISMATCH teamcal vs recurring-ical-events: {sorted(ours ^ theirs)[:10]}")
    plain = [Master(m.uid, {k: v for k, v in m.event.items() if k != "exdate"}) for m in masters]
    plain_starts = run_teamcal(plain, [[] for _ in plain])
    floor = floor_starts(inputs)
    if not floor <= plain_starts or len(plain_starts - floor) > len(masters):
        raise SystemExit(f"MISMATCH teamcal vs dateutil floor: {sorted(plain_starts ^ floor)[:10]}")
    n_children = sum(len(c) for c in children)
    n_exdates = sum(len(m.event.get("exdate", ())) for m in masters)
    print(
        f"{len(masters)} masters ({sum('allDayStart' in m.event for m in masters)} all-day), "
        f"{n_exdates} EXDATEs, {n_children} children, window {WINDOW_START_MS}..{WINDOW_END_MS} (91 days): "
        f"{len(ours)} occurrences, identical in teamcal and recurring-ical-events; "
        f"floor starts {len(floor)} (teamcal without exceptions: {len(plain_starts)}, the difference is "
        f"DTSTARTs that do not match their RRULE)"
    )

    repeat = args.repeat
    t_cold = _time(lambda: run_teamcal(masters, children), repeat, _clear_caches)
    t_warm = _time(lambda: run_teamcal(masters, children), repeat)
    t_rie = _time(lambda: run_rie(calendar), max(1, repeat // 2))
    t_floor_parse = _time(lambda: run_floor(inputs), repeat)
    t_floor = _time(lambda: run_floor(inputs, preparsed), repeat)
    rows = [
        ("teamcal, cold caches", t_cold),
        ("teamcal, warm caches", t_warm),
        ("recurring-ical-events", t_rie),
        ("dateutil floor, rrulestr + between", t_floor_parse),
        ("dateutil floor, between only", t_floor),
    ]
    for name, seconds in rows:
        print(f"  {name:38s} {seconds * 1000:9.1f} ms")
    print(f"  recurring-ical-events / teamcal cold   {t_rie / t_cold:9.1f} x   (goal >= 3)")
    print(f"  teamcal cold / floor with rrulestr     {t_cold / t_floor_parse:9.2f} x   (goal <= 1.5)")
    print(f"  teamcal warm / floor between only      {t_warm / t_floor:9.2f} x   (goal <= 1.5)")


if __name__ == "__main__":
    main()
