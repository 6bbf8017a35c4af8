"""A stored event: :class:`EventRecord`, the one owner of the event rules every writer shares.

The events repository (:mod:`teamcal.storage.events`) returns :class:`EventRecord` values and
writes their :meth:`~EventRecord.to_item` form. The rules that used to be copied into the events
API, the iCalendar import, the Google and Jira syncs and the replication receiver live here:

* **normalise** (:meth:`EventRecord.normalized`): canonical RRULE / EXDATE / RDATE texts, both
  time forms of an all-day event, ``kind`` (``single`` | ``master`` | ``child``), a master's
  ``seriesEnd`` (epoch ms, exclusive end of its last occurrence; :data:`UNBOUNDED_MS` for a rule
  without COUNT or UNTIL) and ``overrides``;
* **series time fields** (:func:`series_fields`) and the **series** itself (:meth:`EventRecord.series`);
* **overrides**: a recurring master keeps, per exception (a child with ``parentId`` +
  ``recurrenceId``), an entry ``overrides[recurrenceId] = {id, startDate, endDate, allDay}``
  (epoch ms, UTC; the child's own times) so that a search expands the series without reading
  every child (:func:`override_entry`, :meth:`EventRecord.with_override`,
  :meth:`EventRecord.without_override`);
* **cancel occurrences** (:meth:`EventRecord.cancel_occurrences`): EXDATEs, minus their overrides;
* **origin**: a typed :class:`~teamcal.models.origin.Origin` (API / import, Google, Jira, partner).

Attributes carry the CCJ wire names as aliases (``calendarId``, ``startDate`` …); attributes a
sync keeps that have no field here (an iCalendar UID, a Google id, …) are kept as extras, so
``from_item(item).to_item() == item``. Code reads its attributes (``record.start_date``); the
stored wire form is :meth:`EventRecord.to_item`, for the few that need one (the storage layer,
the iCalendar writer, a partner's change body).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from teamcal.models.events import Event
from teamcal.models.origin import Origin
from teamcal.recurrence import Series, series_end_ms

#: The series end recorded for an unbounded rule (no COUNT, no UNTIL): far beyond any window.
UNBOUNDED_MS = 8 * 10**14
DAY_MS = 86_400_000
_ALL_DAY_FIELDS = ("allDayStart", "allDayEnd")
_MS_FIELDS = ("startDate", "endDate")
_NOT_ON_WIRE = frozenset({"kind", "seriesEnd", "overrides"})

EventKind = Literal["single", "master", "child"]


class OverrideEntry(TypedDict):
    """A master's ``overrides`` entry: the exception's id and its own times (epoch ms, UTC)."""

    id: int
    startDate: int  # noqa: N815 - the stored attribute name
    endDate: int  # noqa: N815
    allDay: bool  # noqa: N815


def override_entry(child: EventRecord) -> OverrideEntry:
    """The master's ``overrides`` entry for the exception ``child`` (a stored child record)."""
    return {
        "id": int(child.id),
        "startDate": int(child.start_date),
        "endDate": int(child.end_date),
        "allDay": bool(child.all_day),
    }


