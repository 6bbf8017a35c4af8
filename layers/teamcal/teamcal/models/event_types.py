"""Wire models of event types (``/eventypes``, the CCJ reference's own spelling).

An event type says what a source holds. The predefined ones (``systemType: true``) are fixed:
vacation, sickness, trip, meeting hold events stored in teamcal; jira, sprint, version show Jira
data. Admins may add custom types (``systemType: false``), which hold events like meeting does.

``eventTypeId`` (in ``POST /source``) names a type by its ``key`` (``"meeting"``, the form the
response samples embed) or by the integer ``id`` that ``GET /eventypes`` lists. Predefined types
have the fixed ids 1-7 below; custom types get ids from :func:`teamcal.ids.new_id`. Custom keys
match ``[a-z][a-z0-9_-]*`` so a key never looks like an id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from teamcal.models.text import LineText

#: A custom type's key: lower-case, starts with a letter, never all digits.
EventTypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]

#: How a value schema is chosen for a source's ``value`` (see teamcal.models.sources).
SourceKind = Literal["events", "jira", "agile"]


class EventTypeRef(BaseModel):
    """The ``eventType`` object embedded in every source, exactly the CCJ sample's six fields."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    issue_required: bool = Field(alias="issueRequired")
    key: str
    name: str
    project_required: bool = Field(alias="projectRequired")
    system_type: bool = Field(alias="systemType")
    users_required: bool = Field(alias="usersRequired")


class EventType(BaseModel):
    """An item of ``GET /eventypes``: ``id``, the six embedded fields, and ``version``.

    ``version`` is 1 for predefined types (they never change) and counts the writes of a custom
    type (optimistic locking for ``PUT /eventypes``).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    issue_required: bool = Field(alias="issueRequired")
    key: str
    name: str
    project_required: bool = Field(alias="projectRequired")
    system_type: bool = Field(alias="systemType")
    users_required: bool = Field(alias="usersRequired")
    version: int = 1

    def ref(self) -> EventTypeRef:
        """The six-field form embedded in sources."""
        return EventTypeRef.model_validate(self.model_dump(include=set(EventTypeRef.model_fields)))

    @property
    def kind(self) -> SourceKind:
        """Which ``value`` schema a source of this type takes."""
        if self.key == "jira" and self.system_type:
            return "jira"
        if self.key in ("sprint", "version") and self.system_type:
            return "agile"
        return "events"


class EventTypeRecord(BaseModel):
    """A stored custom type (sources table item ``ET#<key>`` / ``ET``, see
    :mod:`teamcal.storage.event_types`), attribute names as stored, ``useCount`` included.

    Attributes the model does not name are kept, so :meth:`item` gives back the item read.
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True, extra="allow")

    id: int
    key: str
    name: str
    issue_required: bool = Field(default=False, alias="issueRequired")
    project_required: bool = Field(default=False, alias="projectRequired")
    users_required: bool = Field(default=False, alias="usersRequired")
    system_type: bool = Field(default=False, alias="systemType")
    version: int = 1
    created: int | None = None
    updated: int | None = None
    use_count: int = Field(default=0, alias="useCount")

    def item(self) -> dict[str, Any]:
        """The stored form: the attributes read or set (defaults not stored stay absent)."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def event_type(self) -> EventType:
        """Its ``GET /eventypes`` form (``systemType`` false: custom types are never system types)."""
        return EventType(
            id=self.id,
            issue_required=self.issue_required,
            key=self.key,
            name=self.name,
            project_required=self.project_required,
            system_type=False,
            users_required=self.users_required,
            version=self.version,
        )


def _predefined(type_id: int, key: str, name: str, users_required: bool) -> EventType:
    # model_construct: these constants are valid by construction, and validating them would build
    # EventType's schema at import (defer_build), a cold-start cost for every function.
    return EventType.model_construct(
        id=type_id,
        key=key,
        name=name,
        system_type=True,
        issue_required=False,
        project_required=False,
        users_required=users_required,
    )


#: The predefined types, in the order ``GET /eventypes`` lists them (names as in the samples).
PREDEFINED: tuple[EventType, ...] = (
    _predefined(1, "vacation", "Vacations", True),
    _predefined(2, "sickness", "Sickness", True),
    _predefined(3, "trip", "Business trips", True),
    _predefined(4, "meeting", "Meetings", True),
    _predefined(5, "jira", "Jira dates", False),
    _predefined(6, "sprint", "Jira sprints", False),
    _predefined(7, "version", "Jira versions", False),
)
PREDEFINED_BY_KEY = {t.key: t for t in PREDEFINED}
PREDEFINED_BY_ID = {t.id: t for t in PREDEFINED}

#: Event types whose sources hold teamcal events (CCJ: event search returns only these + custom).
EVENT_KEYS = frozenset({"vacation", "sickness", "trip", "meeting"})


class EventTypeCreate(BaseModel):
    """Body of ``POST /eventypes``: a custom type. ``key`` defaults to a slug of ``name``."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)

    name: LineText = Field(min_length=1, max_length=255)
    key: EventTypeKey | None = None
    users_required: bool = Field(default=False, alias="usersRequired")
    issue_required: bool = Field(default=False, alias="issueRequired")
    project_required: bool = Field(default=False, alias="projectRequired")


class EventTypeUpdate(BaseModel):
    """Body of ``PUT /eventypes``: names the type by ``key`` or ``id``; absent fields are kept.

    ``version``, when given, must equal the stored one (else 409); ``If-Match`` is the header form.
    """

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, defer_build=True)

    id: int | None = None
    key: str | None = None
    name: LineText | None = Field(default=None, min_length=1, max_length=255)
    users_required: bool | None = Field(default=None, alias="usersRequired")
    issue_required: bool | None = Field(default=None, alias="issueRequired")
    project_required: bool | None = Field(default=None, alias="projectRequired")
    version: int | None = Field(default=None, ge=1)
