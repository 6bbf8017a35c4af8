"""Real input: every .ics file shipped inside the installed ``icalendar`` and
``recurring_ical_events`` packages (read from the packages, never copied) is imported through
``POST /calendar/{id}/import``.

* No file may cause a server error: files icalendar cannot read, broken and fuzzed ones included.
* For every file icalendar can parse, the occurrences ``POST /event/search`` returns must equal
  what recurring-ical-events computes for the same file and window (after x-wr-timezone, as the
  importer does): start, end and summary of each. Windows: around the first clusters of
  DTSTARTs, around the last DTSTART, and a year after each recurring event's start.
* recurring-ical-events' own calendars are compared whole: every file it can expand is imported
  (202) and nothing is left out of the comparison (:func:`test_every_recurring_ical_events_calendar_agrees`).
* Every icalendar test calendar holding a VEVENT with a readable DTSTART imports at least one
  event (:func:`test_every_icalendar_calendar_with_an_event_imports_one`).

Left out of the comparison, each for a stated reason: in icalendar's files, VEVENTs the import
refused (the job's ``errors`` name their UID: no DTSTART, RSCALE, broken values, ...); everywhere,
STATUS:CANCELLED components (teamcal cancels those occurrences; recurring-ical-events returns them
flagged). Files whose errors were cut off, or which recurring-ical-events itself cannot expand,
are counted, under a ceiling.

Deliberate differences, applied to the oracle's answer before comparing (README, "iCalendar"):

* An all-day event whose DTEND equals its DTSTART lasts zero days for recurring-ical-events and
  one day in teamcal (``allDayEnd`` is inclusive: an all-day event covers at least its day).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import x_wr_timezone
from icalendar.error import GloballyUniqueTZIDGuessed

from functions.events import app as events_app
from teamcal.auth.principal import Principal
from teamcal.models.events import SearchRequest
from teamcal.services import events as events_service
from tests.conftest import TEMPLATE, LambdaContext
from tests.integration.ccj import ROOT
from tests.integration.ical import ical, moto_resources, zoned_calendar

pytestmark = pytest.mark.integration

UTC = dt.UTC
DAY_MS = 86_400_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
ROOTS = (
    Path(str(files("recurring_ical_events") / "test" / "calendars")),
    Path(str(files("icalendar") / "tests")),
)
CORPUS = sorted((p for root in ROOTS for p in root.rglob("*.ics")), key=lambda p: (p.parent.name, p.name))
CTX = LambdaContext()
ADMIN = Principal.from_context(ROOT)
RIE_ROOT = ROOTS[0]
#: Windows compared per file (the first clusters of starts, the last start, then a year after
#: recurring starts).
MAX_WINDOWS = 4
WINDOW_MS = 90 * DAY_MS


@cache
def _readable(path: Path) -> icalendar.Calendar | None:
    # icalendar caches VTIMEZONE definitions process-wide by TZID: a file defining "Western/Central
    # Europe" would change how a later file's undefined TZID reads in the oracle (floating alone)
    tz_cache = getattr(icalendar.timezone.tzp, "_TZP__tz_cache", None)
    if isinstance(tz_cache, dict):
        tz_cache.clear()
    try:
        with warnings.catch_warnings():
            # vendor-prefixed TZIDs (/freeassociation.sourceforge.net/...): icalendar says it guessed
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            calendar = icalendar.Calendar.from_ical(path.read_bytes())
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return calendar if isinstance(calendar, icalendar.Calendar) else None


@dataclass
class Imported:
    """One corpus file after its import."""

    path: Path
    status: int
    body: Any
    calendar_id: int
    excluded_uids: set[str] = field(default_factory=set)


#: Reported VEVENTs whose occurrences are still compared: a duplicate or superseded VEVENT is
#: reported and skipped exactly as recurring-ical-events ignores it; a VEVENT without occurrences
#: has none on either side.
KEPT_REASONS = ("duplicate ", "an older version of part of its series", "RRULE UNTIL is before DTSTART")
#: The import result of every file, filled by the per-file test (for the summary test).
RESULTS: dict[Path, Imported] = {}
#: The recurring-ical-events files whose every window agreed, occurrence by occurrence.
AGREED: set[Path] = set()


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto for the module; each file gets its own calendar, and its events are deleted
    after its test (moto answers index Queries by scanning the table: it must stay small)."""
    with moto_resources():
        yield


