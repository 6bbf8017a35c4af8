"""Event use cases: create, edit (all / current / following), delete, delete …/recur, search.

Contract: CCJ reference (POST/PUT /event, DELETE /event/{id}, DELETE /event/{id}/recur, POST
/event/search) and DESIGN.md "Wire details". Expansion is :mod:`teamcal.recurrence`; storage is
:class:`teamcal.storage.events.EventRepository` (every change is one transaction conditioned on the
versions read, so a racing writer gets 409 and nothing is half-written; a retried request that
failed wrote nothing).

Event kinds: ``single`` (no recurrence), ``master`` (RRULE and/or RDATE), ``child`` (an exception
replacing one occurrence of a master: ``parentId`` + ``recurrenceId``). A master keeps
``overrides`` = ``{recurrenceId: {"id", "startDate", "endDate", "allDay"}}`` of its children, so
a search expands it with its exceptions applied without reading the children.

Decisions where the reference is silent:

* Events live only in sources of type vacation, sickness, trip, meeting or custom (the types the
  search returns); jira / sprint / version sources are Jira-backed (400 on ``eventTypeConfigId``).
* ``timeZone`` defaults to the calendar's ``value.timeZone``, then UTC. ``reporter`` is the
  token's user. ``userKeys`` defaults to ``[reporter]`` when the source's type requires users.
* Deleting a child (DELETE /event/{childId}, or …/recur on a child) cancels that occurrence: the
  child goes and its recurrenceId becomes an EXDATE of the master, so it never comes back.
* Editing a whole series (``select: "all"``) keeps existing exceptions; an exception whose
  recurrenceId no longer names an occurrence is still shown, as a stand-alone event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from teamcal.access import Action, item_visible, require
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError, InvalidInputError, NotFoundError
from teamcal.ids import new_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.common import within_budget
from teamcal.models.event_record import EventRecord, merge_changes
from teamcal.models.event_types import PREDEFINED_BY_KEY
from teamcal.models.events import Event, EventFields, EventRequest, SearchPage, SearchRequest
from teamcal.models.sources import SourceRecord
from teamcal.recurrence import (
    Occurrence,
    Override,
    Series,
    expand,
    require_occurrence,
    split_following,
)
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import EventRepository

DAY_MS = 86_400_000
#: The most occurrences one search expands (bounded time and memory; ``truncated`` past it).
SEARCH_CAP = 50_000
#: The most values one response carries when the client gives no ``maxResults`` (a Lambda response
#: is at most 6 MB): the envelope then says ``isLast: false`` and the client pages with ``startAt``.
PAGE_CAP = 10_000
#: CCJ: "Interval between start and end dates should be less than 92 days (i.e. a quarter)".
MAX_SEARCH_MS = 92 * DAY_MS
#: Types whose sources hold events (CCJ search: vacation, sickness, trip, meeting or custom).
JIRA_BACKED = frozenset({"jira", "sprint", "version"})
_CHILD_CHUNK = 20


@dataclass(frozen=True)
class EventStores:
    """The repositories the event use cases need."""

    config: ConfigStores
    events: EventRepository


# ---------------------------------------------------------------------------- helpers
def calendar_zone(calendar: CalendarRecord) -> str:
    """The calendar's ``value.timeZone`` (an IANA name, validated on write), else ``UTC``."""
    try:
        zone = json.loads(calendar.value).get("timeZone")
    except (ValueError, AttributeError):
        return "UTC"
    return zone if isinstance(zone, str) and zone else "UTC"


def _canonical_id(series: Series, occurrence: Occurrence) -> str:
    return occurrence.recurrence_id_full if series.multi_per_day else occurrence.recurrence_id


def _changes(fields: EventFields) -> dict[str, Any]:
    """The fields the client actually sent, by wire name (``None`` means "clear" for texts)."""
    sent = fields.model_dump(by_alias=True, exclude_unset=True)
    return {k: v for k, v in sent.items() if k not in ("id", "version", "parentId")}


