"""Date and date-time values on the wire: recurrence ids, EXDATE and RDATE values, all-day dates.

Accepted forms (CCJ reference: ``recurrenceId`` is ``YYYYMMDD``, ``exdate`` is ``YYYY-MM-DD``;
RFC 5545 §3.3.4 DATE and §3.3.5 DATE-TIME forms 1 and 2):

========================  ====================================================================
``YYYY-MM-DD``            a date (:attr:`Ref.kind` ``"date"``)
``YYYYMMDD``              a date (``"date"``)
``YYYYMMDDTHHMMSS``       a local wall time in the series' time zone (``"local"``)
``YYYYMMDDTHHMMSSZ``      an instant in UTC (``"utc"``)
========================  ====================================================================

A date names an occurrence by its local start date. Because sub-daily rules (``FREQ=HOURLY``...)
can start several occurrences on one day, a date that matches several occurrences names the
FIRST of them; use a date-time form to name any other.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from teamcal.recurrence.errors import RecurrenceError

RefKind = Literal["date", "local", "utc"]

_REF = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?")
_DASHED_OR_BASIC = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}(?:T\d{6}Z?)?")

#: 1970-01-01T00:00 as a naive datetime and as a proleptic ordinal.
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()
DAY_MS = 86_400_000
MS = dt.timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Ref:
    """One parsed date / date-time value naming a point of a series.

    ``kind == "date"``: ``value`` is a :class:`datetime.date`. ``"local"``: a naive
    :class:`datetime.datetime`, wall time in the series' zone. ``"utc"``: a naive datetime in UTC.
    """

    kind: RefKind
    value: dt.date

    @property
    def text(self) -> str:
        """The canonical basic form: ``YYYYMMDD``, ``YYYYMMDDTHHMMSS`` or ``YYYYMMDDTHHMMSSZ``."""
        if self.kind == "date":
            return format_date(self.value)
        assert isinstance(self.value, dt.datetime)
        return format_local(self.value) + ("Z" if self.kind == "utc" else "")

    @property
    def date(self) -> dt.date:
        """The calendar date written in the value (for ``"utc"`` the UTC date)."""
        if isinstance(self.value, dt.datetime):
            return self.value.date()
        return self.value


def parse_ref(value: object, field: str) -> Ref:
    """Parse one recurrence id / EXDATE / RDATE value in any form of the module docstring.

    Raises :class:`RecurrenceError` for ``field`` when ``value`` is not a string of one of the
    forms or names an impossible date or time (``20240230``, ``T250000``).
    """
    if not isinstance(value, str) or not _DASHED_OR_BASIC.fullmatch(value.strip()):
        raise RecurrenceError.for_field(
            field, f"{value!r} is not a date YYYY-MM-DD / YYYYMMDD or a date-time YYYYMMDDTHHMMSS[Z]"
        )
    match = _REF.fullmatch(value.strip())
    assert match is not None
    year, month, day, hour, minute, second, zulu = match.groups()
    try:
        if hour is None:
            return Ref("date", dt.date(int(year), int(month), int(day)))
        when = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as e:
        raise RecurrenceError.for_field(field, f"{value!r} is not a valid date: {e}") from e
    return Ref("utc" if zulu else "local", when)


def parse_refs(values: object, field: str) -> tuple[Ref, ...]:
    """Parse a list of values (or one string, possibly comma-separated) with :func:`parse_ref`.

    ``None`` and ``""`` give ``()``. Raises :class:`RecurrenceError` for ``field``.
    """
    if values is None:
        return ()
    if isinstance(values, str):
        items: list[object] = [v for v in values.split(",") if v.strip()]
    elif isinstance(values, list | tuple):
        items = list(values)
    else:
        raise RecurrenceError.for_field(field, "must be a list of dates or a comma-separated string")
    return tuple(parse_ref(v, field) for v in items)


def parse_wire_date(value: object, field: str) -> dt.date:
    """Parse an all-day date (``allDayStart``/``allDayEnd``: ``YYYY-MM-DD``; ``YYYYMMDD`` too).

    Raises :class:`RecurrenceError` for ``field``.
    """
    ref = parse_ref(value, field)
    if ref.kind != "date":
        raise RecurrenceError.for_field(field, f"{value!r} must be a date YYYY-MM-DD")
    return ref.value


def format_date(day: dt.date) -> str:
    """``YYYYMMDD`` (the CCJ ``recurrenceId`` form)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def format_local(when: dt.datetime) -> str:
    """``YYYYMMDDTHHMMSS`` (RFC 5545 §3.3.5 form 1, no zone designator)."""
    return f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}{when.second:02d}"


def naive_to_ms(when: dt.datetime) -> int:
    """Epoch milliseconds of a naive datetime read as UTC."""
    return (when - EPOCH) // MS


def ms_to_naive(ms: int) -> dt.datetime:
    """The naive UTC datetime of epoch milliseconds (exact to the millisecond)."""
    return EPOCH + dt.timedelta(milliseconds=ms)


def date_to_ms(day: dt.date) -> int:
    """Epoch milliseconds of UTC midnight starting ``day`` (the all-day convention)."""
    return (day.toordinal() - EPOCH_ORDINAL) * DAY_MS


def ms_to_date(ms: int) -> dt.date:
    """The UTC date containing the instant ``ms``."""
    return dt.date.fromordinal(ms // DAY_MS + EPOCH_ORDINAL)
