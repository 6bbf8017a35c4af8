"""Small helpers shared by the recurrence unit tests (not a test module)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from teamcal.recurrence import Expansion, Override, Series, expand

UTC = dt.UTC
DAY_MS = 86_400_000


def ms(text: str, zone: str = "UTC") -> int:
    """Epoch ms of a wall time ``YYYYMMDDTHHMM[SS]`` in ``zone`` (fold 0)."""
    fmt = "%Y%m%dT%H%M%S" if len(text) == 15 else "%Y%m%dT%H%M"
    return int(dt.datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def day_ms(text: str) -> int:
    """Epoch ms of UTC midnight of ``YYYY-MM-DD``."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def wall(ms_value: int, zone: str) -> str:
    """The wall time ``YYYYMMDDTHHMM`` of an instant in ``zone``."""
    return dt.datetime.fromtimestamp(ms_value / 1000, ZoneInfo(zone)).strftime("%Y%m%dT%H%M")


def timed(start: str, zone: str, rule: str | None, minutes: int = 60, **kwargs: object) -> Series:
    """A timed series starting at wall time ``start`` in ``zone``."""
    first = ms(start, zone)
    return Series.from_timed(first, first + minutes * 60_000, zone, rule, **kwargs)  # type: ignore[arg-type]


def walls(
    series: Series, start: str, end: str, *, overrides: tuple[Override, ...] = (), limit: int = 10_000
) -> list[str]:
    """Wall times (series zone) of the occurrences in ``[start, end)`` (UTC ``YYYYMMDDTHHMM``)."""
    found = expand(series, ms(start), ms(end), overrides=overrides, limit=limit)
    return [wall(o.start_ms, series.time_zone) for o in found.occurrences]


def dates(found: Expansion) -> list[tuple[str, str]]:
    """``(allDayStart, allDayEnd)`` ISO pairs of an all-day expansion."""
    return [(str(o.all_day_start), str(o.all_day_end)) for o in found.occurrences]