def to_wire(record: EventRecord) -> Event:
    """The API form of a stored event."""
    return record.to_event()


def _check_version(record: EventRecord, expected: int | None) -> None:
    if expected is not None and expected != record.version:
        raise ConflictError(f"event {record.id} is at version {record.version}, not {expected}")


# ---------------------------------------------------------------------------- access
def _source_and_calendar(
    stores: EventStores, principal: Principal, source_id: int
) -> tuple[SourceRecord, CalendarRecord]:
    """An ACTIVE, viewable source that may hold events, and its calendar (404 otherwise)."""
    missing = NotFoundError(f"source {source_id} not found", {"eventTypeConfigId": f"source {source_id} not found"})
    source = stores.config.sources.get(source_id)
    if source is None or not source.active:
        raise missing
    calendar = stores.config.calendars.get(source.calendar_id)
    return source, require(principal, Action.VIEW, calendar, source, missing=missing)


def _require_event_source(source: SourceRecord) -> None:
    if source.event_type_key in JIRA_BACKED:
        raise InvalidInputError.for_field(
            "eventTypeConfigId",
            "events can only be stored in vacation, sickness, trip, meeting or custom sources",
        )


def _load(stores: EventStores, principal: Principal, event_id: int) -> tuple[EventRecord, CalendarRecord]:
    """A stored event the principal may see, and its calendar (404 otherwise)."""
    try:
        record = stores.events.get(event_id)
    except NotFoundError:
        raise NotFoundError(f"event {event_id} not found") from None
    calendar = stores.config.calendars.get(record.calendar_id)
    return record, require(
        principal, Action.VIEW, calendar, record, missing=NotFoundError(f"event {event_id} not found")
    )


def get_event(stores: EventStores, principal: Principal, event_id: int) -> Event:
    """``GET /event/{eventId}``. Raises NotFoundError (absent, out of scope, not viewable)."""
    return to_wire(_load(stores, principal, event_id)[0])


# ---------------------------------------------------------------------------- create
def create_event(stores: EventStores, principal: Principal, request: EventRequest) -> Event:
    """``POST /event`` (``mode: "add"``): a single event or a recurring master.

    With ``parentId`` + ``recurrenceId`` it creates the exception of that occurrence instead (as
    ``PUT`` with ``select: "current"`` does).

    Raises:
        InvalidInputError: bad fields (named), a Jira-backed source, a mode other than add.
        NotFoundError: the source is absent or outside the token (``eventTypeConfigId``).
        ForbiddenError: the user may not add events to this calendar.
        ConflictError: the source is being deleted meanwhile.
    """
    if request.mode not in (None, "add"):
        raise InvalidInputError.for_field("mode", 'POST /event takes mode "add"')
    fields = request.event
    if fields.parent_id is not None and fields.recurrence_id is not None:
        return _edit_occurrence(stores, principal, fields)
    if fields.event_type_config_id is None:
        raise InvalidInputError.for_field("eventTypeConfigId", "is required (the source id)")
    source, calendar = _source_and_calendar(stores, principal, fields.event_type_config_id)
    _require_event_source(source)
    require(principal, Action.CREATE_EVENT, calendar, source)
    now = now_ms()
    item: dict[str, Any] = {
        "summary": None,
        "description": None,
        "userKeys": [],
        **_changes(fields),
        "id": new_id(),
        "calendarId": calendar.id,
        "eventTypeConfigId": source.id,
        "reporter": principal.user,
        "parentId": None,
        "recurrenceId": None,
        "version": 1,
        "created": now,
        "updated": now,
    }
    record = EventRecord.from_item(item).normalized(calendar_zone(calendar))
    if not record.user_keys and _users_required(source.event_type_key):
        record = record.replaced({"userKeys": [principal.user]})
    stores.events.commit(create=[record], conditions=[stores.config.sources.active_condition(source.id)])
    return to_wire(record)


