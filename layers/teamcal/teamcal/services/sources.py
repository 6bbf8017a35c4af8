"""Source use cases: create, read, update, delete (with its events), and embedding in calendars.

CCJ reference: POST/PUT /api/1/source, GET /api/1/source/{sourceId} ("404 … when the sourceId
belongs to a calendar that is not associated with the token"), DELETE /api/1/source/{id} ("200
OK: … Returns the deleted source object"; "403 Forbidden").

Decisions:

* ``calendarConfigurationId`` naming a calendar that does not exist, is being deleted, is outside
  the token or is private to others → 404 with ``errors.calendarConfigurationId`` (existence is
  never revealed, as for GET; the Jira body still names the field).
* ``eventTypeId`` is a type key (``"meeting"``) or its integer id; unknown → 400.
* A source never changes calendar or type: PUT may echo them but not change them (400).
* DELETE is resumable: the source is first marked ``DELETING`` (from then on invisible: GET 404,
  calendars do not embed it, no event can be added to it), then its events are deleted, then the
  source item. A DELETE repeated after a crash resumes and completes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from teamcal.access import Action, can_view, is_active, item_visible, require
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError, InvalidInputError, NotFoundError, RetryableError
from teamcal.ids import new_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_types import EventType
from teamcal.models.sources import (
    MAX_SOURCES_PER_CALENDAR,
    VALUE_SCHEMAS,
    Source,
    SourceCreate,
    SourceRecord,
    SourceUpdate,
    full_calendar_error,
)
from teamcal.models.values import parse_value
from teamcal.services.event_types import resolve_event_type, types_by_key
from teamcal.services.stores import ConfigStores
from teamcal.services.versions import expected_version
from teamcal.storage.sources import SourceRepository

#: Stop a cascade and answer 503 ("repeat the request") when less than this is left (ms).
SAFETY_MARGIN_MS = 3_000


class EventCleanup(Protocol):
    """What a cascade needs from the events store (``teamcal.storage.events.EventRepository``)."""

    def delete_by_source(self, source_id: int) -> int:
        """Delete every item of every event of a source (idempotent); returns the events deleted."""
        ...

    def forget_calendar(self, calendar_id: int) -> None:
        """Delete what the events store keeps per calendar (its change stamp; idempotent)."""
        ...


def check_time(time_left_ms: Callable[[], int] | None) -> None:
    """Raise RetryableError (503, "repeat the request") when the function is about to time out.

    The cascade is resumable, so stopping between two steps loses nothing.
    """
    if time_left_ms is not None and time_left_ms() < SAFETY_MARGIN_MS:
        raise RetryableError("the deletion is still under way; repeat the request to finish it")


def to_wire(record: SourceRecord, types: dict[str, EventType]) -> Source:
    """A stored source record → its wire form, with its ``eventType`` embedded."""
    return Source(
        id=record.id,
        calendar_id=record.calendar_id,
        emails_enabled=record.emails_enabled,
        event_type=types[record.event_type_key].ref(),
        order=record.order,
        value=record.value,
        version=record.version,
        created=record.created,
        updated=record.updated,
    )


def _ordered(records: Iterable[SourceRecord]) -> list[SourceRecord]:
    return sorted(records, key=lambda r: (r.order, r.id))


def sources_of(stores: ConfigStores, calendars: list[CalendarRecord], principal: Principal) -> dict[int, list[Source]]:
    """The ACTIVE sources of each calendar that ``principal`` may see (a private Google source:
    the calendar's owner only), ordered by ``order`` then id.

    Cost: one BatchGetItem per 100 sources across all ``calendars`` (their ``sourceIds``), plus
    one Query when a custom type must be embedded. Not N+1.
    """
    ids = [sid for c in calendars for sid in c.source_ids]
    by_id = {c.id: c for c in calendars}
    records = [
        r
        for r in (stores.sources.get_many(ids) if ids else [])
        if r.active and r.calendar_id in by_id and item_visible(principal, by_id[r.calendar_id], r)
    ]
    types = types_by_key(stores.event_types, {r.event_type_key for r in records})
    out: dict[int, list[Source]] = {c.id: [] for c in calendars}
    for record in _ordered(records):
        if record.calendar_id in out:
            out[record.calendar_id].append(to_wire(record, types))
    return out


def load_calendar(stores: ConfigStores, calendar_id: int) -> CalendarRecord | None:
    """The ACTIVE calendar with ``calendar_id``, or ``None`` (absent or being deleted)."""
    calendar = stores.calendars.get(calendar_id)
    return calendar if is_active(calendar) else None


def _visible_source(
    stores: ConfigStores, principal: Principal, source_id: int, *, deleting_ok: bool = False
) -> tuple[SourceRecord, CalendarRecord]:
    """The source and its calendar, or NotFoundError (absent, out of scope, not viewable, or a
    private Google source of another user's calendar); ``deleting_ok``: also while being deleted."""
    missing = NotFoundError(f"source {source_id} not found")
    record = stores.sources.get(source_id)
    if record is None or not (deleting_ok or is_active(record)):
        raise missing
    calendar = stores.calendars.get(record.calendar_id)
    if calendar is None or not (deleting_ok or is_active(calendar)) or not can_view(principal, calendar):
        raise missing
    if not item_visible(principal, calendar, record):
        raise missing
    return record, calendar


def get_source(stores: ConfigStores, principal: Principal, source_id: int) -> Source:
    """``GET /source/{sourceId}``.

    Raises:
        NotFoundError: no such source, or its calendar is out of the token's scope or not viewable.
    """
    record, _ = _visible_source(stores, principal, source_id)
    return to_wire(record, types_by_key(stores.event_types, [record.event_type_key]))


def source_for_events(stores: ConfigStores, principal: Principal, source_id: int) -> tuple[Source, CalendarRecord]:
    """For the events API: a viewable ACTIVE source and its calendar (rules 1-2).

    Raises:
        NotFoundError: as :func:`get_source`.
    """
    record, calendar = _visible_source(stores, principal, source_id)
    return to_wire(record, types_by_key(stores.event_types, [record.event_type_key])), calendar


def _calendar_for_write(stores: ConfigStores, principal: Principal, calendar_id: int) -> CalendarRecord:
    missing = NotFoundError(
        f"calendar {calendar_id} not found", {"calendarConfigurationId": f"calendar {calendar_id} not found"}
    )
    return require(principal, Action.VIEW, load_calendar(stores, calendar_id), missing=missing)


def create_source(stores: ConfigStores, principal: Principal, body: SourceCreate) -> Source:
    """``POST /source``: add a source to a calendar; ``order`` defaults to after the last one.

    Raises:
        NotFoundError: the calendar is absent, being deleted, out of scope or not viewable.
        ForbiddenError: the token lacks ``edit_sources`` or the user may not edit the calendar.
        InvalidInputError: unknown ``eventTypeId``; ``value`` invalid for the type; the calendar
            already holds :data:`~teamcal.models.sources.MAX_SOURCES_PER_CALENDAR` sources.
    """
    calendar = _calendar_for_write(stores, principal, body.calendar_configuration_id)
    require(principal, Action.EDIT_SOURCES, calendar)
    if len(calendar.source_ids) >= MAX_SOURCES_PER_CALENDAR:
        raise full_calendar_error()  # (checked again by the write: two requests may race for the last place)
    event_type = resolve_event_type(stores.event_types, body.event_type_id)
    parse_value(body.value, VALUE_SCHEMAS[event_type.kind])
    order = body.order
    if order is None:
        existing = stores.sources.get_many(calendar.source_ids) if calendar.source_ids else []
        order = max((r.order for r in existing), default=0) + 1
    now = now_ms()
    for attempt in range(3):
        record = SourceRecord(
            id=new_id(),
            calendar_id=calendar.id,
            event_type_key=event_type.key,
            emails_enabled=body.emails_enabled,
            order=order,
            value=body.value,
            version=1,
            created=now,
            updated=now,
            status="ACTIVE",
        )
        try:
            stores.sources.create(record)
            break
        except ConflictError:
            if attempt == 2:
                raise
    return to_wire(record, {event_type.key: event_type})


def update_source(stores: ConfigStores, principal: Principal, body: SourceUpdate, if_match: str | None) -> Source:
    """``PUT /source``: a sent ``value`` replaces the old one whole; absent fields are kept.

    Raises:
        InvalidInputError: no ``id``; a changed calendar or type; invalid ``value``.
        NotFoundError: no such source, or not visible to the token.
        ForbiddenError: the token lacks ``edit_sources`` or the user may not edit the calendar.
        ConflictError: stale ``version`` / ``If-Match``, or a concurrent write won.
    """
    if body.id is None:
        raise InvalidInputError("Missing source ID", {"id": "Missing source ID"})
    record, calendar = _visible_source(stores, principal, body.id)
    require(principal, Action.EDIT_SOURCES, calendar)
    if body.calendar_configuration_id not in (None, calendar.id):
        raise InvalidInputError.for_field("calendarConfigurationId", "a source cannot move to another calendar")
    event_type = resolve_event_type(stores.event_types, record.event_type_key)
    sent_type = None if body.event_type_id is None else resolve_event_type(stores.event_types, body.event_type_id)
    if sent_type is not None and sent_type.key != event_type.key:
        raise InvalidInputError.for_field("eventTypeId", "the event type of a source cannot change")
    if body.value is not None:
        parse_value(body.value, VALUE_SCHEMAS[event_type.kind])
    version = expected_version(record.version, body.version, if_match, f"source {body.id}")
    changes = {
        k: v
        for k, v in {"value": body.value, "emailsEnabled": body.emails_enabled, "order": body.order}.items()
        if v is not None
    }
    updated = stores.sources.update(body.id, changes, version, now_ms())
    return to_wire(updated, {event_type.key: event_type})


def purge_source(sources: SourceRepository, events: EventCleanup, record: SourceRecord, now: int) -> None:
    """Delete a source and its events, resumably: mark DELETING, delete events, delete the item.

    Safe to re-run at any point after a crash; a source already gone is a no-op.
    """
    source_id = record.id
    if record.active and sources.mark_deleting(source_id, now) is None:
        return
    events.delete_by_source(source_id)
    sources.delete(record)


def delete_source(
    stores: ConfigStores,
    events: EventCleanup,
    principal: Principal,
    source_id: int,
    time_left_ms: Callable[[], int] | None = None,
) -> Source:
    """``DELETE /source/{sourceId}``: delete a source and all its events; returns the source.

    A repeated DELETE of a source whose deletion was interrupted resumes it.

    Raises:
        NotFoundError: no such source, or not visible to the token.
        ForbiddenError: the token lacks ``delete_sources`` or the user may not edit the calendar.
        RetryableError: the function is about to time out (repeat the request to finish).
    """
    record, calendar = _visible_source(stores, principal, source_id, deleting_ok=True)
    require(principal, Action.DELETE_SOURCES, calendar, deleting_ok=True)
    shown = to_wire(record, types_by_key(stores.event_types, [record.event_type_key]))
    check_time(time_left_ms)
    purge_source(stores.sources, events, record, now_ms())
    return shown


def resume_source_deletions(stores: ConfigStores, events: EventCleanup) -> list[int]:
    """Finish every source deletion that was interrupted (for a scheduled sweeper); returns the
    ids of the sources deleted. One Query on the sparse deletion index, then each cascade."""
    done: list[int] = []
    for source_id in stores.sources.list_deleting():
        record = stores.sources.get(source_id)
        if record is not None:
            purge_source(stores.sources, events, record, now_ms())
            done.append(source_id)
    return done
