"""iCalendar use cases: export (snapshots and direct), subscription feeds, import jobs.

Reference: calendar-integrations.txt ("Export Calendar to iCal format", "Import from iCal file":
"Imported events are added as Non-JIRA Events with default color"); RFC 5545; issue 5.

Export reads every event of the calendar's event sources (vacation, sickness, trip, meeting,
custom; Jira-backed sources hold no stored events) — :meth:`EventRepository.by_source`, no window
— and writes them with :mod:`teamcal.ical.writer`. A feed writes the events that can reach
[now - 3 months, now + 1 year) (per-month index Queries and the masters index, as a search does).

Import (:class:`_Import`) reads the file with :mod:`teamcal.ical.reader` (file-level errors: a
400, or a FAILED job for an upload), converts one VEVENT at a time (:mod:`teamcal.ical.convert`;
no rule is ever expanded) and writes chunks of :data:`CHUNK` VEVENTs with BatchWriteItem
(:meth:`EventRepository.batch_put`), saving the job's progress after every chunk.

Decisions:

* **Identity.** The event mirroring a VEVENT has the id ``external_id(calendarId, "ics", UID)``;
  an exception (RECURRENCE-ID) ``external_id(calendarId, "ics", "UID#<RECURRENCE-ID>")`` (the
  RECURRENCE-ID as a UTC instant, a local wall time if floating, or a date). Importing the same
  file again finds the same events: nothing is duplicated. Imported events keep their UID
  (``external``) and export with it.
* **Updates.** A stored event is replaced when the VEVENT is newer: a higher SEQUENCE, or the
  same SEQUENCE and a later LAST-MODIFIED (RFC 5545 §3.8.7.4); otherwise the VEVENT is skipped
  (so edits made in teamcal survive a re-import of the same file). An updated event keeps its
  source, reporter, ``created`` and exceptions. Import never deletes events missing from a file.
* **Duplicates.** Several VEVENTs with the same UID and no RECURRENCE-ID: the newest (SEQUENCE,
  LAST-MODIFIED, then the last in the file) is imported, the others are skipped and reported in
  ``errors``. The same for two exceptions of one occurrence.
* **Exceptions** become CCJ children of their master (``parentId`` + ``recurrenceId``) and
  entries of the master's ``overrides``. An exception whose master is neither in the file nor
  stored is imported as a single event (as recurring-ical-events shows it). An exception with
  STATUS:CANCELLED (Google's deleted occurrence) becomes an EXDATE of its master; a cancelled
  event or series is skipped. An exception of an occurrence an EXDATE removed is skipped.
* **Default source.** Without ``sourceId``, events go to the calendar's "Imported events" source,
  created on first use with :data:`DEFAULT_COLOR`. Its id is derived from the calendar id, so
  concurrent first imports create it once. Its type is the predefined ``meeting`` type: custom
  types are managed by admins only (permission rule 9), and an import must not create one behind
  their back; ``meeting`` holds events like a custom type and is searchable. Whoever may add
  events to the calendar may import (permission rule 8) and so may cause this source to exist.
* **Writes** are batches, not transactions (a file can hold 50,000 events). Index items are
  written before main items and the job records a checkpoint after every chunk, so a run that
  stops (timeout, throttling) leaves a job saying so; running it again (an upload resumes by
  itself; an inline import by sending the file again) skips what is done.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.auth.principal import Principal
from teamcal.auth.tokens import hash_token
from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
    TeamcalError,
)
from teamcal.ical import reader
from teamcal.ical.convert import Context, Moment, VEventData, parse_vevent, recurrence_id_text, to_data
from teamcal.ical.errors import IcsFileError, VEventError
from teamcal.ical.reader import IcsDocument, VEventSpan
from teamcal.ical.writer import CalendarWriter
from teamcal.ical.zones import ZoneResolver, named_zone
from teamcal.ids import external_id, new_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.ical import Feed, ImportJob, Snapshot, UploadTicket
from teamcal.permissions import can_edit_events, can_view, is_owner, require_edit_calendar
from teamcal.recurrence import Series, parse_ref
from teamcal.recurrence.expand import is_excluded, locate
from teamcal.services.events import JIRA_BACKED, calendar_zone, normalize_record, series_of
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import MAX_INDEX_MONTHS, EventRepository, months_overlapping
from teamcal.storage.feeds import FeedRepository
from teamcal.storage.ics_files import IcsFiles, parse_upload_key, snapshot_key, upload_key
from teamcal.storage.import_jobs import MAX_ERRORS, ImportJobRepository

#: Color of the "Imported events" source (the CCJ reference samples' event source color).
DEFAULT_COLOR = "#7500ca"
IMPORT_SOURCE_NAME = "Imported events"
#: VEVENTs per write batch and progress update.
CHUNK = 250
#: The feed's window: 3 months back, 1 year ahead.
FEED_PAST_MS = 92 * 86_400_000
FEED_FUTURE_MS = 366 * 86_400_000
#: Seconds an inline import may run before it stops with an INTERRUPTED job (API Gateway gives up
#: after 29 s).
INLINE_BUDGET_MS = 22_000
#: What a worker keeps in hand for saving the job and handing over, in ms.
WORKER_MARGIN_MS = 20_000
FEED_PREFIX = "tcf_"


@dataclass(frozen=True)
class IcalStores:
    """The repositories and the bucket the iCalendar use cases need."""

    config: ConfigStores
    events: EventRepository
    jobs: ImportJobRepository
    feeds: FeedRepository
    files: IcsFiles


# ---------------------------------------------------------------------------- helpers
def _calendar(stores: IcalStores, principal: Principal | None, calendar_id: int) -> CalendarRecord:
    """The ACTIVE calendar, viewable by ``principal`` (any when ``None``); else NotFoundError."""
    raw = stores.config.calendars.get(calendar_id)
    calendar = CalendarRecord.model_validate(raw) if raw else None
    if calendar is None or calendar.status != "ACTIVE" or (principal is not None and not can_view(principal, calendar)):
        raise NotFoundError(f"calendar {calendar_id} not found")
    return calendar


def _value(raw: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(str(raw or "{}"))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def calendar_name(calendar: CalendarRecord) -> str:
    """The calendar's ``value.name`` (its id when unnamed)."""
    name = _value(calendar.value).get("name")
    return str(name) if name else f"Calendar {calendar.id}"


