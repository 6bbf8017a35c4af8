"""RRULE values (RFC 5545 §3.3.10, §3.8.5.3): parsing, validation, normalisation, dateutil kwargs.

The text is split into its rule parts here so every part can be checked against the RFC grammar
and ranges with a message naming the part; the normalised text is then also parsed with
:func:`dateutil.rrule.rrulestr` so nothing dateutil would refuse gets through. Expansion builds
:class:`dateutil.rrule.rrule` objects from :meth:`RecurrenceRule.dateutil_kwargs`.

Not supported (rejected with a message): ``BYSECOND=60`` (leap seconds; Python datetimes cannot
hold them), RFC 7529 ``RSCALE``/``SKIP``, x-name parts, several RRULEs in one value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from dateutil import rrule as du

from teamcal.recurrence.errors import RecurrenceError
from teamcal.recurrence.values import Ref, parse_ref

FIELD = "recurrence"

#: FREQ names to dateutil constants (YEARLY=0 ... SECONDLY=6).
FREQUENCIES: dict[str, int] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
    "MINUTELY": du.MINUTELY,
    "SECONDLY": du.SECONDLY,
}
FREQUENCY_NAMES = {v: k for k, v in FREQUENCIES.items()}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

#: The largest COUNT accepted. A COUNT rule is materialised once (to find its last occurrence,
#: :func:`teamcal.recurrence.extent.series_end_ms`), so this bounds that work; Outlook caps COUNT
#: at 999, Google at 730 daily instances. 5,000 dense occurrences cost about 25 ms of CPU here.
MAX_COUNT = 5_000
#: Sub-daily rules (FREQ=HOURLY/MINUTELY/SECONDLY) are iterated by dateutil one step at a time
#: inside a day; a step whose hour or minute BYHOUR / BYMINUTE refuse is work without an
#: occurrence (``FREQ=SECONDLY;BYHOUR=0;BYMINUTE=0;BYSECOND=0`` steps 1,440 times per occurrence,
#: seconds of CPU per search). The most such steps per occurrence a rule may need
#: (:meth:`RecurrenceRule.steps_per_occurrence`); the same rule written with FREQ=DAILY and
#: BYHOUR/BYMINUTE/BYSECOND costs one step per occurrence. Such a narrowed sub-daily rule may not
#: also filter days (BYMONTH, BYMONTHDAY, ...): dateutil scans each skipped day step by step too.
MAX_STEPS_PER_OCCURRENCE = 12
#: The most steps a COUNT rule may take in all (COUNT x steps per occurrence), so that finding its
#: last occurrence stays cheap: ``FREQ=MINUTELY;BYHOUR=9,10`` (12 steps) may count to 1,666.
MAX_COUNT_STEPS = 20_000
#: The largest INTERVAL accepted (keeps period arithmetic far from datetime's year 9999).
MAX_INTERVAL = 10_000

#: Order in which parts are written by :meth:`RecurrenceRule.to_ical`.
_ORDER = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
_INT_PARTS: dict[str, tuple[int, int, bool]] = {
    # part: (min |value|, max |value|, signed)
    "BYSECOND": (0, 59, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}


def _bad(message: str) -> RecurrenceError:
    return RecurrenceError.for_field(FIELD, message)


@dataclass(frozen=True, slots=True)
class RecurrenceRule:
    """One parsed, validated RRULE value (RFC 5545 §3.3.10).

    ``freq`` is a dateutil constant (:data:`FREQUENCIES`); ``until`` is a :class:`Ref` (a DATE,
    a floating DATE-TIME or a UTC DATE-TIME, inclusive); ``byday`` holds ``(weekday, n)`` pairs
    with ``weekday`` 0=MO..6=SU and ``n`` the ordinal (``None`` for every such weekday);
    ``wkst`` is 0=MO..6=SU (default MO, RFC 5545). Only parts present in the text are non-empty:
    the defaults RFC 5545 takes from DTSTART are applied when a rule is bound to a start.
    """

    freq: int
    interval: int = 1
    count: int | None = None
    until: Ref | None = None
    wkst: int = 0
    bysecond: tuple[int, ...] = ()
    byminute: tuple[int, ...] = ()
    byhour: tuple[int, ...] = ()
    byday: tuple[tuple[int, int | None], ...] = ()
    bymonthday: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    bymonth: tuple[int, ...] = ()
    bysetpos: tuple[int, ...] = ()
    wkst_given: bool = False

    def to_ical(self) -> str:
        """The normalised RRULE value without the ``RRULE:`` prefix, parts in a fixed order.

        Example: ``FREQ=WEEKLY;UNTIL=20241231T230000Z;INTERVAL=2;BYDAY=MO,WE``.
        """
        parts = {
            "FREQ": FREQUENCY_NAMES[self.freq],
            "UNTIL": self.until.text if self.until else "",
            "COUNT": str(self.count) if self.count is not None else "",
            "INTERVAL": str(self.interval) if self.interval != 1 else "",
            "BYSECOND": _join(self.bysecond),
            "BYMINUTE": _join(self.byminute),
            "BYHOUR": _join(self.byhour),
            "BYDAY": ",".join(f"{n if n else ''}{WEEKDAYS[w]}" for w, n in self.byday),
            "BYMONTHDAY": _join(self.bymonthday),
            "BYYEARDAY": _join(self.byyearday),
            "BYWEEKNO": _join(self.byweekno),
            "BYMONTH": _join(self.bymonth),
            "BYSETPOS": _join(self.bysetpos),
            "WKST": WEEKDAYS[self.wkst] if self.wkst_given else "",
        }
        return ";".join(f"{name}={parts[name]}" for name in _ORDER if parts[name])

    def with_end(self, *, count: int | None = None, until: Ref | None = None) -> RecurrenceRule:
        """This rule with COUNT and UNTIL replaced (both ``None``: unbounded)."""
        return replace(self, count=count, until=until)

    @property
    def sub_daily(self) -> bool:
        """Whether FREQ is HOURLY, MINUTELY or SECONDLY."""
        return bool(self.freq >= du.HOURLY)

    def steps_per_occurrence(self) -> float:
        """How many dateutil steps inside a day one occurrence costs at most, on average.

        FREQ=SECONDLY steps from second to second (or from BYSECOND value to BYSECOND value)
        through hours and minutes that BYHOUR / BYMINUTE refuse: ``(24 / |BYHOUR|) × (60 /
        |BYMINUTE|)``; FREQ=MINUTELY from minute to minute through refused hours: ``24 /
        |BYHOUR|``; coarser rules build whole periods at once: 1.
        """
        hours = 24 / len(self.byhour or range(24))
        if self.freq == du.SECONDLY:
            return hours * 60 / len(self.byminute or range(60))
        if self.freq == du.MINUTELY:
            return hours
        return 1.0

    def defaults_for(self, start: dt.datetime) -> dict[str, Any]:
        """The rule parts RFC 5545 §3.3.10 takes from DTSTART when absent, as dateutil kwargs.

        Binding them explicitly lets an rrule be restarted at a later period (see
        :mod:`teamcal.recurrence.expand`) without changing its occurrences.
        """
        out: dict[str, Any] = {}
        if self.freq < du.HOURLY and not self.byhour:
            out["byhour"] = (start.hour,)
        if self.freq < du.MINUTELY and not self.byminute:
            out["byminute"] = (start.minute,)
        if self.freq < du.SECONDLY and not self.bysecond:
            out["bysecond"] = (start.second,)
        if not (self.byweekno or self.byyearday or self.bymonthday or self.byday):
            if self.freq == du.YEARLY:
                if not self.bymonth:
                    out["bymonth"] = (start.month,)
                out["bymonthday"] = (start.day,)
            elif self.freq == du.MONTHLY:
                out["bymonthday"] = (start.day,)
            elif self.freq == du.WEEKLY:
                out["byweekday"] = (start.weekday(),)
        return out

    def dateutil_kwargs(self) -> dict[str, Any]:
        """The parts present in the text as :class:`dateutil.rrule.rrule` keyword arguments.

        COUNT and UNTIL are left out: the expansion bounds rules itself.
        """
        out: dict[str, Any] = {"freq": self.freq, "interval": self.interval, "wkst": self.wkst}
        for name in ("bysecond", "byminute", "byhour", "bymonthday", "byyearday", "byweekno", "bymonth"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.bysetpos:
            out["bysetpos"] = self.bysetpos
        if self.byday:
            out["byweekday"] = tuple(du.weekdays[w](n) if n else du.weekdays[w] for w, n in self.byday)
        return out


def _join(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def _int(name: str, text: str, low: int, high: int, signed: bool) -> int:
    body = text[1:] if signed and text[:1] in "+-" else text
    if not body.isdigit() or not body.isascii():
        raise _bad(f"{name}={text} is not an integer")
    value = int(text)
    if not low <= abs(value) <= high or (not signed and value < 0):
        sign = "±" if signed else ""
        raise _bad(f"{name} value {text} is out of range {sign}{low}..{high}")
    return value


def _byday(text: str) -> tuple[int, int | None]:
    day = text[-2:]
    if day not in WEEKDAYS:
        raise _bad(f"BYDAY value {text!r} does not end in a weekday (MO, TU, WE, TH, FR, SA, SU)")
    prefix = text[:-2]
    if not prefix:
        return WEEKDAYS.index(day), None
    return WEEKDAYS.index(day), _int("BYDAY", prefix, 1, 53, True)


def _most_per_period(r: RecurrenceRule) -> int:
    """An upper bound of the instances one FREQ period yields before BYSETPOS (RFC 5545 §3.3.10:
    BYSETPOS picks among them); exact for DAILY and finer (the parts DTSTART gives count once)."""
    seconds = len(r.bysecond or (0,))
    if r.freq == du.SECONDLY:
        return 1
    if r.freq == du.MINUTELY:
        return seconds
    minutes = len(r.byminute or (0,)) * seconds
    if r.freq == du.HOURLY:
        return minutes
    times = len(r.byhour or (0,)) * minutes
    days = {du.DAILY: 1, du.WEEKLY: len({w for w, _ in r.byday}) or 1, du.MONTHLY: 31}.get(r.freq, 366)
    return days * times


def _check_cost(r: RecurrenceRule) -> None:
    """Refuse rules whose iteration is work without occurrences (module constants above)."""
    name = FREQUENCY_NAMES[r.freq]
    steps = r.steps_per_occurrence()
    if steps > MAX_STEPS_PER_OCCURRENCE:
        raise _bad(
            f"FREQ={name} with BYHOUR/BYMINUTE this narrow takes {steps:.0f} iteration steps per occurrence "
            f"(at most {MAX_STEPS_PER_OCCURRENCE}); write it as FREQ=DAILY with BYHOUR, BYMINUTE and BYSECOND"
        )
    if steps > 1 and (r.bymonth or r.bymonthday or r.byyearday or r.byday or r.byweekno):
        raise _bad(
            f"FREQ={name} with BYHOUR/BYMINUTE and a day filter (BYMONTH, BYMONTHDAY, BYYEARDAY, BYDAY) "
            "scans every skipped day step by step; write it as FREQ=DAILY with BYHOUR, BYMINUTE and BYSECOND"
        )
    if r.count is not None and r.count * steps > MAX_COUNT_STEPS:
        raise _bad(
            f"COUNT={r.count} with FREQ={name} and this BYHOUR/BYMINUTE takes {r.count * steps:.0f} iteration steps "
            f"(at most {MAX_COUNT_STEPS}); use a smaller COUNT, an UNTIL, or FREQ=DAILY with BYHOUR/BYMINUTE/BYSECOND"
        )
    most = _most_per_period(r)
    if r.bysetpos and min(abs(n) for n in r.bysetpos) > most:
        raise _bad(
            f"BYSETPOS={_join(r.bysetpos)} can never select: a FREQ={name} period of this rule holds at most "
            f"{most} instance{'s' if most > 1 else ''}"
        )


def _check_combinations(r: RecurrenceRule) -> None:
    """The RFC 5545 §3.3.10 rules that tie parts to FREQ."""
    name = FREQUENCY_NAMES[r.freq]
    if r.count is not None and r.until is not None:
        raise _bad("UNTIL and COUNT must not occur in the same RRULE")
    if r.bymonthday and r.freq == du.WEEKLY:
        raise _bad("BYMONTHDAY must not be used with FREQ=WEEKLY")
    if r.byyearday and r.freq in (du.DAILY, du.WEEKLY, du.MONTHLY):
        raise _bad(f"BYYEARDAY must not be used with FREQ={name}")
    if r.byweekno and r.freq != du.YEARLY:
        raise _bad("BYWEEKNO may only be used with FREQ=YEARLY")
    if any(n for _, n in r.byday):
        if r.freq not in (du.MONTHLY, du.YEARLY):
            raise _bad(f"BYDAY with an ordinal (e.g. 2TU) needs FREQ=MONTHLY or YEARLY, not {name}")
        if r.freq == du.YEARLY and r.byweekno:
            raise _bad("BYDAY with an ordinal must not be combined with BYWEEKNO")
        limit = 5 if r.freq == du.MONTHLY or r.bymonth else 53
        if any(n and abs(n) > limit for _, n in r.byday):
            raise _bad(f"BYDAY ordinal is out of range ±1..{limit}")
    if r.bysetpos and not (
        r.bysecond or r.byminute or r.byhour or r.byday or r.bymonthday or r.byyearday or r.byweekno or r.bymonth
    ):
        raise _bad("BYSETPOS must be used together with another BYxxx rule part")


def _parse_part(name: str, value: str, fields: dict[str, Any]) -> None:
    if name == "FREQ":
        if value not in FREQUENCIES:
            raise _bad(f"FREQ={value} is not one of {', '.join(FREQUENCIES)}")
        fields["freq"] = FREQUENCIES[value]
    elif name == "INTERVAL":
        fields["interval"] = _int(name, value, 1, MAX_INTERVAL, False)
    elif name == "COUNT":
        fields["count"] = _int(name, value, 1, MAX_COUNT, False)
    elif name == "UNTIL":
        fields["until"] = parse_ref(value, FIELD)
    elif name == "WKST":
        if value not in WEEKDAYS:
            raise _bad(f"WKST={value} is not a weekday (MO, TU, WE, TH, FR, SA, SU)")
        fields["wkst"] = WEEKDAYS.index(value)
        fields["wkst_given"] = True
    elif name == "BYDAY":
        fields["byday"] = tuple(dict.fromkeys(_byday(v) for v in value.split(",")))
    elif name in _INT_PARTS:
        low, high, signed = _INT_PARTS[name]
        fields[name.lower()] = tuple(dict.fromkeys(_int(name, v, low, high, signed) for v in value.split(",")))
    else:
        raise _bad(f"unknown or unsupported rule part {name!r}")


@lru_cache(maxsize=4096)
def parse_rrule(text: str) -> RecurrenceRule:
    """Parse and validate one RRULE value, with or without the ``RRULE:`` prefix.

    Parts are case-insensitive, empty parts (a trailing ``;``) are ignored, each part may occur
    once. Raises :class:`RecurrenceError` for field ``recurrence`` naming the offending part.
    Results are cached (the rule is immutable).
    """
    if not isinstance(text, str):
        raise _bad("must be a string holding an RRULE")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body or "RRULE:" in body.upper():
        raise _bad("must hold exactly one RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO")
    fields: dict[str, Any] = {}
    seen: set[str] = set()
    for raw in body.split(";"):
        if not raw.strip():
            continue
        name, sep, value = raw.strip().upper().partition("=")
        if not sep or not value:
            raise _bad(f"rule part {raw!r} is not NAME=VALUE")
        if name in seen:
            raise _bad(f"rule part {name} occurs more than once")
        seen.add(name)
        _parse_part(name, value, fields)
    if "freq" not in fields:
        raise _bad("FREQ is required")
    rule = RecurrenceRule(**fields)
    _check_combinations(rule)
    _check_cost(rule)
    _cross_check(rule)
    return rule


def _cross_check(rule: RecurrenceRule) -> None:
    """Let dateutil's own parser see the normalised rule (without UNTIL, checked above).

    Only construction: iterating an arbitrary rule here could run for seconds (see
    :mod:`teamcal.recurrence.engine` for the bounded iteration).
    """
    text = rule.with_end(count=rule.count).to_ical()
    try:
        du.rrulestr(text, dtstart=dt.datetime(2000, 1, 1))
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise _bad(f"is not a valid RRULE: {e}") from e
