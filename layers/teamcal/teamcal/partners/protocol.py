"""Wire models of synchronizations: our API's bodies and the partner webhooks' bodies.

API (token-authenticated, under the API base path): :class:`SynchronizationCreate`,
:class:`SynchronizationUpdate`, :class:`AcceptRequest`, :class:`MappingCreate`; answers
:class:`Synchronization`, :class:`CalendarMapping`, :class:`PartnerCalendar` (listings in Jira's envelope).

Webhooks (``/partner/v1/...``, signed, see :mod:`teamcal.partners.signing`): every body is
validated strictly (unknown fields refused) because the partner is another company's system.
``synchronizationId`` in a webhook path is always the RECEIVER's id; each side keeps the other's
id as ``partnerSynchronizationId``.

Times are epoch ms (UTC); event fields keep the CCJ names and meanings of
:mod:`teamcal.models.events` (``endDate`` exclusive, ``allDayEnd`` inclusive).
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from teamcal.errors import InvalidInputError
from teamcal.ids import MAX_ID
from teamcal.models.text import MAX_DESCRIPTION, MAX_SUMMARY, MAX_USER_KEYS, MultiLineText, UserKey

Status = Literal["INVITATION_SENT", "INVITATION_RECEIVED", "REJECTED", "ACTIVE", "NOT_CONFIGURED", "DELETED"]
ScopeMode = Literal["SHOW_ALL", "HIDE_SELECTED", "SHOW_SELECTED"]
Direction = Literal["PUSH", "PULL", "BOTH"]
Role = Literal["INVITER", "INVITEE"]
PROTOCOL_VERSION = 1
_EPOCH_MS_MIN = -62_135_596_800_000
_EPOCH_MS_MAX = 253_402_300_799_999
_TYPE_KEY = r"^[A-Za-z0-9_.:-]{1,100}$"
_ID = Field(gt=0, le=MAX_ID)

M = TypeVar("M", bound=BaseModel)


def _sorted_unique(values: list[Any]) -> list[Any]:
    return sorted(set(values))


# ---------------------------------------------------------------------------- API bodies
class Scope(BaseModel):
    """What the partner may see and map of ours; ours alone, never sent to the partner.

    * ``SHOW_ALL``: every calendar and event type (both lists must be empty).
    * ``HIDE_SELECTED``: every calendar except ``calendarIds`` and every event type except
      ``eventTypes``.
    * ``SHOW_SELECTED``: only ``calendarIds`` and only ``eventTypes``; an empty list does not
      restrict its dimension (select calendars only, or types only), but one must be non-empty.

    Event types are type keys (``meeting``, ``vacation``, a custom type's key): an event's type is
    its source's type.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    mode: ScopeMode
    calendar_ids: list[int] = Field(default_factory=list, alias="calendarIds", max_length=1000)
    event_types: list[str] = Field(default_factory=list, alias="eventTypes", max_length=100)

    @field_validator("calendar_ids")
    @classmethod
    def _ids(cls, value: list[int]) -> list[int]:
        if any(i <= 0 or i > MAX_ID for i in value):
            raise ValueError("calendarIds must be positive integers below 2^53")
        return _sorted_unique(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if any(not isinstance(t, str) or not t or len(t) > 100 for t in value):
            raise ValueError("eventTypes must be event type keys of 1 to 100 characters")
        return _sorted_unique(value)

    @model_validator(mode="after")
    def _consistent(self) -> Scope:
        if self.mode == "SHOW_ALL" and (self.calendar_ids or self.event_types):
            raise ValueError("SHOW_ALL takes no calendarIds or eventTypes")
        if self.mode == "SHOW_SELECTED" and not (self.calendar_ids or self.event_types):
            raise ValueError("SHOW_SELECTED needs calendarIds or eventTypes")
        return self

    def covers_calendar(self, calendar_id: int) -> bool:
        """Whether the partner may see and map calendar ``calendar_id``."""
        if self.mode == "SHOW_ALL":
            return True
        listed = calendar_id in self.calendar_ids
        if self.mode == "HIDE_SELECTED":
            return not listed
        return listed or not self.calendar_ids

    def covers_type(self, type_key: str) -> bool:
        """Whether events of type ``type_key`` may be replicated."""
        if self.mode == "SHOW_ALL":
            return True
        listed = type_key in self.event_types
        if self.mode == "HIDE_SELECTED":
            return not listed
        return listed or not self.event_types

    def covers(self, calendar_id: int, type_key: str) -> bool:
        """Both of the above."""
        return self.covers_calendar(calendar_id) and self.covers_type(type_key)


class SynchronizationCreate(BaseModel):
    """Body of ``POST /synchronization``: invite the deployment at ``partnerUrl`` (its API base URL)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    name: str = Field(min_length=1, max_length=200)
    partner_url: str = Field(alias="partnerUrl", min_length=1, max_length=2048)
    scope: Scope


class SynchronizationUpdate(BaseModel):
    """Body of ``PUT /synchronization/{synchronizationId}``: rename, or change our scope (any time
    before the synchronization is deleted or rejected). ``version``, when sent, must be the stored one."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    scope: Scope | None = None
    version: int | None = Field(default=None, ge=1)


class AcceptRequest(BaseModel):
    """Body of ``POST /synchronization/{synchronizationId}/accept``: our scope (required, as the
    reference asks to choose it before accepting)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    scope: Scope


class MappingCreate(BaseModel):
    """Body of ``POST /synchronization/{synchronizationId}/mappings``.

    ``direction`` is seen from us: ``PUSH`` sends our events to the partner, ``PULL`` takes the
    partner's, ``BOTH`` does both. ``eventTypes`` narrows the replicated types (empty: every type
    both scopes allow).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    local_calendar_id: int = Field(alias="localCalendarId", gt=0, le=MAX_ID)
    partner_calendar_id: int = Field(alias="partnerCalendarId", gt=0, le=MAX_ID)
    event_types: list[str] = Field(default_factory=list, alias="eventTypes", max_length=100)
    direction: Direction = "BOTH"

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if any(not t or len(t) > 100 for t in value):
            raise ValueError("eventTypes must be event type keys of 1 to 100 characters")
        return _sorted_unique(value)


# ---------------------------------------------------------------------------- API answers
class Synchronization(BaseModel):
    """A synchronization as our API shows it.

    ``role`` says who invited; ``partnerUrl`` is the partner's API base URL and
    ``partnerSynchronizationId`` its id for the same synchronization; ``scope`` is ours (absent
    on an invitation not yet accepted); ``partnerNotified`` is false when the last status change
    could not be told to the partner (it was unreachable).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    name: str
    status: Status
    role: Role
    partner_url: str = Field(alias="partnerUrl")
    partner_synchronization_id: int | None = Field(default=None, alias="partnerSynchronizationId")
    scope: Scope | None = None
    mapping_count: int = Field(default=0, alias="mappingCount")
    partner_notified: bool = Field(default=True, alias="partnerNotified")
    version: int
    created: int
    updated: int


class CalendarMapping(BaseModel):
    """A calendar mapping of a synchronization (``direction`` seen from us; ``createdBy``
    ``LOCAL`` or ``PARTNER``)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    synchronization_id: int = Field(alias="synchronizationId")
    local_calendar_id: int = Field(alias="localCalendarId")
    partner_calendar_id: int = Field(alias="partnerCalendarId")
    event_types: list[str] = Field(default_factory=list, alias="eventTypes")
    direction: Direction
    created_by: Literal["LOCAL", "PARTNER"] = Field(alias="createdBy")
    created: int


class PartnerCalendar(BaseModel):
    """A calendar the other side's scope lets us see: id, name, and its event types."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    id: int = _ID
    name: str = Field(max_length=500)
    event_types: list[str] = Field(default_factory=list, alias="eventTypes", max_length=200)


# ---------------------------------------------------------------------------- webhook bodies
class _Strict(BaseModel):
    """A body the partner sends us: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class _Answer(BaseModel):
    """An answer the partner gives us: unknown fields are ignored (a newer partner may add some)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


def decode_secret(text: str, field: str) -> bytes:
    """A 256-bit secret sent as URL-safe base64 (43 characters, no padding).

    Raises:
        InvalidInputError: not that.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise InvalidInputError.for_field(field, "must be 32 bytes in URL-safe base64") from e
    if len(raw) != 32:
        raise InvalidInputError.for_field(field, "must be 32 bytes in URL-safe base64")
    return raw


def encode_secret(raw: bytes) -> str:
    """The URL-safe base64 form of a secret (no padding)."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class Hello(_Answer):
    """``GET /partner/v1/hello``: who answers (unsigned; used to refuse inviting ourselves)."""

    product: Literal["teamcal"] = "teamcal"
    protocol: int = PROTOCOL_VERSION
    deployment_id: str = Field(alias="deploymentId", min_length=8, max_length=64)


class InvitationIn(_Strict):
    """``POST /partner/v1/invitations``, signed with ``secret`` itself (the one-time secret)."""

    protocol: Literal[1]
    synchronization_id: int = Field(alias="synchronizationId", gt=0, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2048, description="the inviter's API base URL")
    deployment_id: str = Field(alias="deploymentId", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    secret: str = Field(min_length=43, max_length=44)


class InvitationOut(_Answer):
    """The invitee's answer: its id for the synchronization and its deployment id."""

    synchronization_id: int = Field(alias="synchronizationId", gt=0, le=MAX_ID)
    deployment_id: str = Field(alias="deploymentId", min_length=8, max_length=64)


class AcceptIn(_Strict):
    """``POST /partner/v1/synchronization/{id}/accept`` (signed with the one-time secret)."""

    partner_synchronization_id: int = Field(alias="partnerSynchronizationId", gt=0, le=MAX_ID)
    salt: str = Field(min_length=43, max_length=44)


class NoticeIn(_Strict):
    """Body of reject / delete notices: an optional free text, shown in logs only."""

    reason: str | None = Field(default=None, max_length=500)


class MappingIn(_Strict):
    """``POST /partner/v1/synchronization/{id}/mappings``: a mapping the sender created, seen from
    the receiver (``calendarId`` is the receiver's calendar, ``direction`` the receiver's view)."""

    mapping_id: int = Field(alias="mappingId", gt=0, le=MAX_ID)
    calendar_id: int = Field(alias="calendarId", gt=0, le=MAX_ID)
    partner_calendar_id: int = Field(alias="partnerCalendarId", gt=0, le=MAX_ID)
    event_types: list[str] = Field(default_factory=list, alias="eventTypes", max_length=100)
    direction: Direction

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if any(not t or len(t) > 100 for t in value):
            raise ValueError("eventTypes must be event type keys of 1 to 100 characters")
        return _sorted_unique(value)


class CalendarsOut(_Answer):
    """``GET /partner/v1/synchronization/{id}/calendars``: what the receiver's scope shows."""

    values: list[PartnerCalendar] = Field(max_length=1000)


class EventRef(_Strict):
    """An event named across deployments: ``home`` is the deployment where it was first created
    (``sender`` or ``receiver`` of this call), ``id`` its id there."""

    home: Literal["sender", "receiver"]
    id: int = Field(gt=0, le=MAX_ID)


class ReplicatedEvent(_Strict):
    """The replicated fields of an event (CCJ names and limits of :class:`teamcal.models.events.EventFields`)."""

    summary: MultiLineText | None = Field(default=None, max_length=MAX_SUMMARY)
    description: MultiLineText | None = Field(default=None, max_length=MAX_DESCRIPTION)
    user_keys: list[UserKey] = Field(default_factory=list, alias="userKeys", max_length=MAX_USER_KEYS)
    all_day: bool = Field(alias="allDay")
    all_day_start: str | None = Field(default=None, alias="allDayStart", max_length=10)
    all_day_end: str | None = Field(default=None, alias="allDayEnd", max_length=10)
    start_date: int | None = Field(default=None, alias="startDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    end_date: int | None = Field(default=None, alias="endDate", ge=_EPOCH_MS_MIN, le=_EPOCH_MS_MAX)
    time_zone: str = Field(alias="timeZone", min_length=1, max_length=64)
    recurrence: str | None = Field(default=None, max_length=2000)
    rdate: list[str] = Field(default_factory=list, max_length=1000)
    exdate: list[str] = Field(default_factory=list, max_length=5000)
    recurrence_id: str | None = Field(default=None, alias="recurrenceId", max_length=32, pattern=r"^[0-9TZ-]+$")

    @field_validator("user_keys")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        if any(len(u) > 255 for u in value):
            raise ValueError("userKeys must be at most 255 characters each")
        return value


class EventChange(_Strict):
    """``POST /partner/v1/synchronization/{id}/events``: one change of one event.

    ``changeId`` is unique per change (the receiver applies each once); ``version`` and
    ``updated`` (epoch ms) are the sender's, for the conflict rule (newer ``updated`` wins,
    ``version`` breaks ties); ``event`` is present for ``upsert``; a child names its master in
    ``parentRef``.
    """

    change_id: str = Field(alias="changeId", min_length=1, max_length=200, pattern=r"^[A-Za-z0-9:#._-]+$")
    mapping_id: int = Field(alias="mappingId", gt=0, le=MAX_ID)
    op: Literal["upsert", "delete"]
    ref: EventRef
    parent_ref: EventRef | None = Field(default=None, alias="parentRef")
    kind: Literal["single", "master", "child"]
    event_type: str | None = Field(default=None, alias="eventType", pattern=_TYPE_KEY)
    version: int = Field(ge=1, le=MAX_ID)
    updated: int = Field(ge=0, le=_EPOCH_MS_MAX)
    created: int | None = Field(default=None, ge=0, le=_EPOCH_MS_MAX)
    event: ReplicatedEvent | None = None

    @model_validator(mode="after")
    def _complete(self) -> EventChange:
        if self.op == "upsert" and (self.event is None or self.event_type is None):
            raise ValueError("an upsert carries the event and its eventType")
        if self.op == "upsert" and self.kind == "child":
            assert self.event is not None
            if self.parent_ref is None or not self.event.recurrence_id:
                raise ValueError("a child carries parentRef and event.recurrenceId")
        return self


class ChangeOutcome(StrEnum):
    """What the receiver did with a change (the ``result`` of :class:`ChangeResult`)."""

    #: Written (created, updated or deleted).
    APPLIED = "applied"
    #: Seen before: nothing to do.
    DUPLICATE = "duplicate"
    #: Ours is newer: the change lost.
    STALE = "stale"
    #: Nothing to delete or update.
    ABSENT = "absent"
    #: Not replicated here (type not mapped, no master) or refused.
    SKIPPED = "skipped"


class ChangeResult(_Answer):
    """The receiver's answer to a change: ``applied``, ``duplicate`` (seen before), ``stale``
    (ours is newer: the change lost), ``absent`` (nothing to delete or update) or ``skipped``
    (not replicated here: type not mapped, no master)."""

    result: ChangeOutcome
    event_id: int | None = Field(default=None, alias="eventId")


# ---------------------------------------------------------------------------- parsing
def parse_body(model: type[M], raw: bytes) -> M:
    """Validate a webhook body (bytes of JSON) against ``model``.

    Raises:
        InvalidInputError: not JSON, not UTF-8, or not of the model's shape (the first problems
            are named by field).
    """
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as e:
        fields: dict[str, str] = {}
        for err in e.errors()[:10]:
            if err.get("type") == "json_invalid":
                raise InvalidInputError("the request body is not valid JSON") from None
            name = ".".join(str(p) for p in err.get("loc") or ()) or "body"
            fields.setdefault(name, str(err.get("msg") or "invalid value"))
        first = next(iter(fields.items()), ("body", "invalid"))
        raise InvalidInputError(f"{first[0]}: {first[1]}", fields) from None