@lru_cache(maxsize=1)
def _calendar() -> dict[str, Any]:
    """The calendar every file is imported into (zone UTC: floating times are then compared as
    UTC on both sides); the events table is emptied after each file, so each import starts from
    an empty calendar."""
    return zoned_calendar(CTX, zone="UTC", name="corpus")


def _import(path: Path) -> Imported:
    """Import ``path`` into the (empty) corpus calendar."""
    calendar = _calendar()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        status, body, _ = ical("POST", f"/calendar/{calendar['id']}/import", CTX, base64_body=data)
    else:
        status, body, _ = ical("POST", f"/calendar/{calendar['id']}/import", CTX, raw=text)
    result = Imported(path, status, body, int(calendar["id"]))
    if status == 202 and not path.is_relative_to(RIE_ROOT):
        result.excluded_uids = {str(e["uid"]) for e in body["errors"] if not e["reason"].startswith(KEPT_REASONS)}
    elif status == 400:
        result.excluded_uids = {k.removeprefix("VEVENT ") for k in body["errors"] if k.startswith("VEVENT ")}
    RESULTS[path] = result
    return result


def _clean() -> None:
    """Empty the events table (moto answers index Queries by scanning every item: keeping the
    table to one file's events keeps searches fast)."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    name = TEMPLATE.physical_name("EventsTable")
    props = TEMPLATE.resolve(TEMPLATE.resources["EventsTable"]["Properties"])
    client.delete_table(TableName=name)
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in props["GlobalSecondaryIndexes"]
        ],
    )


def _ms(value: dt.date) -> int:
    if not isinstance(value, dt.datetime):
        return (dt.datetime.combine(value, dt.time(), UTC) - EPOCH) // dt.timedelta(milliseconds=1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _windows(calendar: icalendar.Calendar) -> list[tuple[int, int]]:
    """Windows of 90 days around clusters of DTSTARTs, and a year after recurring starts (at
    most :data:`MAX_WINDOWS`, taken from both kinds)."""
    starts: list[int] = []
    later: list[int] = []
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None or not isinstance(getattr(start, "dt", None), dt.date):
            continue
        ms = _ms(start.dt)
        starts.append(ms)
        if "RRULE" in event or "RDATE" in event:
            later.append(ms + 365 * DAY_MS)
    windows: list[tuple[int, int]] = []
    for ms in sorted(starts):
        if not windows or ms >= windows[-1][1] - DAY_MS:
            windows.append((ms - DAY_MS, ms - DAY_MS + WINDOW_MS))
    last = [(max(starts) - DAY_MS, max(starts) - DAY_MS + WINDOW_MS)] if starts else []
    windows = windows[: MAX_WINDOWS - 2] + last + [(ms - DAY_MS, ms - DAY_MS + WINDOW_MS) for ms in sorted(set(later))]
    low, high = _ms(dt.date(1801, 1, 1)), _ms(dt.date(8999, 1, 1))
    return [w for w in dict.fromkeys(windows) if low <= w[0] and w[1] <= high][:MAX_WINDOWS]


Key = tuple[Any, Any, str]


def _at(value: dt.date) -> Any:
    return value if not isinstance(value, dt.datetime) else _ms(value)


def _end(component: Any) -> dt.date:
    """The end of an occurrence recurring-ical-events returns (DTEND, DTSTART + DURATION, or
    DTSTART), with teamcal's deliberate difference: an all-day event lasts at least one day."""
    start = component["DTSTART"].dt
    if "DTEND" in component:
        end = component["DTEND"].dt
    elif "DURATION" in component:
        end = start + component["DURATION"].dt
    else:
        end = start
    if not isinstance(start, dt.datetime) and not isinstance(end, dt.datetime) and end <= start:
        end = start + dt.timedelta(days=1)
    return end