def _users_required(type_key: str) -> bool:
    predefined = PREDEFINED_BY_KEY.get(type_key)
    return bool(predefined and predefined.users_required)


# ---------------------------------------------------------------------------- edit
def edit_event(stores: EventStores, principal: Principal, request: EventRequest) -> Event:
    """``PUT /event`` (``mode: "edit"``).

    * ``id`` of a single event or child: update it (a single event given a ``recurrence``
      becomes a master).
    * ``id`` of a master, ``select`` ``all`` (default): update the series; exceptions keep their
      own changes. ``select: "current"`` with ``recurrenceId``: edit that occurrence (as below).
      ``select: "following"`` with ``recurrenceId``: split the series there (the old master ends
      before that occurrence, a new master starts at it with the changes; exceptions and EXDATEs
      go to the half they belong to); returns the new master.
    * no ``id``, ``parentId`` + ``recurrenceId``: create (or update) the child replacing that
      occurrence.

    Raises:
        InvalidInputError: neither ``id`` nor ``parentId`` + ``recurrenceId`` ("Missing event
            ID"), bad fields, a recurrenceId naming no occurrence.
        NotFoundError / ForbiddenError / ConflictError: as for create; 409 also for a stale
            ``version``.
    """
    if request.mode not in (None, "edit"):
        raise InvalidInputError.for_field("mode", 'PUT /event takes mode "edit"')
    fields = request.event
    if fields.id is None:
        if fields.parent_id is None or fields.recurrence_id is None:
            raise InvalidInputError("Missing event ID", {"id": "give id, or parentId and recurrenceId"})
        return _edit_occurrence(stores, principal, fields)
    record, calendar = _load(stores, principal, fields.id)
    require(principal, Action.EDIT_EVENT, calendar, record)
    _check_version(record, fields.version)
    if record.kind == "master" and request.select == "current":
        if fields.recurrence_id is None:
            raise InvalidInputError.for_field("recurrenceId", 'is required with select "current"')
        return _edit_occurrence(stores, principal, fields.model_copy(update={"parent_id": fields.id, "id": None}))
    if record.kind == "master" and request.select == "following":
        if fields.recurrence_id is None:
            raise InvalidInputError.for_field("recurrenceId", 'is required with select "following"')
        return _split(stores, principal, record, calendar, fields)
    if record.kind == "child":
        return _update_child(stores, record, calendar, _changes(fields))
    changes = _changes(fields)
    target = changes.pop("eventTypeConfigId", None)
    if target is not None and int(target) != record.event_type_config_id:
        calendar = _move_target(stores, principal, record, int(target), changes)
    return _update_event(stores, record, calendar, changes)


def _move_target(
    stores: EventStores, principal: Principal, record: EventRecord, source_id: int, changes: dict[str, Any]
) -> CalendarRecord:
    """Moving a single event to another source (possibly of another calendar): the target must
    take events and be editable by the user; a series moves only without exceptions."""
    if record.overrides:
        raise InvalidInputError.for_field("eventTypeConfigId", "a series with exceptions cannot change source")
    source, calendar = _source_and_calendar(stores, principal, source_id)
    _require_event_source(source)
    require(principal, Action.CREATE_EVENT, calendar, source)
    changes.update(eventTypeConfigId=source_id, calendarId=calendar.id)
    return calendar


def _update_event(stores: EventStores, record: EventRecord, calendar: CalendarRecord, changes: dict[str, Any]) -> Event:
    changes = {k: v for k, v in changes.items() if k != "recurrenceId"}
    new = record.evolve(changes, updated=now_ms()).normalized(calendar_zone(calendar))
    delete_children: list[EventRecord] = []
    if record.kind == "master" and new.kind != "master" and record.overrides:
        delete_children = stores.events.children(record.id)  # the series is gone: so are they
        if len(delete_children) > _CHILD_CHUNK:
            raise InvalidInputError.for_field("recurrence", "remove the series' exceptions before its recurrence")
    stores.events.commit(replace=[(record, new)], delete=delete_children)
    return to_wire(new)