def _event_sources(stores: IcalStores, calendar: CalendarRecord) -> list[dict[str, Any]]:
    """The calendar's ACTIVE sources that hold stored events (not Jira-backed)."""
    sources = stores.config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
    return [
        s for s in sources if s.get("status", "ACTIVE") == "ACTIVE" and str(s.get("eventTypeKey")) not in JIRA_BACKED
    ]


def _colors(sources: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for source in sources:
        color = _value(source.get("value")).get("color")
        if isinstance(color, str) and color:
            out[int(source["id"])] = color
    return out


def _year(ms: int) -> int:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).year


# ---------------------------------------------------------------------------- export
def calendar_ics(stores: IcalStores, principal: Principal, calendar_id: int, now: int) -> tuple[str, int]:
    """The calendar's .ics text (every event of its event sources, with recurrence) and the
    number of stored events in it (masters, single events and exceptions).

    Raises:
        NotFoundError: the calendar is absent, being deleted, or not viewable by the token.
    """
    calendar = _calendar(stores, principal, calendar_id)
    sources = _event_sources(stores, calendar)
    records = [record for source in sources for record in stores.events.by_source(int(source["id"]))]
    text = CalendarWriter(calendar_name(calendar), _colors(sources)).write(records, horizon_year=_year(now) + 10)
    return text, len(records)


def create_snapshot(
    stores: IcalStores, principal: Principal, calendar_id: int, now: int, expires_seconds: int
) -> Snapshot:
    """``POST /calendar/{calendarId}/export``: write the calendar's .ics to the bucket and return
    ``{snapshotId, key, url, expires}`` (a presigned GET URL valid ``expires_seconds``).

    Raises:
        NotFoundError: as :func:`calendar_ics`.
    """
    text, count = calendar_ics(stores, principal, calendar_id, now)
    snapshot_id = new_id()
    key = snapshot_key(calendar_id, snapshot_id, now)
    stores.files.put(key, text)
    url = stores.files.download_url(key, f"calendar-{calendar_id}.ics", expires_seconds)
    return Snapshot(snapshot_id=snapshot_id, key=key, url=url, expires=now + expires_seconds * 1000, events=count)


def store_large_export(stores: IcalStores, calendar_id: int, text: str, now: int, expires_seconds: int) -> str:
    """Put an export too large for a Lambda response in the bucket; returns its download URL."""
    key = snapshot_key(calendar_id, new_id(), now)
    stores.files.put(key, text)
    return stores.files.download_url(key, f"calendar-{calendar_id}.ics", expires_seconds)


# ---------------------------------------------------------------------------- feeds
def _require_feed_admin(principal: Principal, calendar: CalendarRecord) -> None:
    """A feed publishes the calendar to whoever holds its URL: the owner or an admin decides,
    with a token that may edit calendars (permission rules 3 and 4)."""
    require_edit_calendar(principal, calendar)
    if not (is_owner(principal, calendar) or principal.admin):
        raise ForbiddenError("only the calendar's owner or an admin token may manage its subscription feed")


def _feed(record: Mapping[str, Any]) -> Feed:
    return Feed(
        calendar_id=int(record["calendarId"]),
        hint=str(record["hint"]),
        created=int(record["created"]),
        created_by=record.get("createdBy"),
    )


def create_feed(stores: IcalStores, principal: Principal, calendar_id: int, now: int) -> tuple[Feed, str]:
    """Create (or replace: the old URL stops working) the calendar's feed; returns it and its
    secret (shown once; only its SHA-256 is stored).

    Raises:
        NotFoundError: calendar absent or not viewable. ForbiddenError: not owner/admin, or the
        token may not edit calendars. ConflictError: a concurrent change of the feed.
    """
    calendar = _calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    record = {
        "calendarId": calendar.id,
        "tokenHash": hash_token(secret),
        "hint": secret[-4:],
        "created": now,
        "createdBy": principal.user,
    }
    stores.feeds.replace(record, stores.feeds.of_calendar(calendar.id))
    return _feed(record), secret


def get_feed(stores: IcalStores, principal: Principal, calendar_id: int) -> Feed:
    """The calendar's feed without its secret. Raises NotFoundError (no feed, or calendar
    absent / not viewable), ForbiddenError (see :func:`create_feed`)."""
    calendar = _calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    record = stores.feeds.of_calendar(calendar.id)
    if record is None:
        raise NotFoundError(f"calendar {calendar_id} has no subscription feed")
    return _feed(record)


