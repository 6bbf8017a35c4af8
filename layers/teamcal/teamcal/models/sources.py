"""Wire models of sources (``/source``): a calendar's event sources and their ``value`` schemas.

Response shape (CCJ reference, GET /api/1/calendar sample, field for field)::

    {"id": 5655, "calendarId": 1959, "emailsEnabled": false,
     "eventType": {"issueRequired": false, "key": "meeting", "name": "Meetings",
                   "projectRequired": false, "systemType": true, "usersRequired": true},
     "order": 1, "value": "{\\"color\\":\\"#7500ca\\", ...}"}

plus teamcal's ``version`` (optimistic locking) and ``created``/``updated`` (epoch ms, UTC).

``value`` schemas by event type (unknown keys are kept, every key is optional unless noted):

* every type: ``name`` (required), ``color`` (required, ``#rrggbb``), ``hideStartTime``,
  ``projectId``;
* event types (custom, meeting, vacation, sickness, trip): ``concurrence`` (``allow`` / ``deny``
  overlapping events of the same user), ``issueFields [{id, showEvent, showInfo}]``,
  ``condColors``, ``summaryFromSourceName``, ``summaryFromIssueSummary``;
* jira: ``singleDates``, ``dateRanges``, ``issueFields``, ``condColors``, ``summaryFromSourceName``;
* sprint and version: ``boardId``, ``show``, ``state``, ``releasedStatus``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from teamcal.errors import InvalidInputError
from teamcal.models.event_types import EventTypeRef, SourceKind
from teamcal.models.values import HexColor, ValueSchema

#: The longest source ``value`` string, in characters: a calendar's sources are embedded in every
#: ``GET /calendar`` answer, so 50 sources of 8 Ki characters keep one calendar's part near 400 KB.
MAX_SOURCE_VALUE_CHARS = 8192
#: The most sources one calendar holds (POST /source past it → 400).
MAX_SOURCES_PER_CALENDAR = 50


def full_calendar_error() -> InvalidInputError:
    """The 400 of ``POST /source`` on a calendar that holds :data:`MAX_SOURCES_PER_CALENDAR`
    sources (Jira's error body, on ``calendarConfigurationId``)."""
    return InvalidInputError.for_field(
        "calendarConfigurationId", f"a calendar holds at most {MAX_SOURCES_PER_CALENDAR} sources"
    )


class IssueField(ValueSchema):
    """One entry of ``issueFields``: a field shown on the event (``showEvent``) or its popup."""

    id: str
    show_event: bool | None = Field(default=None, alias="showEvent")
    show_info: bool | None = Field(default=None, alias="showInfo")


class SourceValue(ValueSchema):
    """Keys every source ``value`` takes."""

    name: str = Field(min_length=1, max_length=255)
    color: HexColor
    hide_start_time: bool | None = Field(default=None, alias="hideStartTime")
    project_id: int | None = Field(default=None, alias="projectId")


class EventSourceValue(SourceValue):
    """``value`` of custom, meeting, vacation, sickness and trip sources."""

    concurrence: Literal["allow", "deny"] | None = None
    issue_fields: list[IssueField] | None = Field(default=None, alias="issueFields")
    cond_colors: list[dict[str, Any]] | None = Field(default=None, alias="condColors")
    summary_from_source_name: bool | None = Field(default=None, alias="summaryFromSourceName")
    summary_from_issue_summary: bool | None = Field(default=None, alias="summaryFromIssueSummary")


class JiraSourceValue(SourceValue):
    """``value`` of jira (Jira dates) sources: which issue date fields become events."""

    single_dates: list[str] | None = Field(default=None, alias="singleDates")
    date_ranges: list[Any] | None = Field(default=None, alias="dateRanges")
    issue_fields: list[IssueField] | None = Field(default=None, alias="issueFields")
    cond_colors: list[dict[str, Any]] | None = Field(default=None, alias="condColors")
    summary_from_source_name: bool | None = Field(default=None, alias="summaryFromSourceName")


class AgileSourceValue(SourceValue):
    """``value`` of sprint and version sources (a board's sprints, a project's versions)."""

    board_id: int | None = Field(default=None, alias="boardId")
    show: int | None = None
    state: int | None = None
    released_status: int | None = Field(default=None, alias="releasedStatus")


VALUE_SCHEMAS: dict[SourceKind, type[SourceValue]] = {
    "events": EventSourceValue,
    "jira": JiraSourceValue,
    "agile": AgileSourceValue,
}


SourceStatus = Literal["ACTIVE", "DELETING"]


class SourceRecord(BaseModel):
    """A stored source (sources table item ``SRC#<id>`` / ``SRC``, see
    :mod:`teamcal.storage.sources`), attribute names as stored.

    ``status`` is ``ACTIVE``, or ``DELETING`` while its events are being deleted (the source is
    then invisible). A source synced from Google also has ``origin = "google"``, ``readOnly``
    (its events change only in Google), ``private`` (its events are shown to the calendar's owner
    only) and ``googleCalendarId``. Attributes this model does not name are kept as stored, so
    :meth:`item` gives back exactly the item read (no migration).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True, extra="allow")

    id: int
    calendar_id: int = Field(alias="calendarId")
    event_type_key: str = Field(alias="eventTypeKey")
    emails_enabled: bool = Field(default=False, alias="emailsEnabled")
    order: int
    value: str
    version: int
    created: int
    updated: int
    status: SourceStatus = "ACTIVE"
    origin: str | None = None
    read_only: bool = Field(default=False, alias="readOnly")
    private: bool = False
    google_calendar_id: str | None = Field(default=None, alias="googleCalendarId")

    @property
    def active(self) -> bool:
        """Exists and is not being deleted."""
        return self.status == "ACTIVE"

    def item(self) -> dict[str, Any]:
        """The stored form: the wire names of the attributes read or set (defaults not stored
        stay absent), unknown attributes included."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class Source(BaseModel):
    """A source as every response shows it (see the module docstring)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    calendar_id: int = Field(alias="calendarId")
    emails_enabled: bool = Field(alias="emailsEnabled")
    event_type: EventTypeRef = Field(alias="eventType")
    order: int
    value: str
    version: int
    created: int
    updated: int


def _type_reference(v: object) -> int | str:
    if isinstance(v, bool) or not isinstance(v, int | str) or (isinstance(v, str) and not 0 < len(v) <= 64):
        raise ValueError('must be an event type key (e.g. "meeting") or its integer id')
    return v


#: ``eventTypeId``: a type key or id, validated as one field (one error, not one per union member).
EventTypeReference = Annotated[
    int | str,
    PlainValidator(_type_reference),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "minLength": 1, "maxLength": 64}]}),
]

_ORDER = Field(default=None, ge=0, le=999_999, description="position in the calendar, ascending")
_CALENDAR = AliasChoices("calendarConfigurationId", "calendarId")


class SourceCreate(BaseModel):
    """Body of ``POST /source``.

    ``eventTypeId`` is a type's key (``"meeting"``) or its integer id (``GET /eventypes``).
    ``calendarConfigurationId`` is the calendar (``calendarId`` is accepted too: the name the
    responses use). ``order`` defaults to after the calendar's last source.
    """

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)

    event_type_id: EventTypeReference = Field(alias="eventTypeId")
    calendar_configuration_id: int = Field(alias="calendarConfigurationId", validation_alias=_CALENDAR, gt=0)
    emails_enabled: bool = Field(default=False, alias="emailsEnabled")
    value: str = Field(max_length=MAX_SOURCE_VALUE_CHARS)
    order: int | None = _ORDER


class SourceUpdate(BaseModel):
    """Body of ``PUT /source``: ``id`` required; a sent ``value`` replaces the old one whole.

    Absent fields are kept. ``eventTypeId`` and ``calendarConfigurationId`` may be sent (clients
    echo what they read) but not changed: a source never moves to another calendar or type.
    ``version``, when given, must equal the stored one (else 409); ``If-Match`` is the header form.
    """

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)

    id: int | None = None
    event_type_id: EventTypeReference | None = Field(default=None, alias="eventTypeId")
    calendar_configuration_id: int | None = Field(
        default=None, alias="calendarConfigurationId", validation_alias=_CALENDAR
    )
    emails_enabled: bool | None = Field(default=None, alias="emailsEnabled")
    value: str | None = Field(default=None, max_length=MAX_SOURCE_VALUE_CHARS)
    order: int | None = _ORDER
    version: int | None = Field(default=None, ge=1)