def _update_child(stores: EventStores, child: EventRecord, calendar: CalendarRecord, changes: dict[str, Any]) -> Event:
    assert child.parent_id is not None
    master = stores.events.get(child.parent_id)
    changes = {k: v for k, v in changes.items() if k not in ("recurrence", "rdate", "exdate", "recurrenceId")}
    changes.pop("eventTypeConfigId", None)
    now = now_ms()
    new = child.evolve(changes, updated=now).normalized(calendar_zone(calendar))
    new_master = master.with_override(str(child.recurrence_id), new).replaced({"updated": now})
    stores.events.commit(replace=[(child, new), (master, new_master)])
    return to_wire(new)


def _edit_occurrence(stores: EventStores, principal: Principal, fields: EventFields) -> Event:
    """Create or update the child replacing occurrence ``recurrenceId`` of master ``parentId``."""
    assert fields.parent_id is not None
    assert fields.recurrence_id is not None
    try:
        master, calendar = _load(stores, principal, fields.parent_id)
    except NotFoundError as e:
        raise NotFoundError(e.message, {"parentId": e.message}) from None
    if master.kind != "master":
        raise InvalidInputError.for_field("parentId", "is not a recurring event")
    require(principal, Action.EDIT_EVENT, calendar, master)
    series = master.series()
    occurrence = require_occurrence(series, fields.recurrence_id)
    recurrence_id = _canonical_id(series, occurrence)
    changes = {
        k: v
        for k, v in _changes(fields).items()
        if k not in ("recurrence", "rdate", "exdate", "recurrenceId", "eventTypeConfigId")
    }
    existing = master.overrides.get(recurrence_id)
    if existing is not None:
        current = stores.events.get(int(existing["id"]))
        _check_version(current, fields.version)
        return _update_child(stores, current, calendar, changes)
    now = now_ms()
    item: dict[str, Any] = {
        "summary": master.summary,
        "description": master.description,
        "userKeys": list(master.user_keys),
        "timeZone": master.time_zone,
        **_occurrence_times(series, occurrence),
    }
    item = merge_changes(item, changes)
    item.update(
        id=new_id(),
        calendarId=master.calendar_id,
        eventTypeConfigId=master.event_type_config_id,
        reporter=principal.user,
        version=1,
        created=now,
        updated=now,
    )
    child = EventRecord.from_item(item).as_child(master.id, recurrence_id).normalized(calendar_zone(calendar))
    stores.events.commit(
        create=[child],
        replace=[(master, master.with_override(recurrence_id, child).replaced({"updated": now}))],
        conditions=[stores.config.sources.active_condition(master.event_type_config_id)],
    )
    return to_wire(child)


def _occurrence_times(series: Series, occurrence: Occurrence) -> dict[str, Any]:
    if occurrence.all_day:
        start, end = occurrence.all_day_start, occurrence.all_day_end
        assert start is not None
        assert end is not None
        return {"allDay": True, "allDayStart": start.isoformat(), "allDayEnd": end.isoformat()}
    return {"allDay": False, "startDate": occurrence.start_ms, "endDate": occurrence.end_ms}