def series_fields(series: Series, *, sort_dates: bool = False) -> dict[str, Any]:
    """The normalised wire time fields of ``series`` (all-day dates derived from the instants):
    ``allDay``, ``startDate`` / ``endDate`` (epoch ms of the first occurrence), ``timeZone``,
    ``recurrence`` (RRULE text or None), ``exdate`` / ``rdate`` (texts, in the series' order, or
    sorted without repeats with ``sort_dates``), ``allDayStart`` / ``allDayEnd`` (ISO dates,
    inclusive end, or None)."""
    exdate = [r.text for r in series.exdates]
    rdate = [r.text for r in series.rdates]
    if sort_dates:
        exdate, rdate = sorted(set(exdate)), sorted(set(rdate))
    fields: dict[str, Any] = {
        "allDay": series.all_day,
        "startDate": series.start_ms,
        "endDate": series.start_ms + series.duration_ms,
        "timeZone": series.time_zone,
        "recurrence": series.rule.to_ical() if series.rule else None,
        "exdate": exdate,
        "rdate": rdate,
        "allDayStart": None,
        "allDayEnd": None,
    }
    if series.all_day:
        first = series.start.date()
        last = first + dt.timedelta(days=max(series.duration_ms // DAY_MS - 1, 0))
        fields["allDayStart"], fields["allDayEnd"] = first.isoformat(), last.isoformat()
    return fields


def kind_fields(series: Series) -> dict[str, Any]:
    """``kind`` of a (non-child) event of ``series`` (``master`` when it recurs, else ``single``)
    and, for a master, its ``seriesEnd`` (epoch ms; :data:`UNBOUNDED_MS` without COUNT or UNTIL)."""
    if not series.recurring:
        return {"kind": "single"}
    end = series_end_ms(series)
    return {"kind": "master", "seriesEnd": UNBOUNDED_MS if end is None else end}


def child_fields(series: Series) -> dict[str, Any]:
    """The stored time fields of an exception (``kind = child``) whose own times are ``series``
    (one occurrence: no recurrence, no ``seriesEnd``)."""
    return {**series_fields(series), "kind": "child"}


def input_fields(series: Series) -> dict[str, Any]:
    """The fields of ``series`` as a client sends them (``allDay``, one time form, recurrence,
    EXDATE / RDATE, zone): to merge into an event before :meth:`EventRecord.normalized`."""
    return {"allDay": series.all_day, **series_input(series_fields(series))}


def series_input(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``record`` (wire names) that :meth:`Series.from_wire` reads: the all-day
    form when ``allDayStart`` / ``allDayEnd`` is given, else the ms form (mixed fields are passed
    on so that the error names them)."""
    fields = {k: record.get(k) for k in ("recurrence", "exdate", "rdate", "timeZone")}
    all_day = any(record.get(k) is not None for k in _ALL_DAY_FIELDS)
    for key in _ALL_DAY_FIELDS if all_day else _MS_FIELDS:
        fields[key] = record.get(key)
    if all_day:
        for key in _MS_FIELDS:
            if record.get(key) is not None and record.get("allDay") is not True:
                fields[key] = record[key]  # mixed fields: Series.from_wire names the error
    return fields


def merge_changes(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base`` (wire names); sending all-day fields drops the ms fields and vice
    versa (the one that was sent decides ``allDay``)."""
    merged = dict(base)
    if any(k in changes for k in _ALL_DAY_FIELDS):
        for k in _MS_FIELDS:
            merged.pop(k, None)
        merged["allDay"] = True
    if any(k in changes for k in _MS_FIELDS):
        for k in _ALL_DAY_FIELDS:
            merged.pop(k, None)
        merged["allDay"] = False
    merged.update(changes)
    return merged


class EventRecord(BaseModel):
    """A stored event (every kind), immutable: its rules return new records.

    ``startDate`` / ``endDate``: epoch ms (UTC) of the event, for a master of its first
    occurrence (end exclusive); ``allDayStart`` / ``allDayEnd``: ISO dates, end inclusive.
    ``kind``: ``single`` | ``master`` | ``child``; masters have ``seriesEnd`` and ``overrides``;
    children ``parentId`` and ``recurrenceId``. ``version`` counts writes (optimistic locking).
    An event a sync keeps is ``readOnly`` (changed only where it comes from), may be ``private``
    (a private Google calendar's: its calendar's owner only) and has ``external`` ``{ns, key,
    …}`` naming it there; an imported one has ``external``, ``sequence`` and ``lastModified``
    (RFC 5545 SEQUENCE and LAST-MODIFIED, epoch ms); a Google one ``googleEtag``,
    ``googleExdate`` and ``googleCancelled``.

    Build one with :meth:`from_item` (trusted stored or service-built attributes: no validation,
    which keeps a search's thousands of reads cheap); write it with :meth:`to_item`. Only the
    attributes an item had are "set": ``to_item`` writes back exactly those (plus extras).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True, frozen=True, extra="allow")

    id: int
    calendar_id: int = Field(alias="calendarId")
    event_type_config_id: int = Field(alias="eventTypeConfigId")
    kind: EventKind = "single"
    summary: str | None = None
    description: str | None = None
    user_keys: list[str] = Field(default_factory=list, alias="userKeys")
    reporter: str | None = None
    all_day: bool = Field(default=False, alias="allDay")
    all_day_start: str | None = Field(default=None, alias="allDayStart")
    all_day_end: str | None = Field(default=None, alias="allDayEnd")
    start_date: int = Field(default=0, alias="startDate")
    end_date: int = Field(default=0, alias="endDate")
    time_zone: str | None = Field(default=None, alias="timeZone")
    recurrence: str | None = None
    rdate: list[str] = Field(default_factory=list)
    exdate: list[str] = Field(default_factory=list)
    parent_id: int | None = Field(default=None, alias="parentId")
    recurrence_id: str | None = Field(default=None, alias="recurrenceId")
    version: int = 1
    created: int = 0
    updated: int = 0
    series_end: int | None = Field(default=None, alias="seriesEnd")
    overrides: dict[str, OverrideEntry] = Field(default_factory=dict)
    origin: Origin | None = None
    # kept by the syncs and the importer (absent on an event made through the API)
    read_only: bool = Field(default=False, alias="readOnly")
    private: bool = False
    external: dict[str, Any] | None = None
    sequence: int | None = None
    last_modified: int | None = Field(default=None, alias="lastModified")
    google_etag: str | None = Field(default=None, alias="googleEtag")
    google_exdate: list[str] = Field(default_factory=list, alias="googleExdate")
    google_cancelled: list[str] = Field(default_factory=list, alias="googleCancelled")
    # a partner's change applied here: {synchronizationId, version} (the sender does not echo it)
    sync_applied: dict[str, Any] | None = Field(default=None, alias="syncApplied")

    # ------------------------------------------------------------------ items
    @classmethod
    def from_item(cls, item: Mapping[str, Any], ignore: frozenset[str] = frozenset()) -> EventRecord:
        """The record of a stored item (wire names), unvalidated; keys in ``ignore`` (e.g. the
        table's index keys) are left out. A stored ``origin`` (``"google"``, ``"jira"``,
        ``{synchronizationId, eventId}``) is read with :meth:`Origin.of`."""
        if isinstance(item, EventRecord):
            return item
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        field_of = _FIELD_OF
        for key, v in item.items():
            name = field_of.get(key)
            if name is not None:
                values[name] = v
            elif key not in ignore:
                extra[key] = v
        fields_set = set(values)
        if "origin" in values and values["origin"] is not None:
            values["origin"] = Origin.of(item)
        full = {**_STATIC_DEFAULTS, **values}
        for name, factory in _FACTORIES:
            if name not in values:
                full[name] = factory()
        # What ``model_construct`` does, without its per-call inspection of default factories
        # (10x the cost on a search's thousands of reads).
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", full)
        object.__setattr__(record, "__pydantic_fields_set__", fields_set)
        object.__setattr__(record, "__pydantic_extra__", extra)
        object.__setattr__(record, "__pydantic_private__", None)
        return record

    def to_item(self) -> dict[str, Any]:
        """The stored attributes (wire names): the set fields and the extras (a lossless inverse
        of :meth:`from_item` for every stored origin but an unreadable one)."""
        values = self.__dict__
        item = {_WIRE_OF[name]: values[name] for name in self.__pydantic_fields_set__ if name in _WIRE_OF}
        if "origin" in item:
            origin = self.origin
            item["origin"] = origin.stored() if origin is not None else None
        if self.__pydantic_extra__:
            item.update(self.__pydantic_extra__)
        return item

    def to_event(self) -> Event:
        """The API form (``GET /event``)."""
        return Event.model_validate({k: v for k, v in self.to_item().items() if k not in _NOT_ON_WIRE})

    def __eq__(self, other: object) -> bool:
        """Records are equal when their stored forms are (a record never equals a dict)."""
        if isinstance(other, EventRecord):
            return self.to_item() == other.to_item()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ changes
    def replaced(self, changes: Mapping[str, Any] = {}, *, drop: Iterable[str] = ()) -> EventRecord:  # noqa: B006
        """A copy with ``changes`` (wire names) set and the attributes ``drop`` removed; nothing
        else changes (no version bump: see :meth:`evolve`)."""
        item = {**self.to_item(), **changes}
        for key in drop:
            item.pop(key, None)
        return EventRecord.from_item(item)

    def evolve(self, changes: Mapping[str, Any] = {}, *, updated: int | None = None) -> EventRecord:  # noqa: B006
        """The next version: ``changes`` (wire names) merged as a client's edit is (sending
        all-day fields drops the ms ones and vice versa), ``version`` + 1, and ``updated`` set
        when given (epoch ms). Not normalised: see :meth:`normalized`."""
        item = merge_changes(self.to_item(), changes)
        item["version"] = self.version + 1
        if updated is not None:
            item["updated"] = updated
        return EventRecord.from_item(item)

    def series(self, default_zone: str | None = None) -> Series:
        """The recurrence series of the event (``default_zone``, else UTC, when it has no
        ``timeZone``). Raises RecurrenceError (HTTP 400, naming the field) on bad fields."""
        return Series.from_wire(series_input(self._time_fields()), self.time_zone or default_zone or "UTC")

    def _time_fields(self) -> dict[str, Any]:
        """The stored time and recurrence attributes (wire names) the record has: what
        :func:`series_input` reads, without building the whole item."""
        have, values = self.__pydantic_fields_set__, self.__dict__
        return {wire: values[name] for wire, name in _TIME_FIELDS if name in have}

    @property
    def series_end_ms(self) -> int:
        """The exclusive end (epoch ms) of the last occurrence; :data:`UNBOUNDED_MS` for a rule
        with neither COUNT nor UNTIL (RFC 5545 §3.3.10)."""
        end = series_end_ms(self.series())
        return UNBOUNDED_MS if end is None else end

    def normalized(self, default_zone: str) -> EventRecord:
        """The record with its time and recurrence fields validated and normalised (see the
        module docstring); ``default_zone`` applies when ``timeZone`` is absent.

        Raises RecurrenceError (HTTP 400) naming the field.
        """
        item = self.to_item()
        series = Series.from_wire(series_input(item), default_zone)
        item.update(series_fields(series))
        if series.recurring:
            item["kind"] = "child" if item.get("kind") == "child" else "master"
            end = series_end_ms(series)
            item["seriesEnd"] = UNBOUNDED_MS if end is None else end
            item.setdefault("overrides", {})
        elif item.get("kind") != "child":
            item["kind"] = "single"
            item.pop("seriesEnd", None)
            item.pop("overrides", None)
        return EventRecord.from_item(item)

    def with_series(self, series: Series) -> EventRecord:
        """A copy (same version and kind) whose time and recurrence fields are those of
        ``series`` (:func:`series_fields`) and whose ``seriesEnd`` is the series' end
        (:data:`UNBOUNDED_MS` for an unbounded rule): e.g. each half of a split series."""
        end = series_end_ms(series)
        return self.replaced({**series_fields(series), "seriesEnd": end or UNBOUNDED_MS})

    def as_child(self, parent_id: int | None = None, recurrence_id: str | None = None) -> EventRecord:
        """This event as the exception replacing occurrence ``recurrence_id`` of master
        ``parent_id`` (when not given: the record's own ``parentId`` / ``recurrenceId``): no
        recurrence of its own, no series end or overrides (not normalised)."""
        changes: dict[str, Any] = {"kind": "child", "recurrence": None, "exdate": [], "rdate": []}
        if parent_id is not None:
            changes["parentId"] = parent_id
        if recurrence_id is not None:
            changes["recurrenceId"] = recurrence_id
        return self.replaced(changes, drop=("seriesEnd", "overrides"))

    def with_override(self, recurrence_id: str, child: EventRecord | None) -> EventRecord:
        """This master at the next ``version`` with its entry for ``recurrence_id`` set to
        ``child`` (removed when ``child`` is None); ``updated`` is the caller's to set."""
        overrides = dict(self.overrides)
        if child is None:
            overrides.pop(recurrence_id, None)
        else:
            overrides[recurrence_id] = override_entry(child)
        return self.replaced({"overrides": overrides, "version": self.version + 1})

    def without_override(self, recurrence_id: str) -> EventRecord:
        """:meth:`with_override` with no child: the entry for ``recurrence_id`` goes."""
        return self.with_override(recurrence_id, None)

    def overrides_split(self, before: Iterable[str]) -> tuple[EventRecord, dict[str, OverrideEntry]]:
        """A series split's share of this master's ``overrides``: (this master, same version,
        keeping only the entries of the recurrence ids ``before``; the entries of every other
        recurrence id, which the new master of the following occurrences takes over)."""
        keep = set(before)
        kept = {k: v for k, v in self.overrides.items() if k in keep}
        given = {k: v for k, v in self.overrides.items() if k not in keep}
        return self.replaced({"overrides": kept}), given

    def adopting_overrides(self, entries: Mapping[str, OverrideEntry]) -> EventRecord:
        """A copy (same version) with the override ``entries`` another master handed over
        (:meth:`overrides_split`) added to its own."""
        return self.replaced({"overrides": {**self.overrides, **entries}})

    def with_overrides(self, children: Iterable[EventRecord], *, without: Iterable[str] = ()) -> EventRecord:
        """A copy (same version) whose entries for ``children`` (stored children) are set, after
        those for the recurrence ids ``without`` are removed."""
        overrides = dict(self.overrides)
        for recurrence_id in without:
            overrides.pop(recurrence_id, None)
        for child in children:
            overrides[str(child.recurrence_id)] = override_entry(child)
        return self.replaced({"overrides": overrides})

    def cancel_occurrences(self, recurrence_ids: Iterable[str], *, updated: int) -> EventRecord:
        """This master at the next ``version``, ``updated`` at ``updated`` (epoch ms), with the
        occurrences ``recurrence_ids`` cancelled: each becomes an EXDATE and loses its override
        entry (the caller deletes the exception itself). Normalised."""
        ids = list(recurrence_ids)
        overrides = {k: v for k, v in self.overrides.items() if k not in ids}
        exdate = sorted({*self.exdate, *ids})
        new = self.replaced({"overrides": overrides, "exdate": exdate, "version": self.version + 1, "updated": updated})
        return new.normalized(self.time_zone or "UTC")

    @property
    def came_from(self) -> Origin:
        """The typed origin (a record without one was made here: ``OriginKind.LOCAL``)."""
        return self.origin if self.origin is not None else Origin.of({})


_FIELD_OF: dict[str, str] = {(f.alias or name): name for name, f in EventRecord.model_fields.items()}
_WIRE_OF: dict[str, str] = {name: wire for wire, name in _FIELD_OF.items()}
_TIME_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (wire, _FIELD_OF[wire])
    for wire in (
        "allDay",
        "allDayStart",
        "allDayEnd",
        "startDate",
        "endDate",
        "timeZone",
        "recurrence",
        "exdate",
        "rdate",
    )
)
_STATIC_DEFAULTS: dict[str, Any] = {
    name: f.default for name, f in EventRecord.model_fields.items() if not f.is_required() and f.default_factory is None
}
_FACTORIES: list[tuple[str, Any]] = [
    (name, f.default_factory) for name, f in EventRecord.model_fields.items() if f.default_factory is not None
]
