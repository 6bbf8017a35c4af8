"""Google Calendar → teamcal sync of one Google calendar: full, then incremental; resumable.

Protocol (Google Calendar API "Synchronize resources efficiently" guide):

1. Full sync: ``events.list`` page by page (``pageToken``) until a page carries
   ``nextSyncToken``, which is stored. A full sync starts from an empty source (the first run has
   nothing; after 410 the source's events are deleted first, as Google advises).
2. Incremental sync: ``events.list`` with the stored ``syncToken`` returns only what changed
   since, deletions included (``status: "cancelled"``); the last page's ``nextSyncToken``
   replaces the stored one. The cost is one request per page of CHANGES plus, per page, one
   BatchGetItem per 100 touched events, one BatchWriteItem per 25 changed items and two source
   reads: it scales with the changes, never with the calendar's size.
3. 410 Gone (the token expired): drop this Google calendar's synced events and run a full sync.
4. 403 ``rateLimitExceeded`` / ``userRateLimitExceeded`` and 429, 5xx and network errors: retry
   the same request with exponential backoff and jitter (1 s, 2 s, 4 s, … ×[0.5, 1), at most
   :data:`MAX_ATTEMPTS` tries, never past the time budget). After each page the state item
   stores where to go on (``pageToken`` with the ``syncToken`` it belongs to), so a run stopped by
   throttling, the time budget or a crash resumes at the next page, never from scratch.

Applying a page (:class:`_Page`): every item is classified by :mod:`teamcal.google.mapping`; the
events it touches (its own id and, for instances, its master's) are read in one BatchGetItem per
100; the changes are computed in memory (masters and single events first, then instances, so an
instance finds a master of the same page); what differs from the store is written with
BatchWriteItem (:meth:`teamcal.storage.events.EventRepository.batch_put`: index items first, main
items last, so an interrupted page is repaired when it is applied again). No transaction and no
version condition: the connection's lease makes the sync the only writer of its sources (the
events API refuses to change their events), and a page is applied again from its stored page
token after a failure. The source must be ACTIVE before the write and still after it; a source
whose deletion started meanwhile gets the page's writes deleted again, so its cascade leaves no
orphan. Event ids are
``external_id(calendarId, "google:<googleCalendarId>", googleEventId)``: a re-run, a resumed
page or a replayed change finds the same event and never duplicates it.

An instance that arrives before its master (a later page) is stored as a child of the master's
(deterministic) id and remembered in ``pendingParents``; a cancelled instance that arrives before
its master is remembered in ``pendingExdates``; the master picks both up when it arrives.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.access import is_active
from teamcal.errors import ConflictError, InvalidInputError
from teamcal.google.errors import GoogleApiError, GoogleSyncTokenInvalid, GoogleTransientError
from teamcal.google.mapping import (
    Delete,
    InstanceCancel,
    InstanceUpsert,
    Skip,
    Upsert,
    classify,
    namespace,
    with_exdates,
)
from teamcal.google.port import CalendarGateway
from teamcal.google.secrets import GoogleSecret
from teamcal.ids import external_id, new_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord
from teamcal.models.google_state import GoogleSyncStateRecord
from teamcal.models.origin import Origin, OriginKind
from teamcal.models.sources import SourceRecord
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import MAX_INDEX_MONTHS, EventRepository, months_overlapping
from teamcal.storage.google import GoogleRepository

#: Events asked per ``events.list`` page (Google's maximum is 2,500, its default 250).
PAGE_SIZE = 500
#: Tries of one request on throttling / transient errors, and the backoff's first and largest delay (s).
MAX_ATTEMPTS = 6
BASE_DELAY_S = 1.0
MAX_DELAY_S = 32.0
#: No new page is started with less than this left of the time budget (ms).
MARGIN_MS = 5_000
#: Event type and colour of the sources Google events land in.
SOURCE_TYPE = "meeting"
SOURCE_COLOR = "#4285f4"
_MAX_NOTES = 20
_VOLATILE = ("version", "created", "updated")


@dataclass(frozen=True)
class SyncStores:
    """The repositories a sync writes to."""

    config: ConfigStores
    events: EventRepository
    google: GoogleRepository


@dataclass(frozen=True)
class SyncClock:
    """Time for a run: ``time_left_ms`` (the budget, ms), ``sleep`` (seconds) and ``random``
    (``[0, 1)``, the backoff's jitter: from the OS, since environments restored from one SnapStart
    snapshot share ``random``'s state); tests pass fakes."""

    time_left_ms: Callable[[], int]
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = secrets.SystemRandom().random


@dataclass
class CalendarReport:
    """What one run did to one Google calendar (shown by ``GET /calendar/{id}/google``)."""

    google_calendar_id: str
    mode: str
    pages: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    cleared: int = 0
    retries: int = 0
    full_syncs: int = 0
    complete: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Keep a note (the first :data:`_MAX_NOTES` only)."""
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(text)

    def to_dict(self) -> dict[str, Any]:
        """The report by wire names."""
        return {
            "googleCalendarId": self.google_calendar_id,
            "mode": self.mode,
            "pages": self.pages,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "cleared": self.cleared,
            "retries": self.retries,
            "fullSyncs": self.full_syncs,
            "complete": self.complete,
            "error": self.error,
            "notes": list(self.notes),
        }


@dataclass
class _State:
    """The mutable part of a sync state item (see :mod:`teamcal.storage.google`)."""

    sync_token: str | None
    page_token: str | None
    pending_parents: set[str]
    pending_exdates: dict[str, list[str]]
    event_count: int
    full_syncs: int

    @classmethod
    def of(cls, record: GoogleSyncStateRecord) -> _State:
        return cls(
            sync_token=record.sync_token or None,
            page_token=record.page_token or None,
            pending_parents=set(record.pending_parents or []),
            pending_exdates={str(k): list(v) for k, v in (record.pending_exdates or {}).items()},
            event_count=int(record.event_count or 0),
            full_syncs=int(record.full_syncs or 0),
        )

    def onto(self, record: GoogleSyncStateRecord) -> GoogleSyncStateRecord:
        """``record`` with this pass's state."""
        return record.evolved(
            sync_token=self.sync_token,
            page_token=self.page_token,
            pending_parents=sorted(self.pending_parents) or None,
            pending_exdates=self.pending_exdates or None,
            event_count=max(self.event_count, 0),
            full_syncs=self.full_syncs,
        )


# ---------------------------------------------------------------------------- sources
def create_source(
    config: ConfigStores, calendar: CalendarRecord, google_calendar_id: str, summary: str, public: bool
) -> int:
    """Create the read-only source a Google calendar's events land in; returns its id.

    A ``meeting`` source named ``Google: <summary>`` with the source-record attributes
    ``origin = "google"``, ``readOnly = true`` (the events API answers 403 to edits of its
    events), ``private = not public`` (its events are shown to the calendar's owner only) and
    ``googleCalendarId``.

    Raises:
        NotFoundError: the calendar is being deleted.
    """
    existing = config.sources.get_many(calendar.source_ids) if calendar.source_ids else []
    order = max((r.order for r in existing), default=0) + 1
    now = now_ms()
    value = json.dumps({"name": f"Google: {summary or google_calendar_id}"[:255], "color": SOURCE_COLOR})
    for attempt in range(3):
        record = SourceRecord(
            id=new_id(),
            calendar_id=calendar.id,
            event_type_key=SOURCE_TYPE,
            emails_enabled=False,
            order=order,
            value=value,
            version=1,
            created=now,
            updated=now,
            status="ACTIVE",
            origin="google",
            read_only=True,
            private=not public,
            google_calendar_id=google_calendar_id,
        )
        try:
            config.sources.create(record)
            return record.id
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ensure_source(stores: SyncStores, calendar: CalendarRecord, state: GoogleSyncStateRecord) -> GoogleSyncStateRecord:
    """``state`` as stored, its source re-created (and the state reset to a full sync) when it
    was deleted through the sources API meanwhile.

    Raises:
        ConflictError: the Google calendar was deselected meanwhile.
    """
    source_id = state.source_id
    record = stores.config.sources.get(int(source_id)) if source_id else None
    if record is not None and record.active and record.calendar_id == calendar.id:
        return state
    gcal = state.google_calendar_id
    new_source = create_source(stores.config, calendar, gcal, str(state.summary or gcal), bool(state.public))
    reset = state.evolved(
        source_id=new_source, sync_token=None, page_token=None, pending_parents=None, pending_exdates=None
    )
    stores.google.update_state(calendar.id, reset, state)
    return reset


# ---------------------------------------------------------------------------- the run
def sync_calendar(
    stores: SyncStores,
    gateway: CalendarGateway,
    secret: GoogleSecret,
    calendar: CalendarRecord,
    state: GoogleSyncStateRecord,
    clock: SyncClock,
) -> CalendarReport:
    """Sync one selected Google calendar (``state`` = its state item) into its source, as far as
    the time budget allows; returns the run's report (``complete`` when the listing ended).

    Raises:
        GoogleGrantRevoked, GoogleCredentialsError: the credentials no longer work.
        GoogleTransientError: throttling or outage outlasted the retries (resumable).
        GoogleApiError / GoogleNotFound: Google refused the listing.
        ConflictError: the source or the selection changed meanwhile.
    """
    gcal = state.google_calendar_id
    saved = _ensure_source(stores, calendar, state)
    source_id = int(saved.source_id or 0)
    st = _State.of(saved)
    report = CalendarReport(gcal, "incremental" if st.sync_token else "full")
    if st.sync_token is None and st.page_token is None:
        _start_full(stores, source_id, st, report)
    default_zone = str(saved.time_zone or _calendar_zone(calendar))
    private = not bool(saved.public)
    restarted = False
    while True:
        if clock.time_left_ms() < MARGIN_MS:
            report.note("stopped at the time budget; the next run resumes from the stored page")
            break
        try:
            page = _fetch(gateway, secret, gcal, st, clock, report)
        except GoogleSyncTokenInvalid:
            if report.full_syncs >= 2:
                raise
            report.note("Google answered 410 Gone: the synced events were dropped for a full sync")
            st.sync_token = st.page_token = None
            _start_full(stores, source_id, st, report)
            continue
        except GoogleApiError as e:
            if e.status != 400 or st.page_token is None or restarted:
                raise
            restarted = True  # a stored page token Google no longer takes: list again from the start
            report.note("Google refused the stored page token; the listing started over")
            st.page_token = None
            if st.sync_token is None:
                _start_full(stores, source_id, st, report)
            continue
        zone = str(page.get("timeZone") or default_zone)
        _Page(stores, calendar, source_id, gcal, private, st, report).apply(page.get("items") or [], zone)
        report.pages += 1
        if page.get("nextPageToken"):
            st.page_token = str(page["nextPageToken"])
            stores.google.update_state(calendar.id, st.onto(saved), saved)
            saved = st.onto(saved)
            continue
        st.sync_token = str(page["nextSyncToken"]) if page.get("nextSyncToken") else None
        st.page_token = None
        report.complete = True
        break
    done = st.onto(saved).evolved(last_run=report.to_dict(), error=None)
    if report.complete:
        done = done.evolved(last_sync_at=now_ms())
    stores.google.update_state(calendar.id, done, saved)
    return report


def _calendar_zone(calendar: CalendarRecord) -> str:
    try:
        zone = json.loads(calendar.value).get("timeZone")
    except (ValueError, AttributeError):
        return "UTC"
    return zone if isinstance(zone, str) and zone else "UTC"


def _start_full(stores: SyncStores, source_id: int, st: _State, report: CalendarReport) -> None:
    """Begin a full sync: the source's events go (none on a first run), pending links reset."""
    report.cleared += stores.events.delete_by_source(source_id)
    report.full_syncs += 1
    report.mode = "full"
    st.full_syncs += 1
    st.pending_parents.clear()
    st.pending_exdates.clear()
    st.event_count = 0


def _fetch(
    gateway: CalendarGateway, secret: GoogleSecret, gcal: str, st: _State, clock: SyncClock, report: CalendarReport
) -> dict[str, Any]:
    """One ``events.list`` page, retried with exponential backoff and jitter on throttling and
    transient errors (see the module docstring)."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return gateway.list_events(
                secret, gcal, sync_token=st.sync_token, page_token=st.page_token, page_size=PAGE_SIZE
            )
        except GoogleTransientError:
            ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt)
            delay = ceiling / 2 + clock.random() * ceiling / 2
            if attempt + 1 >= MAX_ATTEMPTS or clock.time_left_ms() - delay * 1000 < MARGIN_MS:
                raise
            report.retries += 1
            clock.sleep(delay)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------- one page
def _comparable(record: EventRecord) -> dict[str, Any]:
    """The stored attributes that matter for "did it change" (DynamoDB drops ``None`` attributes)."""
    return {k: v for k, v in record.to_item().items() if v is not None and v != [] and v != {} and k not in _VOLATILE}


def _months(record: EventRecord) -> set[str]:
    if record.kind == "master":
        return set()
    return set(months_overlapping(record.start_date, record.end_date))


class _Page:
    """Applies one ``events.list`` page (see the module docstring)."""

    def __init__(
        self,
        stores: SyncStores,
        calendar: CalendarRecord,
        source_id: int,
        gcal: str,
        private: bool,
        st: _State,
        report: CalendarReport,
    ) -> None:
        self.stores = stores
        self.calendar = calendar
        self.source_id = source_id
        self.ns = namespace(gcal)
        self.private = private
        self.st = st
        self.report = report
        self.before: dict[int, EventRecord] = {}
        self.work: dict[int, EventRecord | None] = {}

    def eid(self, google_id: str) -> int:
        return external_id(self.calendar.id, self.ns, google_id)

    # ------------------------------------------------------------------ driver
    def apply(self, items: Iterable[Mapping[str, Any]], zone: str) -> None:
        changes = [classify(item, zone) for item in items]
        ids: set[int] = set()
        for change in changes:
            if isinstance(change, Skip):
                self.report.skipped += 1
                self.report.note(change.reason)
                continue
            ids.add(self.eid(change.google_id))
            if isinstance(change, InstanceUpsert | InstanceCancel):
                ids.add(self.eid(change.master_id))
        self.before = {i: r for i, r in self.stores.events.get_many(ids).items() if self._ours(r)} if ids else {}
        self.work = dict(self.before)
        for change in changes:
            if isinstance(change, Upsert):
                self._upsert(change)
            elif isinstance(change, Delete):
                self._delete(change)
        for change in changes:
            if isinstance(change, InstanceUpsert):
                self._instance(change)
            elif isinstance(change, InstanceCancel):
                self._cancel(change.google_id, change.master_id, change.recurrence_id)
        self._commit()

    def _ours(self, record: EventRecord) -> bool:
        ours = (record.external or {}).get("ns") == self.ns
        if not ours:
            self.report.note(f"event id {record.id} is taken by another event; skipped")
        return ours

    # ------------------------------------------------------------------ records
    def _base(self, google_id: str, fields: Mapping[str, Any], etag: str | None) -> EventRecord:
        record: dict[str, Any] = {
            **fields,
            "id": self.eid(google_id),
            "calendarId": self.calendar.id,
            "eventTypeConfigId": self.source_id,
            "userKeys": [],
            "reporter": None,
            "parentId": None,
            "recurrenceId": None,
            "origin": Origin(OriginKind.GOOGLE).stored(),
            "readOnly": True,
            "private": self.private,
            "external": {"ns": self.ns, "key": google_id},
            "googleEtag": etag,
        }
        return EventRecord.from_item(record)

    def _get(self, event_id: int) -> EventRecord | None:
        if event_id in self.work:
            return self.work[event_id]
        found = self.stores.events.get_many([event_id]).get(event_id)
        if found is not None and self._ours(found):
            self.before[event_id] = found
            self.work[event_id] = found
            return found
        return None

    def _drop(self, record: EventRecord) -> None:
        event_id = record.id
        if event_id not in self.work:
            self.before[event_id] = record
        self.work[event_id] = None

    def _children(self, master_id: int) -> list[EventRecord]:
        """The master's exceptions as this page leaves them (stored ones, minus those this page
        deleted, plus those it added)."""
        found = {c.id: c for c in self.stores.events.children(master_id) if self._ours(c)}
        for event_id, record in self.work.items():
            if record is not None and record.parent_id == master_id:
                found[event_id] = record
        current = [self.work.get(i, c) for i, c in found.items()]
        return [c for c in current if c is not None]

    def _with_cancelled(self, master: EventRecord, cancelled: set[str]) -> EventRecord:
        master = master.replaced({"googleCancelled": sorted(cancelled)})
        exdates = set(master.google_exdate) | cancelled
        try:
            return with_exdates(master, exdates)
        except InvalidInputError as e:
            self.report.note(f"event {master.id}: {e.message}")
            return master

    # ------------------------------------------------------------------ changes
    def _upsert(self, change: Upsert) -> None:
        event_id = self.eid(change.google_id)
        old = self.work.get(event_id)
        if old is not None and change.etag and old.google_etag == change.etag:
            self.report.unchanged += 1
            return
        for note in change.notes:
            self.report.note(f"event {change.google_id}: {note}")
        new = self._base(change.google_id, change.fields, change.etag)
        if new.kind == "master":
            was_master = old is not None and old.kind == "master"
            overrides = dict(old.overrides) if old is not None and was_master else {}
            new = new.replaced({"googleExdate": list(change.google_exdate), "overrides": overrides})
            if change.google_id in self.st.pending_parents:
                new = new.with_overrides(self._children(event_id))
                self.st.pending_parents.discard(change.google_id)
            cancelled = set(old.google_cancelled) if old is not None and was_master else set()
            cancelled |= set(self.st.pending_exdates.pop(change.google_id, []))
            if cancelled:
                new = self._with_cancelled(new, cancelled)
        elif old is not None and old.kind == "master":
            for child in self._children(event_id):
                self._drop(child)  # the series became one event: its exceptions go
        self.work[event_id] = new

    def _delete(self, change: Delete) -> None:
        event_id = self.eid(change.google_id)
        old = self.work.get(event_id)
        if old is None:
            return
        if old.kind == "master":
            for child in self._children(event_id):
                self._drop(child)
        elif old.kind == "child" and old.parent_id is not None:
            master = self._get(old.parent_id)
            external = master.external if master is not None else None
            master_key = str((external or {}).get("key") or "")
            if master is not None and master_key:
                self._cancel(change.google_id, master_key, str(old.recurrence_id))
                return
        self.work[event_id] = None

    def _instance(self, change: InstanceUpsert) -> None:
        child_id = self.eid(change.google_id)
        master_id = self.eid(change.master_id)
        old = self.work.get(child_id)
        if old is not None and change.etag and old.google_etag == change.etag:
            self.report.unchanged += 1
            return
        child = self._base(change.google_id, change.fields, change.etag).as_child(master_id, change.recurrence_id)
        self.work[child_id] = child
        master = self.work.get(master_id)
        if master is None or master.kind != "master":
            self.st.pending_parents.add(change.master_id)
            return
        moved_from = old.recurrence_id if old is not None and old.recurrence_id != change.recurrence_id else None
        new_master = master.with_overrides([child], without=[moved_from] if moved_from is not None else [])
        cancelled = set(master.google_cancelled)
        if change.recurrence_id in cancelled:  # a cancelled instance came back
            new_master = self._with_cancelled(new_master, cancelled - {change.recurrence_id})
        self.work[master_id] = new_master

    def _cancel(self, google_id: str, master_google_id: str, recurrence_id: str) -> None:
        child_id = self.eid(google_id)
        master_id = self.eid(master_google_id)
        if self.work.get(child_id) is not None:
            self.work[child_id] = None
        master = self.work.get(master_id)
        if master is None or master.kind != "master":
            pending = self.st.pending_exdates.setdefault(master_google_id, [])
            if recurrence_id not in pending:
                pending.append(recurrence_id)
            return
        overrides = {k: v for k, v in master.overrides.items() if k != recurrence_id and int(v["id"]) != child_id}
        cancelled = set(master.google_cancelled) | {recurrence_id}
        self.work[master_id] = self._with_cancelled(master.replaced({"overrides": overrides}), cancelled)

    # ------------------------------------------------------------------ writing
    def _commit(self) -> None:
        """Write what differs from the store: new events at version 1, changed ones at the next
        version, deleted ones gone (see the module docstring for why and how without a
        transaction)."""
        now = now_ms()
        puts: list[EventRecord] = []
        previous: dict[int, EventRecord] = {}
        deletes: list[EventRecord] = []
        for event_id, new in self.work.items():
            old = self.before.get(event_id)
            if new is None:
                if old is not None:
                    deletes.append(old)
                continue
            if old is not None and _comparable(old) == _comparable(new):
                continue
            if len(_months(new)) > MAX_INDEX_MONTHS:
                self.report.skipped += 1
                self.report.note(f"event {new.id}: spans more than {MAX_INDEX_MONTHS} months; skipped")
                continue
            if old is None:
                puts.append(new.replaced({"version": 1, "created": now, "updated": now}))
            else:
                previous[event_id] = old
                puts.append(new.replaced({"version": old.version + 1, "created": old.created or now, "updated": now}))
        if not puts and not deletes:
            return
        self._require_active_source()
        self.stores.events.batch_put(puts, previous=previous, delete=deletes)
        self._require_active_source(cleanup=True)
        self.report.created += len(puts) - len(previous)
        self.report.updated += len(previous)
        self.report.deleted += len(deletes)
        self.st.event_count += len(puts) - len(previous) - len(deletes)

    def _require_active_source(self, *, cleanup: bool = False) -> None:
        """ConflictError unless the source is still ACTIVE. After a write (``cleanup``), a source
        whose deletion started meanwhile gets this page's writes deleted again: its cascade may
        have listed its events before they landed."""
        record = self.stores.config.sources.get(self.source_id)
        if is_active(record):
            return
        if cleanup:
            self.stores.events.delete_by_source(self.source_id)
        raise ConflictError("the Google calendar's source was deleted while the sync wrote to it")
