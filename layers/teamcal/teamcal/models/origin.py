"""Where a stored event came from: one type for every origin.

A stored event's ``origin`` attribute is absent for an event made here (through the API or an
iCalendar import), ``"google"`` or ``"jira"`` for one a sync keeps (read-only here), and
``{"synchronizationId", "eventId"}`` for a replica a partner deployment sent (its home's id).
:meth:`Origin.of` reads any of them; :meth:`Origin.stored` writes the stored form back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class OriginKind(enum.Enum):
    """Who made the event."""

    LOCAL = "local"
    GOOGLE = "google"
    JIRA = "jira"
    PARTNER = "partner"
    OTHER = "other"


@dataclass(frozen=True)
class Origin:
    """An event's origin: its kind and, for a partner's replica, the synchronization it came
    through and the event's id in its home deployment."""

    kind: OriginKind
    synchronization_id: int | None = None
    event_id: int | None = None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Origin:
        """The origin of a stored event record (any stored form; an unknown one is OTHER)."""
        raw = record.get("origin")
        if raw is None:
            return cls(OriginKind.LOCAL)
        if isinstance(raw, Mapping):
            try:
                return cls(OriginKind.PARTNER, int(raw["synchronizationId"]), int(raw["eventId"]))
            except (KeyError, TypeError, ValueError):
                return cls(OriginKind.OTHER)
        if raw == "google":
            return cls(OriginKind.GOOGLE)
        if raw == "jira":
            return cls(OriginKind.JIRA)
        return cls(OriginKind.OTHER)

    @classmethod
    def partner(cls, synchronization_id: int, event_id: int) -> Origin:
        """A replica that the partner of ``synchronization_id`` sent, ``event_id`` at home."""
        return cls(OriginKind.PARTNER, synchronization_id, event_id)

    def came_through(self, synchronization_id: int) -> bool:
        """Whether this is a replica that came through ``synchronization_id``."""
        return self.kind is OriginKind.PARTNER and self.synchronization_id == synchronization_id

    def stored(self) -> str | dict[str, int] | None:
        """The stored form (None: store no ``origin``)."""
        if self.kind is OriginKind.PARTNER:
            assert self.synchronization_id is not None
            assert self.event_id is not None
            return {"synchronizationId": self.synchronization_id, "eventId": self.event_id}
        if self.kind is OriginKind.GOOGLE:
            return "google"
        if self.kind is OriginKind.JIRA:
            return "jira"
        return None
