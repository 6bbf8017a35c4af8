"""Wire models of events and event search (CCJ reference: POST/PUT /event, DELETE /event/{id}/recur,
POST /event/search; DESIGN.md "Wire details").

These check shapes and types only; the calendar rules (RRULE, time zone, end after start,
recurrenceId matching an occurrence) are checked by :mod:`teamcal.recurrence` and the services,
which raise field-specific InvalidInputError.

Conventions: ``startDate``/``endDate`` are epoch milliseconds (UTC), the end EXCLUSIVE;
``allDayStart``/``allDayEnd`` are ``YYYY-MM-DD`` dates, the end INCLUSIVE (a one-day event has
start == end). ``recurrenceId`` is the original date of an occurrence, ``YYYYMMDD`` (CCJ), or
``YYYYMMDDTHHMMSS`` local / ``…Z`` UTC for sub-daily rules.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from teamcal.ids import MAX_ID
from teamcal.models.text import (
    MAX_DESCRIPTION,
    MAX_EXDATES,
    MAX_RDATES,
    MAX_SUMMARY,
    MAX_USER_KEYS,
    MultiLineText,
    UserKey,
)

_EPOCH_MS_MIN = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_EPOCH_MS_MAX = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def _split_dates(value: Any) -> Any:
    """``"20240105,20240112"`` or ``["2024-01-05"]`` → a list of strings (format checked later)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class EventFields(BaseModel):
    """The ``event`` object of POST / PUT /event (CCJ field names; unknown fields are ignored).

    Text fields refuse control characters and have the limits of :mod:`teamcal.models.text`."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    id: int | None = Field(default=None, gt=0, le=MAX_ID)
    summary: MultiLineText | None = Field(default=None, max_length=MAX_SUMMARY)
    description: MultiLineText | None = Field(default=None, max_length=MAX_DESCRIPTION)
    event_type_config_id: int | None = Field(
        default=None, alias="eventTypeConfigId", gt=0, le=MAX_ID, description="the source id"
    )
    user_keys: list[UserKey] | None = Field(default=None, alias="userKeys", max_length=MAX_USER_KEYS)
    all_day_start: str | None = Field(default=None, alias="allDayStart", description="YYYY-MM-DD")
    all_day_end: str | None = Field(default=None, alias="allDayEnd", description="YYYY-MM-DD, inclusive")
    start_date: int | None = Field(default=None, alias="startDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    end_date: int | None = Field(default=None, alias="endDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    recurrence: str | None = Field(default=None, max_length=2000, description="an RFC 5545 RRULE")
    rdate: list[str] | None = Field(default=None, max_length=MAX_RDATES)
    exdate: list[str] | None = Field(default=None, max_length=MAX_EXDATES)
    time_zone: str | None = Field(default=None, alias="timeZone", max_length=64, description="an IANA zone")
    parent_id: int | None = Field(default=None, alias="parentId", gt=0, le=MAX_ID)
    recurrence_id: str | None = Field(default=None, alias="recurrenceId", max_length=32)
    version: int | None = Field(default=None, ge=1)

    @field_validator("exdate", "rdate", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _split_dates(value)

    @field_validator("recurrence_id", mode="before")
    @classmethod
    def _recurrence_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class EventRequest(BaseModel):
    """Body of POST /event, PUT /event and DELETE /event/{id}/recur.

    ``mode``: ``add`` (create), ``edit`` (update), ``delete``; ``select``: ``all`` (the series),
    ``current`` (one occurrence), ``following`` (this and later occurrences). ``exdate`` (DELETE
    …/recur with mode delete, select current) names the occurrence to cancel.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    event: EventFields = Field(default_factory=EventFields)
    mode: Literal["add", "edit", "delete"] | None = None
    select: Literal["all", "current", "following"] | None = None
    exdate: list[str] | None = None

    @field_validator("exdate", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _split_dates(value)


class Event(BaseModel):
    """An event as the API returns it (GET/POST/PUT /event)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    calendar_id: int = Field(alias="calendarId")
    event_type_config_id: int = Field(alias="eventTypeConfigId")
    summary: str | None = None
    description: str | None = None
    user_keys: list[str] = Field(default_factory=list, alias="userKeys")
    reporter: str | None = None
    all_day: bool = Field(alias="allDay")
    all_day_start: str | None = Field(default=None, alias="allDayStart")
    all_day_end: str | None = Field(default=None, alias="allDayEnd")
    start_date: int = Field(alias="startDate")
    end_date: int = Field(alias="endDate")
    time_zone: str = Field(alias="timeZone")
    recurrence: str | None = None
    rdate: list[str] = Field(default_factory=list)
    exdate: list[str] = Field(default_factory=list)
    parent_id: int | None = Field(default=None, alias="parentId")
    recurrence_id: str | None = Field(default=None, alias="recurrenceId")
    version: int
    created: int
    updated: int


class Occurrence(Event):
    """One occurrence in a search result: a single event, a child, or an expanded occurrence of a
    master (then ``id`` is the master's, ``parentId`` the master's id, ``recurrenceId`` the
    occurrence's original date and ``startDate``/``endDate`` the occurrence's own)."""


class SearchRequest(BaseModel):
    """Body of POST /event/search (CCJ). Exactly one of ``calendarId`` / ``sourceId`` /
    ``sourceIds``; the period as epoch ms or ISO 8601 (``startDateIso``/``endDateIso``), shorter
    than 92 days."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    calendar_id: int | None = Field(default=None, alias="calendarId", gt=0, le=MAX_ID)
    source_id: int | None = Field(default=None, alias="sourceId", gt=0, le=MAX_ID)
    source_ids: list[int] | None = Field(default=None, alias="sourceIds", min_length=1, max_length=100)
    start_date: int | None = Field(default=None, alias="startDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    end_date: int | None = Field(default=None, alias="endDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    start_date_iso: str | None = Field(default=None, alias="startDateIso", max_length=64)
    end_date_iso: str | None = Field(default=None, alias="endDateIso", max_length=64)
    start_at: int = Field(default=0, alias="startAt", ge=0)
    max_results: int | None = Field(default=None, alias="maxResults", ge=1, le=10_000)
    include_jira: bool = Field(
        default=False,
        alias="includeJira",
        description=(
            "teamcal only: also return events of Jira-backed sources (jira, sprint, version), synced from "
            "Jira. Without it the search is CCJ's: vacation, sickness, trip, meeting and custom sources only."
        ),
    )


class SearchPage(BaseModel):
    """Jira's envelope for search results, plus ``truncated``: true when a rule produced more
    occurrences than one search expands (the cap), so ``values`` is incomplete."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    start_at: int = Field(alias="startAt")
    max_results: int = Field(alias="maxResults")
    total: int
    is_last: bool = Field(alias="isLast")
    truncated: bool = False
    values: list[dict[str, Any]]