def _theirs(calendar: icalendar.Calendar, window: tuple[int, int], excluded: set[str]) -> Counter[Key]:
    a = EPOCH + dt.timedelta(milliseconds=window[0])
    b = EPOCH + dt.timedelta(milliseconds=window[1])
    out: Counter[Key] = Counter()
    for component in recurring_ical_events.of(calendar).between(a, b):
        if str(component.get("UID", "")) in excluded or str(component.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = component["DTSTART"].dt
        out[(_at(start), _at(_end(component)), str(component.get("SUMMARY") or ""))] += 1
    return out


def _ours(result: Imported, window: tuple[int, int]) -> Counter[Key]:
    """The occurrences POST /event/search returns (its use case, called directly: the route adds
    nothing to compare and costs time over 250 files), without those of excluded UIDs (each
    stored event knows the UID it came from)."""
    request = SearchRequest.model_validate(
        {"calendarId": result.calendar_id, "startDate": window[0], "endDate": window[1]}
    )
    page = events_service.search(events_app.stores(), ADMIN, request)
    assert page.total == len(page.values)
    assert not page.truncated
    ids = {int(v["id"]) for v in page.values}
    uids = {i: str((e.external or {})["key"]) for i, e in events_app.stores().events.get_many(ids).items()}
    out: Counter[Key] = Counter()
    for v in page.values:
        if uids[int(v["id"])].split("#", 1)[0] in result.excluded_uids:
            continue
        if v["allDay"]:
            start, end = (
                dt.date.fromisoformat(v["allDayStart"]),
                dt.date.fromisoformat(v["allDayEnd"]) + dt.timedelta(1),
            )
        else:
            start, end = v["startDate"], v["endDate"]
        out[(start, end, str(v.get("summary") or ""))] += 1
    return out


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.name}" for p in CORPUS])
def test_import_is_never_a_server_error_and_search_matches_recurring_ical_events(aws: None, path: Path) -> None:
    # Given a file from the packages, imported into an empty calendar
    result = _import(path)
    try:
        # Then the import answered without a server error (a refusal is Jira's 4xx body)
        assert result.status in (202, 400, 413), result.body
        if result.status != 202:
            assert set(result.body) == {"errorMessages", "errors"}, result.body
        _compare(result)
    finally:
        if result.status == 202 and (result.body["created"] or result.body["updated"]):
            _clean()


def _expandable(path: Path) -> icalendar.Calendar | None:
    """The file as the importer reads it (after x-wr-timezone), if recurring-ical-events can
    expand it at all."""
    parsed = _readable(path)
    if parsed is None:
        return None
    calendar = x_wr_timezone.to_standard(parsed)
    try:
        recurring_ical_events.of(calendar).between(dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 2))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return calendar


def _compare(result: Imported) -> None:
    calendar = _expandable(result.path)
    strict = result.path.is_relative_to(RIE_ROOT)
    if calendar is None:
        return  # icalendar cannot read it, or recurring-ical-events cannot expand it itself
    if strict:
        # recurring-ical-events' own calendars: each is imported, nothing is left out
        assert result.status == 202, result.body
    if result.status != 202 or result.body["errorsOmitted"]:
        return  # the import refused the file, or not every refusal is listed
    for window in _windows(calendar):
        try:
            theirs = _theirs(calendar, window, result.excluded_uids)
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # recurring-ical-events cannot expand this window
        # When our search covers the same window, it returns the same occurrences (start and
        # end instants, or dates for all-day; summary)
        ours = _ours(result, window)
        assert ours == theirs, (window, sorted(ours - theirs)[:5], sorted(theirs - ours)[:5])
    if strict:
        AGREED.add(result.path)