def _split(
    stores: EventStores, principal: Principal, master: EventRecord, calendar: CalendarRecord, fields: EventFields
) -> Event:
    assert fields.recurrence_id is not None
    series = master.series()
    split = split_following(series, fields.recurrence_id)
    changes = {k: v for k, v in _changes(fields).items() if k not in ("recurrenceId", "eventTypeConfigId")}
    if split.before is None:  # the first occurrence: this and following = the whole series
        return _update_event(stores, master, calendar, changes)
    before_ids, after_ids = split.partition(list(master.overrides))
    kept, handed_over = master.overrides_split(before_ids)
    now = now_ms()
    old = kept.evolve(updated=now).with_series(split.before)
    after = master.with_series(split.after).evolve(changes)
    new = after.replaced(
        {"id": new_id(), "version": 1, "created": now, "updated": now, "reporter": principal.user, "overrides": {}}
    ).normalized(calendar_zone(calendar))
    moved: list[tuple[EventRecord, EventRecord]] = []
    for rid in after_ids:
        child = stores.events.get(int(handed_over[rid]["id"]))
        moved.append((child, child.evolve({"parentId": new.id}, updated=now)))
    if new.kind != "master":
        raise InvalidInputError.for_field("recurrence", "the following occurrences need a recurrence rule")
    new = new.adopting_overrides(handed_over)
    stores.events.commit(create=[new], replace=[(master, old), *moved])
    return to_wire(new)


# ---------------------------------------------------------------------------- delete
_T = TypeVar("_T")


def _rereading(attempts: int, operation: Callable[[], _T]) -> _T:
    """Run a read-modify-write ``operation`` again (re-reading) when another writer got there
    between its read and its write: for changes the client did not condition on a ``version``
    (deletes, exception dates), a concurrent edit of the series — e.g. an exception arriving from
    a partner — is no reason to fail. The last ConflictError propagates (HTTP 409)."""
    for _ in range(attempts - 1):
        try:
            return operation()
        except ConflictError:
            continue
    return operation()


def delete_event(stores: EventStores, principal: Principal, event_id: int) -> Event:
    """``DELETE /event/{eventId}`` (see :func:`_delete_event`), re-read and retried up to 3 times
    when the event changes between its read and its write."""
    return _rereading(3, lambda: _delete_event(stores, principal, event_id))


def _delete_event(stores: EventStores, principal: Principal, event_id: int) -> Event:
    """``DELETE /event/{eventId}``: a single event; a master with all its exceptions; a child
    (cancels that occurrence: see the module docstring). Returns the deleted event.

    A master with many exceptions is deleted exceptions first, in chunks: a crash halfway leaves
    the master with fewer exceptions (never an orphan), and repeating the DELETE finishes it.

    Raises:
        NotFoundError, ForbiddenError, ConflictError (changed meanwhile: retry).
    """
    record, calendar = _load(stores, principal, event_id)
    require(principal, Action.DELETE_EVENT, calendar, record)
    if record.kind == "child":
        _cancel_occurrence_of_child(stores, record)
    elif record.kind == "master":
        _delete_chain(stores, record)
    else:
        stores.events.delete(record)
    return to_wire(record)


def _cancel_occurrence_of_child(stores: EventStores, child: EventRecord) -> None:
    assert child.parent_id is not None
    master = stores.events.get(child.parent_id)
    new_master = master.cancel_occurrences([str(child.recurrence_id)], updated=now_ms())
    stores.events.commit(delete=[child], replace=[(master, new_master)])


def _delete_chain(stores: EventStores, master: EventRecord) -> None:
    children = stores.events.children(master.id)
    for i in range(0, len(children), _CHILD_CHUNK):
        stores.events.commit(delete=children[i : i + _CHILD_CHUNK])
    stores.events.commit(delete=[stores.events.get(master.id) if children else master])


def delete_recurring(stores: EventStores, principal: Principal, event_id: int, request: EventRequest) -> Event:
    """``DELETE /event/{eventId}/recur`` (see :func:`_delete_recurring`), re-read and retried up
    to 3 times when the series changes between its read and its write."""
    return _rereading(3, lambda: _delete_recurring(stores, principal, event_id, request))


