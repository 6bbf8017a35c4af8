"""Wire models of the iCalendar routes (teamcal's own: CCJ has no REST API for them).

Times are epoch milliseconds (UTC). Counts in an import job are of VEVENTs: ``processed`` of
``total``; each processed VEVENT is ``created``, ``updated`` (newer SEQUENCE / LAST-MODIFIED),
``skipped`` (unchanged, cancelled, or a duplicate) or ``failed`` (``errors`` says why).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from teamcal.models.common import SHOWN_ONCE


class ImportOutcome(StrEnum):
    """What became of one VEVENT of an import; each value is also the name of the job's counter
    (``created``, ``updated``, ``skipped``, ``failed``) it adds 1 to."""

    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"


JobStatus = Literal["PENDING_UPLOAD", "RUNNING", "INTERRUPTED", "SUCCEEDED", "COMPLETED_WITH_ERRORS", "FAILED"]


class ImportIssue(BaseModel):
    """One VEVENT that was not imported as it is: its UID, RECURRENCE-ID (as in the file, for an
    exception) and the reason."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    uid: str
    recurrence_id: str | None = Field(default=None, alias="recurrenceId")
    reason: str


class ImportJob(BaseModel):
    """An import (``GET /import/{jobId}``).

    ``status``: ``PENDING_UPLOAD`` (waiting for the PUT to the upload URL), ``RUNNING``,
    ``INTERRUPTED`` (stopped before the end; an upload resumes by itself, an inline import
    finishes when the same file is sent again), ``SUCCEEDED``, ``COMPLETED_WITH_ERRORS`` (some
    VEVENTs failed: ``errors``), ``FAILED`` (the file was refused or nothing could be imported:
    ``message``; events imported before the failure are kept and counted).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    calendar_id: int = Field(alias="calendarId")
    source_id: int | None = Field(default=None, alias="sourceId")
    origin: Literal["inline", "upload"]
    status: JobStatus
    user: str | None = None
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[ImportIssue] = Field(default_factory=list)
    errors_omitted: int = Field(default=0, alias="errorsOmitted")
    warnings: list[str] = Field(default_factory=list)
    message: str | None = None
    submitted: int
    started: int | None = None
    finished: int | None = None


class UploadTicket(BaseModel):
    """``POST /calendar/{calendarId}/import-url``: POST ``fields`` and then the .ics as ``file``
    (``multipart/form-data``, S3's POST Object) to ``url`` before ``expires``; S3 refuses a file
    over ``maxBytes`` or of another content type. The import starts when the object lands
    (follow ``GET /import/{jobId}``)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    job_id: int = Field(alias="jobId")
    url: str | None = Field(description=f"where to POST the form; {SHOWN_ONCE}")
    method: Literal["POST"] = "POST"
    fields: dict[str, str] | None = Field(
        description=f"form fields to send before the file, as they are (policy and signature); {SHOWN_ONCE}"
    )
    key: str
    expires: int
    max_bytes: int = Field(alias="maxBytes")
    job: ImportJob


class Snapshot(BaseModel):
    """``POST /calendar/{calendarId}/export``: the snapshot's id, its S3 key and a presigned GET
    ``url`` valid until ``expires``."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    snapshot_id: int = Field(alias="snapshotId")
    key: str
    url: str | None = Field(description=f"presigned GET; {SHOWN_ONCE}")
    expires: int
    events: int


class Feed(BaseModel):
    """A calendar's subscription feed. ``url`` / ``webcalUrl`` hold the secret and are returned
    only when the feed is created; afterwards only ``hint`` (the secret's last 4 characters)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    calendar_id: int = Field(alias="calendarId")
    hint: str
    created: int
    created_by: str | None = Field(default=None, alias="createdBy")
    url: str | None = None
    webcal_url: str | None = Field(default=None, alias="webcalUrl")
    window: str = "3 months back to 1 year ahead"