def revoke_feed(stores: IcalStores, principal: Principal, calendar_id: int) -> Feed:
    """Revoke the calendar's feed (its URL answers 404 from now on); returns it.

    Raises:
        NotFoundError / ForbiddenError: as :func:`get_feed`. ConflictError: changed meanwhile.
    """
    calendar = _calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    record = stores.feeds.of_calendar(calendar.id)
    if record is None:
        raise NotFoundError(f"calendar {calendar_id} has no subscription feed")
    stores.feeds.delete(record)
    return _feed(record)


def feed_ics(stores: IcalStores, secret: str, now: int) -> str:
    """The .ics of the feed whose secret is ``secret``: every event that can reach
    [now - 3 months, now + 1 year), recurring ones as their rule with exceptions.

    Raises:
        NotFoundError: unknown or revoked secret, or the calendar is gone.
    """
    if not secret.startswith(FEED_PREFIX) or len(secret) > 100:
        raise NotFoundError("no such feed")
    record = stores.feeds.by_hash(hash_token(secret))
    if record is None:
        raise NotFoundError("no such feed")
    calendar = _calendar(stores, None, int(record["calendarId"]))
    sources = _event_sources(stores, calendar)
    wanted = {int(s["id"]) for s in sources}
    start, end = now - FEED_PAST_MS, now + FEED_FUTURE_MS
    found: dict[int, dict[str, Any]] = {}
    for event in stores.events.masters(calendar.id, start, end):
        if event["eventTypeConfigId"] in wanted:
            found[int(event["id"])] = event
    child_ids = [int(o["id"]) for m in found.values() for o in (m.get("overrides") or {}).values()]
    found.update(stores.events.get_many(child_ids) if child_ids else {})
    for event in stores.events.in_window(calendar.id, start, end):
        if event["eventTypeConfigId"] in wanted:
            found.setdefault(int(event["id"]), event)
    writer = CalendarWriter(calendar_name(calendar), _colors(sources))
    return writer.write(found.values(), horizon_year=_year(end) + 1)


# ---------------------------------------------------------------------------- import: entry points
def _require_import(principal: Principal, calendar: CalendarRecord) -> None:
    if not can_edit_events(principal, calendar, None):
        raise ForbiddenError("you may not add events to this calendar")


def _import_source(stores: IcalStores, calendar: CalendarRecord, source_id: int | None, now: int) -> dict[str, Any]:
    """The source imported events go to: ``source_id`` (an ACTIVE event source of this calendar)
    or the calendar's "Imported events" source, created on first use (module docstring)."""
    if source_id is not None:
        source = stores.config.sources.get(source_id)
        if source is None or source.get("status", "ACTIVE") != "ACTIVE" or int(source["calendarId"]) != calendar.id:
            raise NotFoundError(f"source {source_id} not found", {"sourceId": f"source {source_id} not found"})
        if str(source.get("eventTypeKey")) in JIRA_BACKED:
            raise InvalidInputError.for_field("sourceId", "events can only be imported into event sources")
        return source
    default_id = external_id(calendar.id, "ics-source", IMPORT_SOURCE_NAME)
    for _ in range(2):
        existing = stores.config.sources.get(default_id)
        if existing is not None:
            if existing.get("status", "ACTIVE") != "ACTIVE":
                raise ConflictError("the calendar's import source is being deleted; retry in a moment")
            return existing
        siblings = stores.config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
        record = {
            "id": default_id,
            "calendarId": calendar.id,
            "eventTypeKey": "meeting",
            "emailsEnabled": False,
            "order": max((int(s["order"]) for s in siblings), default=0) + 1,
            "value": json.dumps({"name": IMPORT_SOURCE_NAME, "color": DEFAULT_COLOR}),
            "version": 1,
            "created": now,
            "updated": now,
            "status": "ACTIVE",
        }
        try:
            stores.config.sources.create(record)
        except ConflictError:
            continue  # created concurrently: read it
        return record
    raise ConflictError("the calendar's import source could not be created; retry")


def _new_job(
    calendar: CalendarRecord, source: Mapping[str, Any], principal: Principal, origin: str, now: int
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "calendarId": calendar.id,
        "sourceId": int(source["id"]),
        "user": principal.user,
        "origin": origin,
        "status": "RUNNING" if origin == "inline" else "PENDING_UPLOAD",
        "total": 0,
        "processed": 0,
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "errors": [],
        "errorsOmitted": 0,
        "warnings": [],
        "message": None,
        "checkpoint": 0,
        "submitted": now,
        "started": now if origin == "inline" else None,
        "finished": None,
    }


def to_wire(job: Mapping[str, Any], now: int | None = None) -> ImportJob:
    """The API form of a stored job; a RUNNING job whose worker's lease expired shows as
    INTERRUPTED."""
    shown = dict(job)
    if shown.get("status") == "RUNNING" and now is not None and int(shown.get("leaseUntil") or now) < now:
        shown["status"] = "INTERRUPTED"
        shown["message"] = shown.get("message") or "the import stopped unexpectedly; import the file again to finish"
    return ImportJob.model_validate(shown)