#: Why a corpus VEVENT may be refused or skipped (the files include deliberately broken ones).
#: Unknown TZIDs, swapped or mixed DTSTART/DTEND, several RRULEs, THISANDFUTURE and RDATE
#: periods are imported (with warnings) since issue 14.
ALLOWED_REASONS = (
    "the VEVENT has no DTSTART",
    "an older version of part of its series",
    "duplicate UID",
    "duplicate RECURRENCE-ID",
    "RRULE UNTIL is before DTSTART",
    "recurrence: ",
    "invalid ",
    "malformed VEVENT",
    "RDATE holds a value",
    "its series failed",
)
#: Why a corpus file may be refused as a whole.
ALLOWED_FILE_REASONS = ("Not an iCalendar file", "The file is", "Line ")
REFUSED_CEILING = 130


def test_the_corpus_was_mostly_imported(aws: None) -> None:
    # Given every file of the corpus imported by the test above
    if len(RESULTS) != len(CORPUS):
        pytest.skip("run the whole module: this test sums up the per-file imports")
    statuses = Counter(r.status for r in RESULTS.values())
    # Then most files were imported, and the files icalendar cannot read were refused or imported
    assert len(CORPUS) >= 250
    assert statuses[202] >= 140, statuses
    unreadable = [p for p in CORPUS if _readable(p) is None]
    assert len(unreadable) >= 5
    assert all(RESULTS[p].status in (202, 400) for p in unreadable)
    # and every refusal has one of the known reasons, and there are not many
    reasons = [e["reason"] for r in RESULTS.values() if r.status == 202 for e in r.body["errors"]]
    reasons += [v for r in RESULTS.values() if r.status == 400 for k, v in r.body["errors"].items() if k != "file"]
    assert len(reasons) <= REFUSED_CEILING, Counter(reasons)
    assert all(reason.startswith(ALLOWED_REASONS) for reason in reasons), Counter(reasons)
    files_refused = [r.body["errors"]["file"] for r in RESULTS.values() if "file" in (r.body or {}).get("errors", {})]
    assert all(reason.startswith(ALLOWED_FILE_REASONS) for reason in files_refused), files_refused


def _has_readable_event(path: Path) -> bool:
    """Whether icalendar reads the file and finds a VEVENT whose DTSTART is a date or date-time."""
    calendar = _readable(path)
    if calendar is None:
        return False
    for event in calendar.walk("VEVENT"):
        try:
            start = event.get("DTSTART")
            if start is not None and isinstance(start.dt, dt.date):
                return True
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return False


def test_every_recurring_ical_events_calendar_agrees(aws: None) -> None:
    # Given recurring-ical-events' own calendars, imported and compared by the per-file test
    if len(RESULTS) != len(CORPUS):
        pytest.skip("run the whole module: this test sums up the per-file comparisons")
    expandable = [p for p in CORPUS if p.is_relative_to(RIE_ROOT) and _expandable(p) is not None]
    # Then every file it can expand agreed occurrence by occurrence (the per-file test names
    # the disagreements)
    assert len(expandable) >= 90
    assert sorted(p.name for p in expandable if p not in AGREED) == []


def test_every_icalendar_calendar_with_an_event_imports_one(aws: None) -> None:
    # Given icalendar's test calendars that hold a VEVENT with a readable DTSTART
    if len(RESULTS) != len(CORPUS):
        pytest.skip("run the whole module: this test sums up the per-file imports")
    eventful = [p for p in CORPUS if not p.is_relative_to(RIE_ROOT) and _has_readable_event(p)]
    # Then each of them imported at least one event
    assert len(eventful) >= 60
    empty = [p.name for p in eventful if RESULTS[p].status != 202 or not RESULTS[p].body["created"]]
    assert empty == [], {p: RESULTS[p].body for p in eventful if p.name in empty}
    # and says what it guessed: a zone no VTIMEZONE defines is read in the calendar's zone
    texts = {p: p.read_bytes() for p in eventful}
    undefined = [p for p in eventful if b"Western/Central Europe" in texts[p] and b"VTIMEZONE" not in texts[p]]
    assert len(undefined) >= 4
    for path in undefined:
        assert any("unknown TZID 'Western/Central Europe'" in w for w in RESULTS[path].body["warnings"]), path.name
