"""iCalendar import entry points and jobs: inline import, upload tickets, the S3-triggered worker.

Decisions:

* **Default source.** Without ``sourceId``, events go to the calendar's "Imported events" source,
  created on first use with :data:`DEFAULT_COLOR`. Its id is derived from the calendar id, so
  concurrent first imports create it once. Its type is the predefined ``meeting`` type: custom
  types are managed by admins only (permission rule 9), and an import must not create one behind
  their back; ``meeting`` holds events like a custom type and is searchable. Whoever may add
  events to the calendar may import (permission rule 8) and so may cause this source to exist.
* A run that stops (timeout, throttling) leaves a job saying so; running it again skips what is
  done. An upload resumes by itself; an inline import that runs out of its budget hands the file
  to the upload worker, which resumes it by itself too
  (:mod:`teamcal.services.ical.importer`).

Reference: calendar-integrations.txt ("Import from iCal file": "Imported events are added as
Non-JIRA Events with default color"); issue 5.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from teamcal.access import Action, require
from teamcal.auth.principal import Principal
from teamcal.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
)
from teamcal.ical import reader
from teamcal.ical.errors import IcsFileError
from teamcal.ids import external_id, new_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.ical import ImportJob, UploadTicket
from teamcal.models.import_job import ImportJobRecord
from teamcal.models.sources import SourceRecord
from teamcal.services.events import JIRA_BACKED
from teamcal.services.ical.importer import ImportRun
from teamcal.services.ical.stores import IcalStores, active_calendar
from teamcal.storage.ics_files import TooLargeError, parse_upload_key, upload_key

#: Color of the "Imported events" source (the CCJ reference samples' event source color).
DEFAULT_COLOR = "#7500ca"
IMPORT_SOURCE_NAME = "Imported events"
#: Seconds an inline import may run before it stops with an INTERRUPTED job (API Gateway gives up
#: after 29 s).
INLINE_BUDGET_MS = 22_000
#: What a worker keeps in hand for saving the job and handing over, in ms.
WORKER_MARGIN_MS = 20_000


# ---------------------------------------------------------------------------- import: entry points
def _require_import(principal: Principal, calendar: CalendarRecord) -> None:
    """Importing adds events: the events-edit right (:mod:`teamcal.access`, rule 8)."""
    require(principal, Action.CREATE_EVENT, calendar)


def _import_source(
    stores: IcalStores, principal: Principal, calendar: CalendarRecord, source_id: int | None, now: int
) -> SourceRecord:
    """The source imported events go to: ``source_id`` (an ACTIVE event source of this calendar
    the principal may add events to) or the calendar's "Imported events" source, created on
    first use (module docstring)."""
    if source_id is not None:
        source = stores.config.sources.get(source_id)
        missing = NotFoundError(f"source {source_id} not found", {"sourceId": f"source {source_id} not found"})
        if source is None or not source.active or source.calendar_id != calendar.id:
            raise missing
        require(principal, Action.CREATE_EVENT, calendar, source, missing=missing)
        if source.event_type_key in JIRA_BACKED:
            raise InvalidInputError.for_field("sourceId", "events can only be imported into event sources")
        return source
    default_id = external_id(calendar.id, "ics-source", IMPORT_SOURCE_NAME)
    for _ in range(2):
        existing = stores.config.sources.get(default_id)
        if existing is not None:
            if not existing.active:
                raise ConflictError("the calendar's import source is being deleted; retry in a moment")
            return existing
        siblings = stores.config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
        record = SourceRecord(
            id=default_id,
            calendar_id=calendar.id,
            event_type_key="meeting",
            emails_enabled=False,
            order=max((s.order for s in siblings), default=0) + 1,
            value=json.dumps({"name": IMPORT_SOURCE_NAME, "color": DEFAULT_COLOR}),
            version=1,
            created=now,
            updated=now,
            status="ACTIVE",
        )
        try:
            stores.config.sources.create(record)
        except ConflictError:
            continue  # created concurrently: read it
        return record
    raise ConflictError("the calendar's import source could not be created; retry")


def _new_job(
    calendar: CalendarRecord, source: SourceRecord, principal: Principal, origin: str, now: int
) -> ImportJobRecord:
    """A new job (not stored yet) of ``principal`` importing into ``source`` at ``now`` (epoch
    ms UTC): RUNNING for an ``inline`` import, PENDING_UPLOAD for an ``upload``."""
    return ImportJobRecord(
        id=new_id(),
        calendar_id=calendar.id,
        source_id=source.id,
        user=principal.user,
        principal=principal.to_context(),
        origin=origin,
        status="RUNNING" if origin == "inline" else "PENDING_UPLOAD",
        total=0,
        processed=0,
        created=0,
        updated=0,
        skipped=0,
        failed=0,
        errors=[],
        errors_omitted=0,
        warnings=[],
        checkpoint=0,
        submitted=now,
        started=now if origin == "inline" else None,
    )


def to_wire(job: ImportJobRecord, now: int | None = None) -> ImportJob:
    """The API form of a stored job; a RUNNING job whose worker's lease expired (``now``: epoch
    ms UTC) shows as INTERRUPTED."""
    shown = job.item()
    if job.status == "RUNNING" and now is not None and (job.lease_until or now) < now:
        shown["status"] = "INTERRUPTED"
        shown["message"] = job.message or "the import stopped unexpectedly; import the file again to finish"
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

    When ``budget_ms`` runs out first, the job is INTERRUPTED at a checkpoint and the file is
    handed to the S3-triggered worker (:func:`run_upload`: the body is stored under the job's
    upload key), which finishes the import by itself; ``GET /import/{jobId}`` shows the progress.

    Raises:
        NotFoundError: calendar absent / not viewable, or ``source_id`` not an ACTIVE source of it.
        ForbiddenError: the user may not add events to the calendar.
        InvalidInputError: the file is not usable (:class:`IcsFileError`: empty, binary, HTML, not
            iCalendar, truncated, ...), or it holds VEVENTs and none could be imported (the
            message lists the reasons; the FAILED job is kept).
    """
    calendar = active_calendar(stores, principal, calendar_id)
    _require_import(principal, calendar)
    doc = reader.read(body)
    now = clock()
    source = _import_source(stores, principal, calendar, source_id, now)
    job = _new_job(calendar, source, principal, "inline", now)
    run_id = uuid.uuid4().hex
    # the key the rest of the file goes to if the budget runs out (the upload worker's S3 trigger)
    key = job.key = upload_key(calendar.id, job.id)
    job.run_id, job.lease_until = run_id, now + budget_ms + 60_000
    stores.jobs.create(job)
    deadline = now + budget_ms
    ImportRun(stores, job, run_id, calendar, source, doc, lambda: clock() >= deadline, clock).run()
    if job.status == "INTERRUPTED":
        # hand over: the file lands in the bucket, its S3 event runs the worker, which resumes
        # from the checkpoint just saved (as an interrupted upload does); the job says so
        stores.files.put_bytes(key, body)
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
    """``POST /calendar/{calendarId}/import-url``: a job waiting for its file and a presigned POST
    form for it (S3 enforces ``max_bytes`` and the content type; valid ``expires_seconds``); the
    object landing in the bucket starts the import (:func:`run_upload`).

    Raises:
        NotFoundError / ForbiddenError: as :func:`import_inline`.
    """
    calendar = active_calendar(stores, principal, calendar_id)
    _require_import(principal, calendar)
    now = clock()
    source = _import_source(stores, principal, calendar, source_id, now)
    job = _new_job(calendar, source, principal, "upload", now)
    key = job.key = upload_key(calendar.id, job.id)
    stores.jobs.create(job)
    url, fields = stores.files.upload_form(key, max_bytes, expires_seconds)
    return UploadTicket(
        job_id=job.id,
        url=url,
        fields=fields,
        key=key,
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
    calendar = stores.config.calendars.get(job.calendar_id)
    require(principal, Action.VIEW, calendar, missing=NotFoundError(f"import job {job_id} not found"))
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
    if job is None or job.key != key or job.calendar_id != parsed[0]:
        return None
    run_id = uuid.uuid4().hex
    now = clock()
    claimed = stores.jobs.claim(job.id, run_id, now, now + time_left_ms() + 60_000)
    if claimed is None:
        return None
    job = claimed
    job.started = job.started or now
    try:
        calendar = active_calendar(stores, None, job.calendar_id)
        source = stores.config.sources.get(job.source_id) if job.source_id is not None else None
        if source is None or not source.active:
            raise NotFoundError(f"source {job.source_id} no longer exists")
        try:
            data = stores.files.read(key, max_bytes)
        except TooLargeError as e:
            raise IcsFileError(
                f"The file holds more than {max_bytes} bytes; at most {max_bytes} bytes can be imported:"
                " split it into several files"
            ) from e
        doc = reader.read(data)
    except (IcsFileError, NotFoundError) as e:
        _finish_failed(stores, job, run_id, e.message, clock())
        if isinstance(e, IcsFileError):
            stores.files.delete(key)  # a rejected upload is not kept
        return to_wire(job)
    except RetryableError:
        _release(stores, job.id, run_id, "the file store was busy; the import resumes when retried")
        raise
    deadline = lambda: time_left_ms() < WORKER_MARGIN_MS  # noqa: E731 - a one-line predicate
    run = ImportRun(stores, job, run_id, calendar, source, doc, deadline, clock)
    try:
        run.run()
    except RetryableError:
        _release(stores, job.id, run_id, "DynamoDB is throttling the import; it resumes when retried")
        raise
    if job.status == "INTERRUPTED":
        stores.files.touch(key)
    return to_wire(job)


def _release(stores: IcalStores, job_id: int, run_id: str, message: str) -> None:
    """Leave the job INTERRUPTED at its last saved checkpoint after a failure a retry of the
    invocation may overcome (throttling), so that the retry can claim it at once."""
    saved = stores.jobs.get(job_id)
    if saved is None or saved.run_id != run_id:
        return
    saved.status, saved.message = "INTERRUPTED", message
    saved.release()
    stores.jobs.save(saved, run_id)


def _finish_failed(stores: IcalStores, job: ImportJobRecord, run_id: str, message: str, now: int) -> None:
    """End ``job`` FAILED with ``message`` at ``now`` (epoch ms UTC) and save it."""
    job.status, job.message, job.finished = "FAILED", message, now
    job.release()
    stores.jobs.save(job, run_id)