def import_inline(
    stores: IcalStores,
    principal: Principal,
    calendar_id: int,
    source_id: int | None,
    body: bytes,
    *,
    clock: Callable[[], int] = now_ms,
    budget_ms: int = INLINE_BUDGET_MS,
) -> ImportJob:
    """``POST /calendar/{calendarId}/import``: import an .ics body now; returns the job.

    Raises:
        NotFoundError: calendar absent / not viewable, or ``source_id`` not an ACTIVE source of it.
        ForbiddenError: the user may not add events to the calendar.
        InvalidInputError: the file is not usable (:class:`IcsFileError`: empty, binary, HTML, not
            iCalendar, truncated, ...), or it holds VEVENTs and none could be imported (the
            message lists the reasons; the FAILED job is kept).
    """
    calendar = _calendar(stores, principal, calendar_id)
    _require_import(principal, calendar)
    doc = reader.read(body)
    now = clock()
    source = _import_source(stores, calendar, source_id, now)
    job = _new_job(calendar, source, principal, "inline", now)
    run_id = uuid.uuid4().hex
    job.update(runId=run_id, leaseUntil=now + budget_ms + 60_000)
    stores.jobs.create(job)
    deadline = now + budget_ms
    _Import(stores, job, run_id, calendar, source, doc, lambda: clock() >= deadline, clock).run()
    shown = to_wire(job)
    if shown.status == "FAILED":
        errors = {f"VEVENT {e.uid}"[:200]: e.reason for e in shown.errors[:20]}
        reasons = "; ".join(f"{uid}: {reason}" for uid, reason in list(errors.items())[:5])
        raise InvalidInputError(
            f"No event could be imported (import job {shown.id}): {shown.failed} VEVENT(s) failed: {reasons}",
            errors,
        )
    return shown


def request_upload(
    stores: IcalStores,
    principal: Principal,
    calendar_id: int,
    source_id: int | None,
    *,
    max_bytes: int,
    expires_seconds: int,
    clock: Callable[[], int] = now_ms,
) -> UploadTicket:
    """``POST /calendar/{calendarId}/import-url``: a job waiting for its file and a presigned PUT
    URL for it; the object landing in the bucket starts the import (:func:`run_upload`).

    Raises:
        NotFoundError / ForbiddenError: as :func:`import_inline`.
    """
    calendar = _calendar(stores, principal, calendar_id)
    _require_import(principal, calendar)
    now = clock()
    source = _import_source(stores, calendar, source_id, now)
    job = _new_job(calendar, source, principal, "upload", now)
    job["key"] = upload_key(calendar.id, int(job["id"]))
    stores.jobs.create(job)
    url = stores.files.upload_url(str(job["key"]), expires_seconds)
    return UploadTicket(
        job_id=int(job["id"]),
        url=url,
        key=str(job["key"]),
        expires=now + expires_seconds * 1000,
        max_bytes=max_bytes,
        job=to_wire(job),
    )


def get_job(stores: IcalStores, principal: Principal, job_id: int, now: int) -> ImportJob:
    """``GET /import/{jobId}``. Raises NotFoundError (no such job, or its calendar is not
    viewable by the token)."""
    job = stores.jobs.get(job_id)
    if job is None:
        raise NotFoundError(f"import job {job_id} not found")
    raw = stores.config.calendars.get(int(job["calendarId"]))
    calendar = CalendarRecord.model_validate(raw) if raw else None
    if calendar is None or not can_view(principal, calendar):
        raise NotFoundError(f"import job {job_id} not found")
    return to_wire(job, now)


def run_upload(
    stores: IcalStores,
    key: str,
    *,
    max_bytes: int,
    time_left_ms: Callable[[], int],
    clock: Callable[[], int] = now_ms,
) -> ImportJob | None:
    """The S3-triggered worker: import the uploaded object ``key`` into its job.

    Returns the job, or ``None`` when there is nothing to do: not an upload key, no such job,
    another worker runs it, or it is finished (S3 may deliver an event twice). File problems end
    the job FAILED with ``message``; running out of time ends it INTERRUPTED and copies the
    object onto itself, so a new invocation resumes from the checkpoint.
    """
    parsed = parse_upload_key(key)
    if parsed is None:
        return None
    job = stores.jobs.get(parsed[1])
    if job is None or job.get("key") != key or int(job["calendarId"]) != parsed[0]:
        return None
    run_id = uuid.uuid4().hex
    now = clock()
    claimed = stores.jobs.claim(int(job["id"]), run_id, now, now + time_left_ms() + 60_000)
    if claimed is None:
        return None
    job = claimed
    job["started"] = job.get("started") or now
    try:
        calendar = _calendar(stores, None, int(job["calendarId"]))
        source = stores.config.sources.get(int(job["sourceId"]))
        if source is None or source.get("status", "ACTIVE") != "ACTIVE":
            raise NotFoundError(f"source {job['sourceId']} no longer exists")
        size = stores.files.size(key)
        if size > max_bytes:
            raise IcsFileError(
                f"The file is {size} bytes; at most {max_bytes} bytes can be imported: split it into several files"
            )
        doc = reader.read(stores.files.read(key))
    except (IcsFileError, NotFoundError) as e:
        _finish_failed(stores, job, run_id, e.message, clock())
        return to_wire(job)
    except RetryableError:
        _release(stores, int(job["id"]), run_id, "the file store was busy; the import resumes when retried")
        raise
    deadline = lambda: time_left_ms() < WORKER_MARGIN_MS  # noqa: E731 - a one-line predicate
    run = _Import(stores, job, run_id, calendar, source, doc, deadline, clock)
    try:
        run.run()
    except RetryableError:
        _release(stores, int(job["id"]), run_id, "DynamoDB is throttling the import; it resumes when retried")
        raise
    if job["status"] == "INTERRUPTED":
        stores.files.touch(key)
    return to_wire(job)


