"""The repositories and the bucket the iCalendar use cases need, and the calendar lookup."""

from __future__ import annotations

from dataclasses import dataclass

from teamcal.access import Action, is_active, require
from teamcal.auth.principal import Principal
from teamcal.errors import NotFoundError
from teamcal.models.calendars import CalendarRecord
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import EventRepository
from teamcal.storage.feeds import FeedRepository
from teamcal.storage.ics_files import IcsFiles
from teamcal.storage.import_jobs import ImportJobRepository


@dataclass(frozen=True)
class IcalStores:
    """The repositories and the bucket the iCalendar use cases need."""

    config: ConfigStores
    events: EventRepository
    jobs: ImportJobRepository
    feeds: FeedRepository
    files: IcsFiles


# ---------------------------------------------------------------------------- helpers
def active_calendar(stores: IcalStores, principal: Principal | None, calendar_id: int) -> CalendarRecord:
    """The ACTIVE calendar, viewable by ``principal`` (``None``: a feed's secret or the import
    worker, which reach it without a token); else NotFoundError."""
    calendar = stores.config.calendars.get(calendar_id)
    missing = NotFoundError(f"calendar {calendar_id} not found")
    if principal is not None:
        return require(principal, Action.VIEW, calendar, missing=missing)
    if calendar is None or not is_active(calendar):
        raise missing
    return calendar
