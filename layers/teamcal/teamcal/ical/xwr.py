"""X-WR-TIMEZONE: UTC and floating date-times of an event moved into the calendar's zone.

Google's exports write UTC times and name the calendar's zone in the non-standard X-WR-TIMEZONE
property; read as RFC 5545 alone, a weekly 09:00 Berlin meeting would repeat at 08:00 UTC across
DST. These are the few lines of x-wr-timezone 2.0 (``UTCChangingWalker``, LGPL-3.0-or-later,
https://github.com/niccokunzmann/x-wr-timezone) that the importer needs, on one event's properties,
so the layer does not depend on that package's private walker API (nor on click, which it imports).
``tests/unit/test_ical_xwr.py`` checks them against x-wr-timezone itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from icalendar.prop import vDDDLists, vDDDTypes

#: The properties x-wr-timezone converts (``CalendarWalker.VALUE_ATTRIBUTES``).
DATE_TIME_PROPERTIES = ("DTSTART", "DTEND", "RDATE", "RECURRENCE-ID", "EXDATE")


def _moved(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    name = value.tzname()
    if name is None:  # floating: that wall time in the zone
        return value.replace(tzinfo=zone)
    if name.upper() == "UTC":  # the same instant, in the zone
        return value.astimezone(zone)
    return value


def to_zone(value: Any, zone: dt.tzinfo) -> Any:
    """``value`` (a property value as icalendar parses it: ``vDDDTypes``, ``vDDDLists``, a list of
    those, or a bare date/datetime) with its UTC and floating date-times moved into ``zone``.

    Dates and date-times in another zone are kept. The same object is returned when nothing
    changes; otherwise a new one (the input is never modified).
    """
    if isinstance(value, list):
        items = [to_zone(item, zone) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, vDDDLists):
        dts = [item.dt for item in value.dts]
        moved = [to_zone(item, zone) for item in dts]
        return value if all(a is b for a, b in zip(moved, dts, strict=True)) else vDDDLists(moved)
    if isinstance(value, vDDDTypes):
        inner = to_zone(value.dt, zone)
        return value if inner is value.dt else vDDDTypes(inner)
    if isinstance(value, dt.datetime):
        return _moved(value, zone)
    return value