def _release(stores: IcalStores, job_id: int, run_id: str, message: str) -> None:
    """Leave the job INTERRUPTED at its last saved checkpoint after a failure a retry of the
    invocation may overcome (throttling), so that the retry can claim it at once."""
    saved = stores.jobs.get(job_id)
    if saved is None or saved.get("runId") != run_id:
        return
    saved.update(status="INTERRUPTED", message=message)
    saved.pop("runId", None)
    saved.pop("leaseUntil", None)
    stores.jobs.save(saved, run_id)


def _finish_failed(stores: IcalStores, job: dict[str, Any], run_id: str, message: str, now: int) -> None:
    job.update(status="FAILED", message=message, finished=now)
    job.pop("runId", None)
    job.pop("leaseUntil", None)
    stores.jobs.save(job, run_id)


# ---------------------------------------------------------------------------- import: the run
def rid_key(moment: Moment) -> str:
    """A RECURRENCE-ID as a stable text for identity (independent of how the zone is named):
    ``YYYYMMDD``, ``YYYYMMDDTHHMMSS`` (floating) or the UTC instant ``YYYYMMDDTHHMMSSZ``."""
    if moment.kind == "date":
        return moment.value.strftime("%Y%m%d")
    if moment.kind == "floating":
        return moment.value.strftime("%Y%m%dT%H%M%S")
    return moment.aware("UTC").astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class _Group:
    """The VEVENTs of one UID: converted ones, and how many of the file's are still to come."""

    key: str
    first_index: int
    expected: int
    seen: int = 0
    items: list[VEventData] = field(default_factory=list)
    spans: dict[int, VEventSpan] = field(default_factory=dict)
    master_failed: str | None = None


