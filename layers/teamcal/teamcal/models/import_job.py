"""A stored iCalendar import job: :class:`ImportJobRecord`, what the import-job repository
(:mod:`teamcal.storage.import_jobs`) returns and writes.

Item attributes (calendars table ``JOB#<id>`` / ``JOB``) are the wire names of
:class:`teamcal.models.ical.ImportJob` (``id``, ``calendarId``, ``sourceId``, ``user``,
``origin``, ``status``, ``total``, ``processed``, ``created`` / ``updated`` / ``skipped`` /
``failed`` counts of VEVENTs, ``errors``, ``errorsOmitted``, ``warnings``, ``message``,
``submitted`` / ``started`` / ``finished`` epoch ms UTC) plus what only the worker keeps:
``principal`` (the importing token's context), ``key`` (the upload's S3 object),
``warningsOmitted``, ``checkpoint`` and ``doneAfter`` (where a resumed run starts), ``runId`` and
``leaseUntil`` (epoch ms UTC) while a worker runs it. Attributes this record does not name are
kept, and attributes an item lacked stay absent (every optional attribute is ``None`` when
absent and ``None`` is never stored), so ``ImportJobRecord.from_item(item).item() == item`` for
a stored item (no migration).

Unlike the other records this one is mutable: one worker owns a job (its ``runId``) and the run
accumulates counters, errors, warnings and the checkpoint in place, saving after each chunk.
A plain dataclass, not a pydantic model (items are trusted: this service wrote them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from teamcal.models.stored import StoredRecord

#: Wire name → attribute name of every attribute the record names.
_FIELD_OF: dict[str, str] = {
    "id": "id",
    "calendarId": "calendar_id",
    "sourceId": "source_id",
    "user": "user",
    "principal": "principal",
    "origin": "origin",
    "key": "key",
    "status": "status",
    "total": "total",
    "processed": "processed",
    "created": "created",
    "updated": "updated",
    "skipped": "skipped",
    "failed": "failed",
    "errors": "errors",
    "errorsOmitted": "errors_omitted",
    "warnings": "warnings",
    "warningsOmitted": "warnings_omitted",
    "message": "message",
    "checkpoint": "checkpoint",
    "doneAfter": "done_after",
    "submitted": "submitted",
    "started": "started",
    "finished": "finished",
    "runId": "run_id",
    "leaseUntil": "lease_until",
}
#: The wire names read as ``int``.
_INT_ATTRIBUTES = frozenset(
    {
        "id",
        "calendarId",
        "submitted",
        "sourceId",
        "total",
        "processed",
        "created",
        "updated",
        "skipped",
        "failed",
        "errorsOmitted",
        "warningsOmitted",
        "checkpoint",
        "started",
        "finished",
        "leaseUntil",
    }
)
#: The per-VEVENT outcome counters (``ImportOutcome`` values), attribute = wire name.
OUTCOME_COUNTERS = ("created", "updated", "skipped", "failed")


@dataclass
class ImportJobRecord(StoredRecord):
    """A stored import job (see the module docstring). ``None``: the attribute is absent.

    Attributes:
        id / calendar_id / source_id: the job's id, the calendar and event source imported into.
        user: who started it; principal: that token's context
            (:meth:`teamcal.auth.principal.Principal.to_context`), for the worker's edit checks.
        origin: ``inline`` | ``upload``; key: the S3 object of the file (upload, or an inline
            import handed to the worker).
        status: ``PENDING_UPLOAD`` | ``RUNNING`` | ``INTERRUPTED`` | ``SUCCEEDED`` |
            ``COMPLETED_WITH_ERRORS`` | ``FAILED``; message: why it stopped or failed.
        total / processed: VEVENTs in the file / handled so far.
        created / updated / skipped / failed: VEVENTs per outcome.
        errors: ``[{"uid", "recurrenceId"?, "reason"}]`` (at most ``MAX_ERRORS``; the rest are
            counted in ``errors_omitted``).
        warnings: notes on what was forgiven (``warnings_omitted``: how many were folded into
            the last line).
        checkpoint: VEVENTs before this ordinal are done; done_after: ``[[first, last], ...]``
            inclusive ordinal ranges done after it.
        submitted / started / finished: epoch ms UTC.
        run_id / lease_until: the worker that owns the job and until when (epoch ms UTC).
        extra: attributes of the item this record does not name, kept as read.
    """

    _FIELDS = _FIELD_OF
    _INTS = _INT_ATTRIBUTES

    id: int
    calendar_id: int
    origin: str
    status: str
    submitted: int
    source_id: int | None = None
    user: str | None = None
    principal: dict[str, Any] | None = None
    key: str | None = None
    total: int | None = None
    processed: int | None = None
    created: int | None = None
    updated: int | None = None
    skipped: int | None = None
    failed: int | None = None
    errors: list[dict[str, Any]] | None = None
    errors_omitted: int | None = None
    warnings: list[str] | None = None
    warnings_omitted: int | None = None
    message: str | None = None
    checkpoint: int | None = None
    done_after: list[list[int]] | None = None
    started: int | None = None
    finished: int | None = None
    run_id: str | None = None
    lease_until: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, counter: str) -> int:
        """The value of an integer attribute named by its wire name (0 when absent)."""
        return int(getattr(self, _FIELD_OF[counter]) or 0)

    def add(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to an integer attribute named by its wire name (e.g. an outcome counter)."""
        setattr(self, _FIELD_OF[counter], self.count(counter) + n)

    def release(self) -> None:
        """No worker owns the job any more: ``run_id`` and ``lease_until`` removed."""
        self.run_id = None
        self.lease_until = None
