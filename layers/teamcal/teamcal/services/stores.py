"""The repositories the calendar, source and event type use cases work on, as one argument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teamcal.storage.calendars import CalendarRepository
from teamcal.storage.event_types import EventTypeRepository
from teamcal.storage.sources import SourceRepository


@dataclass(frozen=True)
class ConfigStores:
    """Calendars, sources and custom event types (the latter two share the sources table)."""

    calendars: CalendarRepository
    sources: SourceRepository
    event_types: EventTypeRepository

    @classmethod
    def connect(cls, client: Any, calendars_table: str, sources_table: str) -> ConfigStores:
        """Repositories over one boto3 DynamoDB ``client`` and the two table names."""
        return cls(
            calendars=CalendarRepository(client, calendars_table),
            sources=SourceRepository(client, sources_table, calendars_table),
            event_types=EventTypeRepository(client, sources_table),
        )