def _ranges(indices: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _in_ranges(index: int, ranges: list[list[int]]) -> bool:
    return any(a <= index <= b for a, b in ranges)


class _Import:
    """One run of an import job over an indexed file (see the module docstring).

    ``job`` is the stored job (updated in place and saved after each chunk, conditioned on
    ``run_id``); ``deadline()`` says when to stop and leave the job INTERRUPTED.
    """

    def __init__(
        self,
        stores: IcalStores,
        job: dict[str, Any],
        run_id: str,
        calendar: CalendarRecord,
        source: Mapping[str, Any],
        doc: IcsDocument,
        deadline: Callable[[], bool],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.stores = stores
        self.job = job
        self.run_id = run_id
        self.calendar = calendar
        self.source = source
        self.doc = doc
        self.deadline = deadline
        self.clock = clock
        self.zone = calendar_zone(calendar)
        self.ctx = Context(self.zone, ZoneResolver(doc.timezones), self._x_wr_timezone())
        self.groups: dict[str, _Group] = {}
        self.ready: list[_Group] = []
        self.ready_count = 0
        self.flushes = 0
        self.done_after: list[int] = []

    def _x_wr_timezone(self) -> str | None:
        raw = self.doc.properties.get("X-WR-TIMEZONE")
        if not raw:
            return None
        zone = named_zone(raw)
        if zone is None:
            self.job.setdefault("warnings", []).append(f"X-WR-TIMEZONE {raw[:64]!r} is not a known time zone: ignored")
        return zone

    # ------------------------------------------------------------------ driver
    def run(self) -> None:
        job, doc = self.job, self.doc
        job["total"] = len(doc.events)
        checkpoint = int(job.get("checkpoint") or 0)
        done_ranges = list(job.get("doneAfter") or [])
        done_keys = {self._key(span) for span in doc.events[:checkpoint]}
        if checkpoint == 0:
            self._warn_document()
        counts: Counter[str] = Counter(self._key(span) for span in doc.events)
        next_index = checkpoint
        for span in doc.events[checkpoint:]:
            next_index = span.index + 1
            key = self._key(span)
            if key in done_keys or _in_ranges(span.index, done_ranges):
                self.done_after.append(span.index)
                continue
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(key, span.index, counts[key])
            self._add(group, span)
            if group.seen == group.expected:
                del self.groups[key]
                self.ready.append(group)
                self.ready_count += group.expected
            if self.ready_count >= CHUNK and not self._flush(next_index):
                return
        for group in list(self.groups.values()):  # cannot happen: every group completes
            self.ready.append(group)
        self.groups.clear()
        if self._flush(len(doc.events), last=True):
            self._finish()

    def _key(self, span: VEventSpan) -> str:
        return span.uid if span.uid is not None else f"\x00{span.index}"

    def _warn_document(self) -> None:
        warnings = self.job.setdefault("warnings", [])
        warnings.extend(self.doc.warnings)
        for name, count in sorted(self.doc.ignored.items()):
            warnings.append(f"{count} {name} component(s) ignored: only VEVENTs are imported")
        if not self.doc.events:
            warnings.append("the file holds no VEVENT")

    def _add(self, group: _Group, span: VEventSpan) -> None:
        group.seen += 1
        group.spans[span.index] = span
        text = self.doc.vevent_text(span)
        try:
            data = to_data(parse_vevent(text), span.index, text, self.ctx)
        except VEventError as e:
            self._outcome(span, "failed", e.reason)
            if span.recurrence_id is None:
                group.master_failed = e.reason
            return
        except TeamcalError as e:
            self._outcome(span, "failed", e.message)
            if span.recurrence_id is None:
                group.master_failed = e.message
            return
        warnings = self.job.setdefault("warnings", [])
        for note in data.warnings:
            if note not in warnings and len(warnings) < 20:
                warnings.append(note)
        group.items.append(data)

    def _outcome(
        self, span: VEventSpan | None, outcome: str, reason: str | None = None, uid: str | None = None
    ) -> None:
        job = self.job
        job[outcome] = int(job.get(outcome) or 0) + 1
        job["processed"] = int(job.get("processed") or 0) + 1
        if reason is None:
            return
        errors = job.setdefault("errors", [])
        if len(errors) >= MAX_ERRORS:
            job["errorsOmitted"] = int(job.get("errorsOmitted") or 0) + 1
            return
        shown_uid = uid or (span.uid if span is not None and span.uid else None)
        if shown_uid is None and span is not None:
            shown_uid = f"(no UID: VEVENT #{span.index + 1}, line {span.first + 1})"
        entry: dict[str, Any] = {"uid": shown_uid or "?", "reason": reason}
        if span is not None and span.recurrence_id:
            entry["recurrenceId"] = span.recurrence_id.rsplit(":", 1)[-1]
        errors.append(entry)

    def _flush(self, next_index: int, *, last: bool = False) -> bool:
        """Write the ready groups and save progress (the last flush leaves saving to
        :meth:`_finish`); False (job INTERRUPTED) when out of time."""
        if self.ready and self.deadline():
            self._interrupt(next_index)
            return False
        groups, self.ready, self.ready_count = self.ready, [], 0
        if groups:
            if self.flushes:
                self._require_source()  # the first chunk follows the caller's own check
            self.flushes += 1
            writes = _Writes()
            ids = self._ids(groups)
            existing = self.stores.events.get_many(ids) if ids else {}
            for group in groups:
                self._resolve(group, existing, writes)
            self.stores.events.batch_put(writes.records.values(), previous=writes.previous, delete=writes.deletes)
            for span, outcome, reason, uid in writes.outcomes:
                self._outcome(span, outcome, reason, uid)
            for group in groups:
                self.done_after.extend(group.spans)
        checkpoint = min([g.first_index for g in self.groups.values()] + [next_index])
        self.job["checkpoint"] = checkpoint
        self.job["doneAfter"] = _ranges(i for i in self.done_after if i >= checkpoint)
        if not last:
            self.stores.jobs.save(self.job, self.run_id)
        return True

    def _require_source(self) -> None:
        source = self.stores.config.sources.get(int(self.source["id"]))
        if source is None or source.get("status", "ACTIVE") != "ACTIVE":
            raise NotFoundError(f"source {self.source['id']} was deleted during the import")

    def _interrupt(self, next_index: int) -> None:
        pending = [g.first_index for g in self.groups.values()] + [g.first_index for g in self.ready]
        checkpoint = min([*pending, next_index])
        job = self.job
        job["checkpoint"] = checkpoint
        job["doneAfter"] = _ranges(i for i in self.done_after if i >= checkpoint)
        job["status"] = "INTERRUPTED"
        job["message"] = f"stopped after {job.get('processed', 0)} of {job.get('total', 0)} VEVENTs (time limit); " + (
            "it resumes by itself" if job.get("origin") == "upload" else "send the same file again to finish"
        )
        job.pop("runId", None)
        job.pop("leaseUntil", None)
        self.stores.jobs.save(job, self.run_id)

    def _finish(self) -> None:
        job = self.job
        failed = int(job.get("failed") or 0)
        done = sum(int(job.get(k) or 0) for k in ("created", "updated", "skipped"))
        if failed == 0:
            job["status"] = "SUCCEEDED"
        elif done > 0:
            job["status"] = "COMPLETED_WITH_ERRORS"
        else:
            job["status"] = "FAILED"
            job["message"] = f"no VEVENT could be imported ({failed} failed: see errors)"
        job["finished"] = self.clock()
        job["checkpoint"] = len(self.doc.events)
        job.pop("doneAfter", None)
        job.pop("runId", None)
        job.pop("leaseUntil", None)
        self.stores.jobs.save(job, self.run_id)

    # ------------------------------------------------------------------ resolution
    def _master_id(self, uid: str) -> int:
        return external_id(self.calendar.id, "ics", uid)

    def _child_id(self, uid: str, moment: Moment) -> int:
        return external_id(self.calendar.id, "ics", f"{uid}#{rid_key(moment)}")

    def _ids(self, groups: list[_Group]) -> list[int]:
        ids: list[int] = []
        for group in groups:
            for item in group.items:
                ids.append(self._master_id(item.uid))
                if item.recurrence_id is not None:
                    ids.append(self._child_id(item.uid, item.recurrence_id))
        return list(dict.fromkeys(ids))

    def _newest(self, items: list[VEventData], group: _Group, writes: _Writes, what: str) -> VEventData:
        keep = max(items, key=lambda d: (d.sequence, d.last_modified or 0, d.index))
        for item in items:
            if item is not keep:
                writes.outcome(
                    group.spans[item.index],
                    "skipped",
                    f"duplicate {what}: VEVENT #{keep.index + 1} (newer or later in the file) was imported instead",
                )
        return keep

    def _pick(self, group: _Group, writes: _Writes) -> tuple[VEventData | None, list[VEventData]]:
        """The group's master and exceptions, one VEVENT per UID / RECURRENCE-ID (duplicates
        reported)."""
        masters = [d for d in group.items if d.recurrence_id is None]
        by_rid: dict[str, list[VEventData]] = {}
        for item in group.items:
            if item.recurrence_id is not None:
                by_rid.setdefault(rid_key(item.recurrence_id), []).append(item)
        master = self._newest(masters, group, writes, "UID") if masters else None
        return master, [self._newest(v, group, writes, "RECURRENCE-ID") for v in by_rid.values()]

    def _resolve(self, group: _Group, existing: dict[int, dict[str, Any]], writes: _Writes) -> None:
        master, children = self._pick(group, writes)
        if master is None and group.master_failed is not None:
            for child in children:
                writes.outcome(group.spans[child.index], "failed", f"its series failed: {group.master_failed}")
            return
        uid = (master or children[0]).uid if (master or children) else ""
        if not uid:
            return
        children = self._split_series(master, children, existing, group, writes)
        stored = existing.get(self._master_id(uid))
        base = self._master(master, stored, group, writes)
        if base is _CANCELLED:
            for child in children:
                writes.outcome(group.spans[child.index], "skipped")
            return
        series = series_of(base) if isinstance(base, dict) and base.get("kind") == "master" else None
        if series is None or not isinstance(base, dict):
            for child in children:
                self._orphan(child, existing, group, writes)
            return
        final = _MasterChanges(base)
        for child in children:
            self._child(child, series, final, existing, group, writes)
        if final.changed:
            record = final.record()
            if stored is not None and record is not stored and record.get("version") == stored.get("version"):
                record["version"] = int(stored["version"]) + 1
                record["updated"] = self.clock()
            writes.put(record, stored)

    def _split_series(
        self,
        master: VEventData | None,
        children: list[VEventData],
        existing: dict[int, dict[str, Any]],
        group: _Group,
        writes: _Writes,
    ) -> list[VEventData]:
        """Handle exceptions that carry their own RRULE (how some clients write "this and
        following" edits); returns the plain exceptions. An older SEQUENCE than its series' is
        superseded and skipped (recurring-ical-events' reading); otherwise it is a series of its
        own."""
        plain = []
        for child in children:
            if not child.fields.get("recurrence"):
                plain.append(child)
            elif master is not None and master.sequence > child.sequence:
                writes.outcome(
                    group.spans[child.index], "skipped", "an older version of part of its series (lower SEQUENCE)"
                )
            else:
                self._orphan(child, existing, group, writes)
        return plain

    def _master(
        self, master: VEventData | None, stored: dict[str, Any] | None, group: _Group, writes: _Writes
    ) -> dict[str, Any] | object | None:
        """The master record children attach to (written when new or newer), ``_CANCELLED``, or
        ``None`` (no master: the children are orphans unless one is stored)."""
        if master is None:
            return stored if stored is not None and stored.get("kind") == "master" else None
        span = group.spans[master.index]
        if master.cancelled:
            writes.outcome(span, "skipped")
            return _CANCELLED
        if stored is not None and not master.is_newer_than(
            int(stored.get("sequence") or 0), stored.get("lastModified")
        ):
            writes.outcome(span, "skipped")
            return stored
        try:
            record = self._record(master, stored, self._master_id(master.uid))
        except VEventError as e:
            writes.outcome(span, "failed", e.reason)
            group.master_failed = e.reason
            return _FAILED
        writes.put(record, stored)
        writes.outcome(span, "updated" if stored is not None else "created")
        return record

    def _orphan(self, child: VEventData, existing: dict[int, dict[str, Any]], group: _Group, writes: _Writes) -> None:
        """An exception without a series: an event of its own (a series if it has an RRULE)."""
        span = group.spans[child.index]
        if group.master_failed is not None:
            writes.outcome(span, "failed", f"its series failed: {group.master_failed}")
            return
        assert child.recurrence_id is not None
        event_id = self._child_id(child.uid, child.recurrence_id)
        stored = existing.get(event_id)
        if child.cancelled:
            writes.outcome(span, "skipped")
            return
        if stored is not None and not child.is_newer_than(int(stored.get("sequence") or 0), stored.get("lastModified")):
            writes.outcome(span, "skipped")
            return
        try:
            keep_rule = bool(child.fields.get("recurrence"))
            extra: dict[str, Any] = {} if keep_rule else {"recurrence": None, "rdate": [], "exdate": []}
            record = self._record(child, stored, event_id, extra=extra)
        except VEventError as e:
            writes.outcome(span, "failed", e.reason)
            return
        record["external"]["recurrenceId"] = rid_key(child.recurrence_id)
        writes.put(record, stored)
        writes.outcome(span, "updated" if stored is not None else "created")

    def _child(
        self,
        child: VEventData,
        series: Series,
        final: _MasterChanges,
        existing: dict[int, dict[str, Any]],
        group: _Group,
        writes: _Writes,
    ) -> None:
        span = group.spans[child.index]
        assert child.recurrence_id is not None
        try:
            ref = parse_ref(recurrence_id_text(child.recurrence_id, series.all_day, series.time_zone), "recurrenceId")
        except InvalidInputError as e:
            writes.outcome(span, "failed", f"invalid RECURRENCE-ID: {e.message}")
            return
        original = locate(series, ref)
        excluded = original is not None and is_excluded(series, original)
        if excluded and not child.cancelled:
            writes.outcome(span, "skipped", "RECURRENCE-ID names an occurrence an EXDATE removes")
            return
        rid = ref.text
        if original is not None:
            rid = _canonical(series, original)
        event_id = self._child_id(child.uid, child.recurrence_id)
        stored = existing.get(event_id)
        if child.cancelled:
            changed = final.cancel(rid)
            if stored is not None:
                writes.delete(stored)
            writes.outcome(span, "updated" if changed or stored is not None else "skipped")
            return
        if stored is not None and not child.is_newer_than(int(stored.get("sequence") or 0), stored.get("lastModified")):
            final.keep(rid, stored)
            writes.outcome(span, "skipped")
            return
        try:
            record = self._record(
                child,
                stored,
                event_id,
                extra={"kind": "child", "parentId": int(final.base["id"]), "recurrenceId": rid},
            )
        except VEventError as e:
            writes.outcome(span, "failed", e.reason)
            return
        final.attach(rid, record)
        writes.put(record, stored)
        writes.outcome(span, "updated" if stored is not None else "created")

    def _record(
        self, data: VEventData, stored: Mapping[str, Any] | None, event_id: int, extra: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The event record for ``data`` (replacing ``stored``), validated and normalised.

        Raises:
            VEventError: the recurrence engine refuses its times or rule, or it is too long.
        """
        now = self.clock()
        external: dict[str, Any] = {"ns": "ics", "key": data.uid}
        record: dict[str, Any] = {
            **data.fields,
            "id": event_id,
            "calendarId": self.calendar.id,
            "eventTypeConfigId": int(stored["eventTypeConfigId"]) if stored else int(self.source["id"]),
            "reporter": stored.get("reporter") if stored else self.job.get("user"),
            "parentId": None,
            "recurrenceId": None,
            "version": int(stored["version"]) + 1 if stored else 1,
            "created": int(stored["created"]) if stored else now,
            "updated": now,
            "external": external,
            "sequence": data.sequence,
            "lastModified": data.last_modified,
        }
        if extra:
            record.update(extra)
        if record.get("kind") == "child":
            record.update(recurrence=None, rdate=[], exdate=[])
        elif stored is not None and stored.get("overrides"):
            record["overrides"] = dict(stored["overrides"])
        try:
            normalize_record(record, self.zone)
        except InvalidInputError as e:
            raise VEventError(e.message) from e
        if record["kind"] != "master":
            months = months_overlapping(int(record["startDate"]), int(record["endDate"]))
            if len(months) > MAX_INDEX_MONTHS:
                raise VEventError(f"the event lasts more than {MAX_INDEX_MONTHS} months")
        return record


_CANCELLED = object()
_FAILED = object()


def _canonical(series: Series, original: dt.datetime) -> str:
    """teamcal's recurrenceId of the occurrence starting at wall time ``original`` (the date,
    or the wall time for series with several occurrences a day)."""
    if series.all_day or not series.multi_per_day:
        return original.strftime("%Y%m%d")
    return original.strftime("%Y%m%dT%H%M%S")


class _MasterChanges:
    """A master's overrides and EXDATEs as its exceptions are applied."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self.overrides: dict[str, Any] = dict(base.get("overrides") or {})
        self.exdate: list[str] = list(base.get("exdate") or [])
        self.changed = False

    def attach(self, rid: str, child: Mapping[str, Any]) -> None:
        entry = {
            "id": int(child["id"]),
            "startDate": int(child["startDate"]),
            "endDate": int(child["endDate"]),
            "allDay": bool(child["allDay"]),
        }
        if self.overrides.get(rid) != entry:
            self.overrides[rid] = entry
            self.changed = True

    def keep(self, rid: str, child: Mapping[str, Any]) -> None:
        if rid not in self.overrides:
            self.attach(rid, child)

    def cancel(self, rid: str) -> bool:
        """Turn occurrence ``rid`` into an EXDATE; whether that changed anything."""
        changed = False
        if rid not in self.exdate:
            self.exdate.append(rid)
            changed = True
        if self.overrides.pop(rid, None) is not None:
            changed = True
        self.changed = self.changed or changed
        return changed

    def record(self) -> dict[str, Any]:
        """The master with its new overrides (and EXDATEs: then re-normalised, as they change
        its series)."""
        exdate = sorted(self.exdate)
        record = {**self.base, "overrides": self.overrides}
        if exdate != sorted(self.base.get("exdate") or []):
            record["exdate"] = exdate
            normalize_record(record, str(record.get("timeZone") or "UTC"))
        return record


class _Writes:
    """What one chunk writes, and the outcome of each VEVENT once it is written."""

    def __init__(self) -> None:
        self.records: dict[int, dict[str, Any]] = {}
        self.previous: dict[int, dict[str, Any]] = {}
        self.deletes: list[dict[str, Any]] = []
        self.outcomes: list[tuple[VEventSpan, str, str | None, str | None]] = []

    def put(self, record: dict[str, Any], stored: dict[str, Any] | None) -> None:
        self.records[int(record["id"])] = record
        if stored is not None:
            self.previous[int(record["id"])] = stored

    def delete(self, record: dict[str, Any]) -> None:
        self.deletes.append(record)

    def outcome(self, span: VEventSpan, outcome: str, reason: str | None = None, uid: str | None = None) -> None:
        self.outcomes.append((span, outcome, reason, uid))
