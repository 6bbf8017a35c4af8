"""A stored calendar mapping of a synchronization: :class:`CalendarMappingRecord`.

Item attributes (invitations table ``SYNC#<syncId>`` / ``MAP#<mappingId>``, see
:mod:`teamcal.storage.invitations`) are the wire names of
:class:`teamcal.partners.protocol.CalendarMapping`: ``id``, ``synchronizationId``,
``localCalendarId``, ``partnerCalendarId``, ``eventTypes``, ``direction`` (seen from us: ``PUSH``,
``PULL`` or ``BOTH``), ``createdBy`` (``LOCAL`` or ``PARTNER``) and ``created`` (epoch ms).
Attributes this record does not name are kept and attributes an item lacked stay absent, so
``CalendarMappingRecord.from_item(item).item() == item`` (no migration).

A plain frozen dataclass, not a pydantic model: the replication outbox (a stream consumer that
imports no pydantic, for its cold start) reads the mappings of every changed event's calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.models.stored import KeptRecord, str_tuple

#: Wire name → attribute name of every attribute the record names.
_FIELD_OF: dict[str, str] = {
    "id": "id",
    "synchronizationId": "synchronization_id",
    "localCalendarId": "local_calendar_id",
    "partnerCalendarId": "partner_calendar_id",
    "eventTypes": "event_types",
    "direction": "direction",
    "createdBy": "created_by",
    "created": "created",
}
_INTS = frozenset({"id", "synchronizationId", "localCalendarId", "partnerCalendarId", "created"})
#: The mapping directions that take changes from the partner.
PULLS = ("PULL", "BOTH")


@dataclass(frozen=True)
class CalendarMappingRecord(KeptRecord):
    """A stored calendar mapping (see the module docstring).

    Attributes:
        id / synchronization_id: the mapping and its synchronization.
        local_calendar_id / partner_calendar_id: our calendar and the partner's.
        event_types: the event type keys replicated (empty: every type in scope).
        direction: ``PUSH`` (we send), ``PULL`` (we take) or ``BOTH``, seen from us.
        created_by: ``LOCAL`` (our API) or ``PARTNER`` (the partner's webhook).
        created: epoch ms (UTC).
        stored: the wire names the item had (None: a record built here, every attribute set).
        extra: attributes of the item this record does not name, kept as read.
    """

    _FIELDS = _FIELD_OF
    _READ = {**dict.fromkeys(_INTS, int), "eventTypes": str_tuple}

    id: int
    synchronization_id: int
    local_calendar_id: int
    partner_calendar_id: int = 0
    event_types: tuple[str, ...] = ()
    direction: str = "BOTH"
    created_by: str = "LOCAL"
    created: int = 0
    stored: frozenset[str] | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pushes(self) -> bool:
        """Our changes go to the partner (``PUSH`` or ``BOTH``)."""
        return self.direction in ("PUSH", "BOTH")

    @property
    def pulls(self) -> bool:
        """The partner's changes are taken (``PULL`` or ``BOTH``)."""
        return self.direction in PULLS

    def wants_type(self, type_key: str) -> bool:
        """Whether events of ``type_key`` are replicated through it (no types listed: all)."""
        return not self.event_types or type_key in self.event_types