def _delete_recurring(stores: EventStores, principal: Principal, event_id: int, request: EventRequest) -> Event:
    """``DELETE /event/{eventId}/recur`` — the reference's three cases:

    1. ``mode: "delete"``, ``select: "current"``, ``exdate`` (``YYYY-MM-DD`` or ``YYYYMMDD``, one
       or several): exception dates on the master ``eventId`` (a child's id means its master);
       an exception replacing such an occurrence goes too. Returns the updated master.
    2. ``eventId`` is a child (and ``select`` is not ``"all"``): that occurrence is cancelled.
    3. otherwise: the whole chain (the master and its exceptions) is deleted.

    Raises:
        InvalidInputError: a malformed exdate, or one naming no occurrence (``exdate``).
        NotFoundError, ForbiddenError, ConflictError.
    """
    record, calendar = _load(stores, principal, event_id)
    require(principal, Action.DELETE_EVENT, calendar, record)
    exdates = request.exdate or request.event.exdate or []
    master = record if record.kind != "child" else stores.events.get(int(record.parent_id or 0))
    if request.mode == "delete" and request.select == "current" and exdates:
        if master.kind != "master":
            raise InvalidInputError.for_field("exdate", "the event does not repeat")
        return _add_exdates(stores, master, exdates)
    if record.kind == "child" and request.select != "all":
        _cancel_occurrence_of_child(stores, record)
        return to_wire(record)
    if master.kind != "master":
        stores.events.delete(master)
    else:
        _delete_chain(stores, master)
    return to_wire(master)


def _add_exdates(stores: EventStores, master: EventRecord, exdates: Iterable[str]) -> Event:
    series = master.series()
    ids = [_canonical_id(series, require_occurrence(series, d, field_name="exdate")) for d in exdates]
    overrides = master.overrides
    children = [stores.events.get(int(overrides[i]["id"])) for i in ids if i in overrides]
    new = master.cancel_occurrences(ids, updated=now_ms())
    stores.events.commit(replace=[(master, new)], delete=children)
    return to_wire(new)


