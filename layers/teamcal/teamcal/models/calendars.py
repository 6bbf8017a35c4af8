"""Wire models of calendars (``/calendar``), field for field with the CCJ reference samples.

``GET /calendar`` items (CCJ sample)::

    {"id": 1959, "sources": [...], "value": "{\\"description\\":\\"\\",\\"name\\":\\"...\\",
     \\"usersFromEvents\\":true}", "user": "66625976fc0cc7a600b08977"}

``GET /calendar/{calendarId}`` adds the permission properties ``publicCalendar``,
``calendarEditable``, ``permCalendarEdit {groups, users}``, ``eventsEditable``,
``permEventsEdit {groups, users}``, ``eventReporterEdit`` and teamcal's ``permCalendarView
{groups, users}`` (who may see a private calendar). Both forms carry teamcal's ``version``
(optimistic locking) and ``created``/``updated`` (epoch ms, UTC) after CCJ's fields.

A calendar's ``value`` is ``{"name", "description", "usersFromEvents"}`` plus teamcal's
``timeZone`` (an IANA name, for DST-correct recurrence); other keys are kept as sent.
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from teamcal.models.sources import Source
from teamcal.models.text import LineText
from teamcal.models.values import MAX_VALUE_CHARS, PermissionGrant, ValueSchema

CalendarStatus = Literal["ACTIVE", "DELETING"]


class CalendarValue(ValueSchema):
    """The object inside a calendar's ``value`` string (unknown keys kept)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    users_from_events: bool | None = Field(default=None, alias="usersFromEvents")
    time_zone: str | None = Field(default=None, alias="timeZone", description="IANA zone name")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown IANA time zone {v!r}") from e
        return v


class CalendarSettings(BaseModel):
    """The permission properties a request may send; absent (``None``) means "default" on POST
    and "unchanged" on PUT."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)

    public_calendar: bool | None = Field(default=None, alias="publicCalendar")
    calendar_editable: bool | None = Field(default=None, alias="calendarEditable")
    perm_calendar_edit: PermissionGrant | None = Field(default=None, alias="permCalendarEdit")
    events_editable: bool | None = Field(default=None, alias="eventsEditable")
    perm_events_edit: PermissionGrant | None = Field(default=None, alias="permEventsEdit")
    event_reporter_edit: bool | None = Field(default=None, alias="eventReporterEdit")
    perm_calendar_view: PermissionGrant | None = Field(default=None, alias="permCalendarView")


class CalendarCreate(CalendarSettings):
    """Body of ``POST /calendar`` (CCJ sample: ``{"publicCalendar": true, "calendarEditable": true,
    "eventsEditable": true, "value": "{\\"name\\":\\"New public calendar\\", ...}", "user": "userID"}``).

    Defaults: private (``publicCalendar`` false), nothing editable by others, empty grants.
    ``user`` (the owner) defaults to the token's user; only an admin token may name another.
    """

    value: str = Field(max_length=MAX_VALUE_CHARS)
    user: LineText | None = Field(default=None, min_length=1, max_length=255)


class CalendarUpdate(CalendarSettings):
    """Body of ``PUT /calendar``: ``id`` required (400 "Missing calendar ID" without it).

    A sent ``value`` replaces the old one whole (keys not sent are gone); absent properties are
    kept. ``version``, when given, must equal the stored one (else 409); ``If-Match`` is the
    header form. ``sources`` and other read-only fields clients echo back are ignored.
    """

    id: int | None = None
    value: str | None = Field(default=None, max_length=MAX_VALUE_CHARS)
    user: LineText | None = Field(default=None, min_length=1, max_length=255)
    version: int | None = Field(default=None, ge=1)


class CalendarRecord(BaseModel):
    """A stored calendar (calendars table item ``CAL#<id>`` / ``CAL``, see
    :mod:`teamcal.storage.calendars`): everything GET shows plus ``status`` and the ids of its
    sources, attribute names as stored.

    ``status`` is ``ACTIVE``, or ``DELETING`` while a DELETE cascade is under way (the calendar is
    then invisible: GET answers 404 and listings skip it). Attributes this model does not name are
    kept as stored, so :meth:`item` gives back exactly the item read (no migration).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True, extra="allow")

    id: int
    user: str
    value: str
    public_calendar: bool = Field(default=False, alias="publicCalendar")
    calendar_editable: bool = Field(default=False, alias="calendarEditable")
    perm_calendar_edit: PermissionGrant = Field(default_factory=PermissionGrant, alias="permCalendarEdit")
    events_editable: bool = Field(default=False, alias="eventsEditable")
    perm_events_edit: PermissionGrant = Field(default_factory=PermissionGrant, alias="permEventsEdit")
    event_reporter_edit: bool = Field(default=False, alias="eventReporterEdit")
    perm_calendar_view: PermissionGrant = Field(default_factory=PermissionGrant, alias="permCalendarView")
    version: int
    created: int
    updated: int
    status: CalendarStatus = "ACTIVE"
    source_ids: list[int] = Field(default_factory=list, alias="sourceIds")

    @property
    def active(self) -> bool:
        """Exists and is not being deleted."""
        return self.status == "ACTIVE"

    def item(self) -> dict[str, Any]:
        """The stored form: the wire names of the attributes read or set (defaults not stored
        stay absent), unknown attributes included; ``sourceIds`` is a set (a DynamoDB number set,
        as the sources repository maintains it) and absent when empty."""
        item = self.model_dump(by_alias=True, exclude_unset=True)
        if "sourceIds" in item:
            ids = item.pop("sourceIds")
            if ids:
                item["sourceIds"] = set(ids)
        return item

    def summary(self, sources: list[Source]) -> CalendarSummary:
        """The ``GET /calendar`` item form."""
        return CalendarSummary(
            id=self.id,
            sources=sources,
            value=self.value,
            user=self.user,
            version=self.version,
            created=self.created,
            updated=self.updated,
        )

    def detail(self, sources: list[Source]) -> CalendarDetail:
        """The ``GET /calendar/{calendarId}`` form (with the permission properties)."""
        return CalendarDetail(
            id=self.id,
            public_calendar=self.public_calendar,
            calendar_editable=self.calendar_editable,
            perm_calendar_edit=self.perm_calendar_edit,
            events_editable=self.events_editable,
            perm_events_edit=self.perm_events_edit,
            event_reporter_edit=self.event_reporter_edit,
            perm_calendar_view=self.perm_calendar_view,
            sources=sources,
            value=self.value,
            user=self.user,
            version=self.version,
            created=self.created,
            updated=self.updated,
        )


class CalendarSummary(BaseModel):
    """An item of ``GET /calendar`` (CCJ sample fields, then teamcal's)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    sources: list[Source]
    value: str
    user: str
    version: int
    created: int
    updated: int


class CalendarDetail(BaseModel):
    """``GET /calendar/{calendarId}`` and the answer of POST, PUT and DELETE ``/calendar``."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    public_calendar: bool = Field(alias="publicCalendar")
    calendar_editable: bool = Field(alias="calendarEditable")
    perm_calendar_edit: PermissionGrant = Field(alias="permCalendarEdit")
    events_editable: bool = Field(alias="eventsEditable")
    perm_events_edit: PermissionGrant = Field(alias="permEventsEdit")
    event_reporter_edit: bool = Field(alias="eventReporterEdit")
    perm_calendar_view: PermissionGrant = Field(alias="permCalendarView")
    sources: list[Source]
    value: str
    user: str
    version: int
    created: int
    updated: int
