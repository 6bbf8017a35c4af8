"""Calendar use cases: list, read, create, update, delete (cascading to sources and events).

CCJ reference: GET /api/1/calendar ("the list of calendars tied for the passed token"), GET
/api/1/calendar/{calendarId} (adds the permission properties; 404 for a missing id or one not
associated with the token), POST (all-calendars token; 200 with the new calendar), PUT (400
"Missing calendar ID"; 200 with the updated calendar), DELETE (403 when not allowed; 200 with the
deleted calendar). Permission rules: :mod:`teamcal.access`.

The DELETE cascade is resumable, so a function that dies halfway leaves no orphan once the
DELETE is repeated (or :func:`resume_deletions` runs):

1. the calendar is marked ``status = DELETING`` (conditional on the version read). From then on it
   is invisible (GET 404, listings skip it) and no source can be added to it;
2. each of its sources is purged (marked DELETING, its events deleted, the source item deleted
   together with its entry in the calendar's ``sourceIds``);
3. the calendar item is deleted.

A repeated DELETE of a DELETING calendar skips step 1 and completes 2-3. When the Lambda is about
to time out between two sources, it stops and answers 503 ("repeat the request"). Deletions nobody
repeats are found by :func:`resume_deletions` (calendars) and
:func:`teamcal.services.sources.resume_source_deletions` (sources), meant for a scheduled sweeper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from teamcal.access import (
    Action,
    can_view,
    is_active,
    is_private,
    require,
    require_change_settings,
    require_create_calendar,
    scope_ids,
    shares_more,
)
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError, InvalidInputError, NotFoundError
from teamcal.ids import new_id, now_ms
from teamcal.models.calendars import (
    CalendarCreate,
    CalendarDetail,
    CalendarRecord,
    CalendarSettings,
    CalendarSummary,
    CalendarUpdate,
    CalendarValue,
)
from teamcal.models.common import within_budget
from teamcal.models.values import PermissionGrant, parse_value
from teamcal.services.sources import EventCleanup, check_time, load_calendar, purge_source, sources_of
from teamcal.services.stores import ConfigStores
from teamcal.services.versions import expected_version


@dataclass(frozen=True)
class CalendarListing:
    """One answer of ``GET /calendar``: ``values`` from the asked ``startAt``, and where the next
    answer starts when the byte budget ended this one early (None: this is the last)."""

    values: list[CalendarSummary]
    next_start_at: int | None


def list_calendars(stores: ConfigStores, principal: Principal, start_at: int = 0) -> CalendarListing:
    """``GET /calendar``: the viewable ACTIVE calendars tied to the token, oldest first (then by
    id), sources embedded, from the 0-based ``start_at``. CCJ's answer is a plain array, so it
    cannot say ``isLast``: an answer that would pass
    :data:`~teamcal.models.common.RESPONSE_BYTE_BUDGET` bytes ends there (at least one calendar)
    and ``next_start_at`` says where to ask again (the route writes it as a ``Link: rel="next"``).

    Cost: all-calendars token = 1 Query on the calendars index (per MB); scoped token = 1
    BatchGetItem per 100 calendar ids; then 1 BatchGetItem per 100 sources (+1 Query if a custom
    event type is embedded). Independent of the number of calendars: not N+1.
    """
    ids = scope_ids(principal)
    found = stores.calendars.list_active() if ids is None else stores.calendars.get_many(ids)
    calendars = [c for c in found if is_active(c) and can_view(principal, c)]
    calendars.sort(key=lambda c: (c.created, c.id))
    calendars = calendars[start_at:]
    sources = sources_of(stores, calendars, principal)
    summaries = [c.summary(sources[c.id]) for c in calendars]
    count = within_budget(summaries)
    return CalendarListing(summaries[:count], start_at + count if count < len(summaries) else None)


def get_calendar(stores: ConfigStores, principal: Principal, calendar_id: int) -> CalendarDetail:
    """``GET /calendar/{calendarId}``: one calendar with permission properties and sources.

    Raises:
        NotFoundError: absent, being deleted, out of the token's scope, or private to others.
    """
    calendar = require(principal, Action.VIEW, load_calendar(stores, calendar_id), missing=_missing(calendar_id))
    return calendar.detail(sources_of(stores, [calendar], principal)[calendar.id])


def _missing(calendar_id: int) -> NotFoundError:
    return NotFoundError(f"calendar {calendar_id} not found")


def _grant(value: PermissionGrant | None) -> PermissionGrant:
    """A sent grant, or the empty one (both lists set, so both are stored)."""
    return (
        PermissionGrant(groups=list(value.groups), users=list(value.users))
        if value
        else PermissionGrant(groups=[], users=[])
    )


def create_calendar(stores: ConfigStores, principal: Principal, body: CalendarCreate) -> CalendarDetail:
    """``POST /calendar``: a new calendar with a fresh integer id and ``version`` 1.

    Defaults: private, nothing editable by others, empty grants; the owner is ``user``, else the
    token's user (rule 7 of :mod:`teamcal.access`: as the vendor's sample, an all-calendars token
    with ``editCalendars`` may create a calendar for any owner).

    Raises:
        ForbiddenError: not an all-calendars token with ``edit_calendars``.
        InvalidInputError: ``value`` is not a valid calendar value.
    """
    owner = require_create_calendar(principal, body.user)
    parse_value(body.value, CalendarValue)
    now = now_ms()
    for attempt in range(3):
        record = CalendarRecord(
            id=new_id(),
            user=owner,
            value=body.value,
            public_calendar=bool(body.public_calendar),
            calendar_editable=bool(body.calendar_editable),
            perm_calendar_edit=_grant(body.perm_calendar_edit),
            events_editable=bool(body.events_editable),
            perm_events_edit=_grant(body.perm_events_edit),
            event_reporter_edit=bool(body.event_reporter_edit),
            perm_calendar_view=_grant(body.perm_calendar_view),
            version=1,
            created=now,
            updated=now,
            status="ACTIVE",
        )
        try:
            stores.calendars.create(record)
            break
        except ConflictError:
            if attempt == 2:
                raise
    return record.detail([])


def _changes(body: CalendarUpdate) -> dict[str, object]:
    changes: dict[str, object] = {}
    for name, field in CalendarSettings.model_fields.items():
        sent = getattr(body, name)
        if sent is not None:
            changes[field.alias or name] = sent.model_dump() if isinstance(sent, PermissionGrant) else sent
    if body.value is not None:
        changes["value"] = body.value
    if body.user is not None:
        changes["user"] = body.user
    return changes


def _refuse_sharing_private_google(stores: ConfigStores, calendar: CalendarRecord, body: CalendarUpdate) -> None:
    """Google sync sharing case 2 (CCJ reference: "you have private google calendars synced and then
    would like to share your … calendar → Sharing option is disabled"): 409 when the update shares
    a calendar one of whose sources syncs a private Google calendar (``private`` on the source).
    Costs one BatchGetItem, only for updates that share more."""
    if not calendar.source_ids or not shares_more(calendar, body):
        return
    sources = stores.sources.get_many(calendar.source_ids)
    if any(is_private(s) and is_active(s) for s in sources):
        raise ConflictError(
            f"calendar {calendar.id} syncs a private Google calendar, whose events only the calendar's owner may "
            "see: it cannot be made public or shared with users or groups. Deselect the private Google calendar "
            "first (PUT …/google)",
            {"publicCalendar": "a private Google calendar is synced into this calendar"},
        )


def update_calendar(
    stores: ConfigStores, principal: Principal, body: CalendarUpdate, if_match: str | None
) -> CalendarDetail:
    """``PUT /calendar``: a sent ``value`` replaces the old one whole; absent properties are kept.

    The write is conditioned on the version read, so two racing PUTs never both succeed.

    Raises:
        InvalidInputError: no ``id`` ("Missing calendar ID"); invalid ``value``.
        NotFoundError: absent, being deleted, out of scope or not viewable.
        ForbiddenError: rules 3-4 of :mod:`teamcal.access`.
        ConflictError: stale ``version`` / ``If-Match``, or a concurrent write won; sharing a
            calendar that syncs a private Google calendar (Google sync sharing case 2).
    """
    if body.id is None:
        raise InvalidInputError("Missing calendar ID", {"id": "Missing calendar ID"})
    calendar = require(principal, Action.EDIT_CALENDAR, load_calendar(stores, body.id), missing=_missing(body.id))
    require_change_settings(principal, calendar, body, body.user)
    _refuse_sharing_private_google(stores, calendar, body)
    if body.value is not None:
        parse_value(body.value, CalendarValue)
    version = expected_version(calendar.version, body.version, if_match, f"calendar {calendar.id}")
    updated = stores.calendars.update(calendar.id, _changes(body), version, now_ms())
    return updated.detail(sources_of(stores, [updated], principal)[updated.id])


def _finish_deletion(
    stores: ConfigStores, events: EventCleanup, calendar: CalendarRecord, time_left_ms: Callable[[], int] | None
) -> None:
    """Steps 2-3 of the cascade for a calendar already marked DELETING."""
    records = stores.sources.get_many(calendar.source_ids) if calendar.source_ids else []
    for record in sorted(records, key=lambda r: r.id):
        check_time(time_left_ms)
        purge_source(stores.sources, events, record, now_ms())
    events.forget_calendar(calendar.id)
    stores.calendars.delete(calendar.id)


def delete_calendar(
    stores: ConfigStores,
    events: EventCleanup,
    principal: Principal,
    calendar_id: int,
    time_left_ms: Callable[[], int] | None = None,
) -> CalendarDetail:
    """``DELETE /calendar/{calendarId}``: delete the calendar, its sources and their events;
    returns the calendar as it was. Resumes an interrupted deletion (see the module docstring).

    Raises:
        NotFoundError: absent, out of scope or not viewable.
        ForbiddenError: rule 6 of :mod:`teamcal.access`.
        ConflictError: a concurrent write changed the calendar as the deletion started.
        RetryableError: the function is about to time out (repeat the request to finish).
    """
    calendar = stores.calendars.get(calendar_id)
    if calendar is None:
        raise NotFoundError(f"calendar {calendar_id} not found")
    require(principal, Action.DELETE_CALENDAR, calendar, missing=_missing(calendar_id), deleting_ok=True)
    if is_active(calendar):
        marked = stores.calendars.mark_deleting(calendar.id, calendar.version, now_ms())
    else:
        marked = calendar
    # The sources as of the mark: none can be added after it.
    shown = calendar.detail(sources_of(stores, [marked], principal)[calendar.id])
    _finish_deletion(stores, events, marked, time_left_ms)
    return shown


def resume_deletions(stores: ConfigStores, events: EventCleanup) -> list[int]:
    """Finish every calendar deletion that was interrupted (for a scheduled sweeper); returns
    the ids of the calendars deleted. One Query, then the cascade of each."""
    done: list[int] = []
    for listed in stores.calendars.list_deleting():
        calendar = stores.calendars.get(listed.id)  # the index may lag; sourceIds must not
        if calendar is None:
            continue
        _finish_deletion(stores, events, calendar, None)
        done.append(calendar.id)
    return done