# ---------------------------------------------------------------------------- search
def _epoch_ms(iso: str, field: str) -> int:
    try:
        when = dt.datetime.fromisoformat(iso.strip().replace("z", "Z"))
    except ValueError:
        raise InvalidInputError.for_field(field, "must be an ISO 8601 date or date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def search_window(request: SearchRequest) -> tuple[int, int]:
    """The half-open window ``[start, end)`` in epoch ms (from ms or ISO fields).

    Raises:
        InvalidInputError: missing bounds, end not after start, or 92 days or more (CCJ).
    """
    start = request.start_date
    end = request.end_date
    if start is None and request.start_date_iso is not None:
        start = _epoch_ms(request.start_date_iso, "startDateIso")
    if end is None and request.end_date_iso is not None:
        end = _epoch_ms(request.end_date_iso, "endDateIso")
    if start is None:
        raise InvalidInputError.for_field("startDate", "give startDate (epoch ms) or startDateIso")
    if end is None:
        raise InvalidInputError.for_field("endDate", "give endDate (epoch ms) or endDateIso")
    if end <= start:
        raise InvalidInputError.for_field("endDate", "must be after startDate")
    if end - start >= MAX_SEARCH_MS:
        raise InvalidInputError.for_field("endDate", "the interval must be shorter than 92 days")
    return start, end


def _searched_sources(stores: EventStores, principal: Principal, request: SearchRequest) -> dict[int, set[int]]:
    """{calendar id: the ids of its searchable sources} for the request (404 outside the token)."""
    given = [request.calendar_id is not None, request.source_id is not None, request.source_ids is not None]
    if sum(given) != 1:
        raise InvalidInputError("Give exactly one of calendarId, sourceId or sourceIds", {"calendarId": "required"})
    out: dict[int, set[int]] = {}
    if request.calendar_id is not None:
        calendar = stores.config.calendars.get(request.calendar_id)
        require(principal, Action.VIEW, calendar, missing=NotFoundError(f"calendar {request.calendar_id} not found"))
        assert calendar is not None
        sources = stores.config.sources.get_many(calendar.source_ids)
        out[calendar.id] = {
            s.id
            for s in sources
            if s.active
            and (request.include_jira or s.event_type_key not in JIRA_BACKED)
            and item_visible(principal, calendar, s)
        }
        return out
    ids = [request.source_id] if request.source_id is not None else list(request.source_ids or [])
    for source_id in ids:
        try:
            source, calendar = _source_and_calendar(stores, principal, source_id)
        except NotFoundError:
            raise NotFoundError(f"source {source_id} not found") from None
        bucket = out.setdefault(calendar.id, set())
        if request.include_jira or source.event_type_key not in JIRA_BACKED:
            bucket.add(source_id)
    return out


def _occurrence_wire(
    wire: Mapping[str, Any], lists: Iterable[str], master: EventRecord, series: Series, occurrence: Occurrence
) -> dict[str, Any]:
    # ``wire``: the master's API form, made once per master (not once per occurrence); its list
    # fields ``lists`` are copied (no two occurrences share a list). Keys are set in the order
    # the form had them, the occurrence's fields replacing the master's.
    out = dict(wire)
    for key in lists:
        out[key] = list(out[key])
    out["allDay"] = occurrence.all_day
    if occurrence.all_day:
        start, end = occurrence.all_day_start, occurrence.all_day_end
        assert start is not None
        assert end is not None
        out["allDayStart"] = start.isoformat()
        out["allDayEnd"] = end.isoformat()
    out["startDate"] = occurrence.start_ms
    out["endDate"] = occurrence.end_ms
    out["parentId"] = master.id
    out["recurrenceId"] = _canonical_id(series, occurrence)
    if not occurrence.all_day:
        out["allDayStart"] = None
        out["allDayEnd"] = None
    return out


#: A search value before it is built: its sort key (startDate, id, recurrenceId or ""; the
#: recurrence id of an expanded occurrence is None until needed: see :func:`_sort`) and what
#: builds the wire dict (:func:`_value`): the stored record of a single event or exception, or the
#: arguments of :func:`_occurrence_wire` for an expanded occurrence.
_Row = tuple[int, int, str | None, Any]


def _row(record: EventRecord) -> _Row:
    """A stored single event or exception as a row; its wire dict is built by :func:`_value`."""
    return record.start_date, record.id, record.recurrence_id or "", record


def _value(row: _Row) -> dict[str, Any]:
    payload = row[3]
    if isinstance(payload, EventRecord):
        return to_wire(payload).model_dump(by_alias=True)
    return _occurrence_wire(*payload)


def _recurrence_key(row: _Row) -> str:
    if row[2] is not None:
        return row[2]
    _, _, master, series, occurrence = row[3]
    return _canonical_id(series, occurrence) or ""


def _start_and_id(row: _Row) -> tuple[int, int]:
    return row[0], row[1]


def _sort(rows: list[_Row]) -> None:
    """Sort ``rows`` as a stable sort by (startDate, id, recurrenceId or "") does, computing the
    recurrence id (a local-time text) only where startDate and id tie."""
    rows.sort(key=_start_and_id)
    i, n = 0, len(rows)
    while i < n:
        j = i + 1
        while j < n and rows[j][0] == rows[i][0] and rows[j][1] == rows[i][1]:
            j += 1
        if j - i > 1:
            rows[i:j] = sorted(rows[i:j], key=_recurrence_key)
        i = j


def occurrences_in(
    found: list[EventRecord], masters: list[EventRecord], start: int, end: int, budget: int = SEARCH_CAP
) -> tuple[list[dict[str, Any]], bool]:
    """The occurrences in ``[start, end)`` (wire dicts, unsorted) of stored records: ``found`` =
    single events and exceptions overlapping the window, ``masters`` = the masters that can reach
    it; and whether ``budget`` (the cap) cut the expansion.

    A master's exceptions replace their occurrences through its ``overrides``; an exception whose
    master was not read (moved far from its series) or whose recurrenceId names no occurrence any
    more is shown as itself.
    """
    rows, truncated = _occurrence_rows(found, masters, start, end, budget)
    return [_value(r) for r in rows], truncated


def _occurrence_rows(
    found: list[EventRecord], masters: list[EventRecord], start: int, end: int, budget: int
) -> tuple[list[_Row], bool]:
    """:func:`occurrences_in` with each expanded occurrence's dict left to build (:func:`_value`):
    a search builds only the values of the page it returns."""
    rows: list[_Row] = []
    truncated = False
    by_id = {e.id: e for e in found}
    shown_children: set[int] = set()
    for master in masters:
        series = master.series()
        wire = to_wire(master).model_dump(by_alias=True)
        lists = [k for k, v in wire.items() if isinstance(v, list)]
        overrides = [
            Override(rid, int(o["startDate"]), int(o["endDate"]), bool(o["allDay"]), int(o["id"]))
            for rid, o in master.overrides.items()
        ]
        expansion = expand(series, start, end, overrides=overrides, limit=max(budget - len(rows) + 1, 1))
        truncated = truncated or expansion.truncated
        for occurrence in expansion.occurrences:
            if occurrence.override is None:
                rows.append((occurrence.start_ms, wire["id"], None, (wire, lists, master, series, occurrence)))
                continue
            child_id = int(str(occurrence.override.key))
            shown_children.add(child_id)
            if child_id in by_id:
                rows.append(_row(by_id[child_id]))
    rows.extend(_row(e) for e in found if e.kind == "single" or e.id not in shown_children)
    return rows, truncated or len(rows) > budget


def search(stores: EventStores, principal: Principal, request: SearchRequest) -> SearchPage:
    """``POST /event/search``: every occurrence overlapping the window, sorted by start.

    Cost: per calendar, one Query per UTC month of the window (singles and exceptions) and one
    for the masters that can reach it; expansion is in memory, at most
    :data:`SEARCH_CAP` occurrences (``truncated`` says when the cap was hit). Without
    ``maxResults`` every occurrence is returned (CCJ), at most :data:`PAGE_CAP` per response;
    any page ends before :data:`~teamcal.models.common.RESPONSE_BYTE_BUDGET` bytes of values
    (``isLast: false``).

    Raises:
        InvalidInputError: see :func:`search_window`; neither or several of calendarId / sourceId.
        NotFoundError: a calendar or source that is absent or outside the token.
    """
    start, end = search_window(request)
    wanted = _searched_sources(stores, principal, request)
    rows: list[_Row] = []
    truncated = False
    for calendar_id, source_ids in wanted.items():
        if not source_ids:
            continue
        found = [e for e in stores.events.in_window(calendar_id, start, end) if e.event_type_config_id in source_ids]
        masters = [m for m in stores.events.masters(calendar_id, start, end) if m.event_type_config_id in source_ids]
        more, cut = _occurrence_rows(found, masters, start, end, SEARCH_CAP - len(rows))
        rows.extend(more)
        truncated = truncated or cut
    _sort(rows)
    if len(rows) > SEARCH_CAP:
        rows, truncated = rows[:SEARCH_CAP], True
    total = len(rows)
    first = request.start_at
    size = request.max_results if request.max_results is not None else min(max(total - first, 0), PAGE_CAP)
    last = min(total, first + size)
    values = [_value(r) for r in rows[first:last]] if last > first else []
    if values:  # and never past the byte budget (a Lambda response is at most 6 MB)
        values = values[: within_budget(values)]
        last = first + len(values)
    return SearchPage.model_validate(
        {
            "startAt": first,
            "maxResults": size,
            "total": total,
            "isLast": last >= total,
            "truncated": truncated,
            "values": values,
        }
    )
