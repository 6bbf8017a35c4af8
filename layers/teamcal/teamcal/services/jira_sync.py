"""Jira → teamcal sync of the Jira-backed sources (``jira``, ``sprint``, ``version``): resumable,
incremental, reconciled.

A run (:func:`run_sync`, under the connection's lease) visits every ACTIVE Jira-backed source of
every ACTIVE calendar and makes its events what Jira shows (:mod:`teamcal.jira.mapping`):

1. **Passes.** A source is synced in passes; a pass lists its Jira objects page by page and
   stores the next page's cursor after each page, so a run stopped by the time budget, throttling
   or a crash resumes at the next page, never from scratch.
2. **Incremental.** A ``jira`` source's pass asks only for issues ``updated >=`` the start of its
   last finished pass minus :data:`MARGIN_MS` (JQL reads the literal in the account's time zone,
   to the minute). An issue whose date was cleared comes back as updated and its event goes.
3. **Full reconciliation.** The first pass, a pass after the source's ``value`` changed, one
   every ``full_every_ms`` (template parameter), and one asked for (``POST /jira/sync``
   ``{"full": true}``) list everything the source shows (issues with a date set; every sprint
   of the board; every version of the project) and remember the Jira ids met (``seen``); at the
   end, events of objects not met (deleted, moved to another project, filtered out) are deleted.
   Sprints and versions are always listed whole (a board or a project has few).
4. **Throttling and outages.** 429 and 5xx (and no answer) are retried with exponential backoff
   and jitter, waiting at least Jira's ``Retry-After``, at most :data:`MAX_ATTEMPTS` tries and
   never past the time budget; then the run stops and the next resumes from the stored cursor.
5. **Credentials.** 401 / 403 mark the connection ``needs_reauth`` and pause its schedule.

Writes: per page, one BatchGetItem per 100 candidate events, then BatchWriteItem of what
differs (:meth:`teamcal.storage.events.EventRepository.batch_put`). No transaction: the lease
makes the sync the only writer of these sources' events (the events API refuses to touch them),
and a page is applied again from its stored cursor after a failure. Event ids are
``external_id(calendarId, "jira:<sourceId>", key)``: re-runs never duplicate.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from teamcal.errors import ConflictError
from teamcal.ids import external_id, now_ms
from teamcal.jira.client import JiraClient, Page
from teamcal.jira.credentials import JiraCredentials
from teamcal.jira.errors import JiraApiError, JiraAuthError, JiraConfigError, JiraTransientError
from teamcal.jira.mapping import (
    Desired,
    SourceConfig,
    check_fields,
    issue_events,
    issue_id_of,
    issue_jql,
    issue_keys,
    keys_kept,
    parse_source,
    search_fields,
    sprint_event,
    version_event,
)
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord
from teamcal.models.jira_state import JiraConnectionRecord, JiraSyncStateRecord
from teamcal.models.outcomes import SyncOutcome
from teamcal.models.sources import SourceRecord
from teamcal.services.events import JIRA_BACKED, calendar_zone
from teamcal.services.google_sync import SyncClock
from teamcal.services.stores import ConfigStores
from teamcal.storage.events import MAX_INDEX_MONTHS, EventRepository, months_overlapping
from teamcal.storage.google_schedules import ScheduleStore
from teamcal.storage.jira import JiraRepository
from teamcal.storage.secret_strings import SecretStrings

#: Tries of one request on 429 / 5xx / no answer, and the backoff's first and largest delay (s).
MAX_ATTEMPTS = 6
BASE_DELAY_S = 1.0
MAX_DELAY_S = 32.0
#: No new page is started with less than this left of the time budget (ms).
BUDGET_MARGIN_MS = 5_000
#: Incremental passes ask for issues updated since the last pass began minus this (ms): clock
#: skew, JQL's minute precision and issues updated while the last pass ran.
MARGIN_MS = 5 * 60_000
_MAX_NOTES = 20
_VOLATILE = ("version", "created", "updated")

ClientFactory = Callable[[str, JiraCredentials], JiraClient]


@dataclass(frozen=True)
class JiraStores:
    """Everything the Jira use cases read and write. ``secret_name``: the connection's secret."""

    config: ConfigStores
    events: EventRepository
    jira: JiraRepository
    secrets: SecretStrings
    secret_name: str
    schedules: ScheduleStore


@dataclass
class SourceReport:
    """What one run did to one source (shown by ``GET /jira/connection``)."""

    source_id: int
    kind: str
    mode: str = "incremental"
    pages: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    retries: int = 0
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
            "sourceId": self.source_id,
            "type": self.kind,
            "mode": self.mode,
            "pages": self.pages,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "retries": self.retries,
            "complete": self.complete,
            "error": self.error,
            "notes": list(self.notes),
        }


@dataclass
class RunResult:
    """One run: ``outcome`` is ``synced`` (every source complete), ``partial`` (time budget,
    throttling or a source's error: resumes next run), ``needs_reauth``, ``busy`` (another run
    holds the lease) or ``not_connected``."""

    outcome: SyncOutcome
    sources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    jira_calls: int = 0

    def to_dict(self) -> dict[str, Any]:
        """By wire names."""
        return {"outcome": self.outcome, "sources": self.sources, "error": self.error, "jiraCalls": self.jira_calls}


@dataclass(frozen=True)
class SyncOptions:
    """``full``: reconcile every source now; ``source_id``: only this source (its configuration
    errors are raised, not recorded); ``full_every_ms``: how often a full pass runs by itself."""

    full: bool = False
    source_id: int | None = None
    full_every_ms: int = 24 * 3_600_000


# ---------------------------------------------------------------------------- sources
def jira_sources(config: ConfigStores) -> list[tuple[SourceRecord, CalendarRecord]]:
    """Every ACTIVE Jira-backed source of every ACTIVE calendar, with its calendar (one Query on
    the calendars index, then one BatchGetItem per 100 sources)."""
    calendars = config.calendars.list_active()
    by_id = {c.id: c for c in calendars if c.source_ids}
    wanted = [s for c in by_id.values() for s in c.source_ids]
    found: list[tuple[SourceRecord, CalendarRecord]] = []
    for start in range(0, len(wanted), 100):
        for record in config.sources.get_many(wanted[start : start + 100]):
            calendar = by_id.get(record.calendar_id)
            if calendar is not None and record.active and record.event_type_key in JIRA_BACKED:
                found.append((record, calendar))
    return sorted(found, key=lambda pair: pair[0].id)


def _comparable(record: EventRecord) -> dict[str, Any]:
    """The stored attributes that matter for "did it change" (DynamoDB drops ``None`` attributes)."""
    return {k: v for k, v in record.to_item().items() if v is not None and v != [] and v != {} and k not in _VOLATILE}


def _object_of(key: str) -> str:
    """The Jira object an event key belongs to: the issue id, or the sprint / version key."""
    return issue_id_of(key) or key


class _SourceSync:
    """One source's pass (see the module docstring)."""

    def __init__(
        self,
        stores: JiraStores,
        client: JiraClient,
        config: SourceConfig,
        calendar: CalendarRecord,
        stored: JiraSyncStateRecord | None,
        context: _RunContext,
    ) -> None:
        self.stores = stores
        self.client = client
        self.config = config
        self.calendar = calendar
        #: The state as the pass goes on, and as last written (what the next write changes).
        self.state = stored or JiraSyncStateRecord(config.source_id)
        self.saved = stored
        self.context = context
        self.report = SourceReport(config.source_id, config.kind)
        self.zone = calendar_zone(calendar)

    def eid(self, key: str) -> int:
        return external_id(self.calendar.id, self.config.namespace, key)

    # ------------------------------------------------------------------ pass
    def _begin(self, now: int) -> None:
        st = self.state
        fingerprint = self.config.fingerprint()
        unfinished = st.pass_started is not None
        if unfinished and st.fingerprint == fingerprint and not (self.context.full and st.mode != "full"):
            self.report.mode = str(st.mode or "full")
            return
        last_full = st.last_full_at
        full = (
            self.context.full
            or self.config.kind != "jira"
            or st.fingerprint != fingerprint
            or last_full is None
            or now - int(last_full) >= self.context.full_every_ms
            or st.last_pass_at is None
        )
        self.state = st.evolved(
            mode="full" if full else "incremental",
            cursor=None,
            pass_started=now,
            since=None if full or st.last_pass_at is None else int(st.last_pass_at) - MARGIN_MS,
            seen=None,
            fingerprint=fingerprint,
        )
        self.report.mode = str(self.state.mode)

    def run(self) -> SourceReport:
        now = now_ms()
        self._begin(now)
        seen: set[str] = set(filter(None, str(self.state.seen or "").split(",")))
        full = self.state.mode == "full"
        while True:
            if self.context.clock.time_left_ms() < BUDGET_MARGIN_MS:
                self.report.note("stopped at the time budget; the next run resumes from the stored page")
                break
            cursor = self.state.cursor
            page = self._fetch(str(cursor) if cursor else None)
            met = self._apply(page)
            if full:
                seen |= met
            self.report.pages += 1
            self.state = self.state.evolved(cursor=page.cursor)
            if page.cursor is None:
                self.report.complete = True
                break
            self.state = self.state.evolved(seen=",".join(sorted(seen)) if full else None)
            self._save()
        if self.report.complete:
            if full:
                self._reconcile(seen)
                self.state = self.state.evolved(last_full_at=self.state.pass_started)
            self.state = self.state.evolved(
                last_pass_at=self.state.pass_started, pass_started=None, cursor=None, seen=None, since=None
            )
        else:
            self.state = self.state.evolved(seen=",".join(sorted(seen)) if full else None)
        self.state = self.state.evolved(last_run=self.report.to_dict(), error=None)
        self._save()
        return self.report

    def _save(self) -> None:
        self.state = self.state.evolved(calendar_id=self.calendar.id, kind=self.config.kind)
        self.stores.jira.save_state(self.state, self.saved)
        self.saved = self.state

    # ------------------------------------------------------------------ Jira
    def _fetch(self, cursor: str | None) -> Page:
        config = self.config
        if config.kind == "jira":
            since = self.state.since
            jql = issue_jql(config, None if since is None else int(since), self.context.account_zone)
            fields = search_fields(config)
            return self.context.retrying(lambda: self.client.search(jql, fields, cursor), self.report)
        if config.kind == "sprint":
            board = int(config.board_id or 0)
            return self.context.retrying(lambda: self.client.sprints(board, cursor), self.report)
        project = int(config.project_id or 0)
        return self.context.retrying(lambda: self.client.versions(project, cursor), self.report)

    def _desired(self, page: Page) -> tuple[dict[int, Desired], set[int], set[str]]:
        """Events the page's objects show (by event id), every candidate event id (shown or
        not: a cleared date's event must go) and the Jira objects met."""
        desired: dict[int, Desired] = {}
        candidates: set[int] = set()
        met: set[str] = set()
        for item in page.items:
            if self.config.kind == "jira":
                issue_id = str(item.get("id"))
                met.add(issue_id)
                candidates.update(self.eid(k) for k in issue_keys(self.config, issue_id))
                events = issue_events(self.config, item, self.context.field_names, self.zone, self.context.site)
            else:
                key = f"{self.config.kind}:{item.get('id')}"
                met.add(key)
                candidates.add(self.eid(key))
                one = sprint_event(self.config, item, self.zone) if self.config.kind == "sprint" else None
                one = version_event(self.config, item, self.zone) if self.config.kind == "version" else one
                events = [one] if one is not None else []
            for event in events:
                desired[self.eid(event.key)] = event
        return desired, candidates, met

    # ------------------------------------------------------------------ writes
    def _record(self, event_id: int, desired: Desired) -> EventRecord:
        """The event ``desired`` shows (a read-only single event of origin Jira)."""
        item: dict[str, Any] = {
            **desired.fields,
            "id": event_id,
            "calendarId": self.calendar.id,
            "eventTypeConfigId": self.config.source_id,
            "reporter": None,
            "parentId": None,
            "recurrenceId": None,
            "origin": "jira",
            "readOnly": True,
            "private": False,
            "external": {"ns": self.config.namespace, "key": desired.key},
        }
        return EventRecord.from_item(item)

    def _ours(self, record: EventRecord) -> bool:
        return (record.external or {}).get("ns") == self.config.namespace

    def _apply(self, page: Page) -> set[str]:
        desired, candidates, met = self._desired(page)
        before = {i: r for i, r in self.stores.events.get_many(candidates).items() if self._ours(r)}
        self.context.ddb_calls += (len(candidates) + 99) // 100
        puts: list[EventRecord] = []
        previous: dict[int, EventRecord] = {}
        now = now_ms()
        for event_id, want in desired.items():
            new = self._record(event_id, want)
            old = before.get(event_id)
            if old is not None and _comparable(old) == _comparable(new):
                self.report.unchanged += 1
                continue
            if len(months_overlapping(new.start_date, new.end_date)) > MAX_INDEX_MONTHS:
                self.report.skipped += 1
                self.report.note(f"{want.key}: spans more than {MAX_INDEX_MONTHS} months; skipped")
                continue
            if old is None:
                puts.append(new.replaced({"version": 1, "created": now, "updated": now}))
            else:
                previous[event_id] = old
                puts.append(new.replaced({"version": old.version + 1, "created": old.created or now, "updated": now}))
        deletes = [r for i, r in before.items() if i not in desired]
        self._write(puts, previous, deletes)
        return met

    def _write(self, puts: list[EventRecord], previous: dict[int, EventRecord], deletes: list[EventRecord]) -> None:
        if not puts and not deletes:
            return
        writes = self.stores.events.batch_put(puts, previous=previous, delete=deletes)
        self.context.ddb_calls += (writes + 24) // 25
        record = self.stores.config.sources.get(self.config.source_id)
        self.context.ddb_calls += 1
        if record is None or not record.active:
            self.stores.events.delete_by_source(self.config.source_id)
            raise ConflictError(f"source {self.config.source_id} was deleted while the sync wrote to it")
        self.report.created += len(puts) - len(previous)
        self.report.updated += len(previous)
        self.report.deleted += len(deletes)

    def _reconcile(self, seen: set[str]) -> None:
        """End of a full pass: events of objects not met, or of fields the value no longer names, go."""
        stored = [r for r in self.stores.events.by_source(self.config.source_id) if self._ours(r)]
        self.context.ddb_calls += 1 + (len(stored) + 99) // 100
        keys = [str((r.external or {})["key"]) for r in stored]
        kept_fields = keys_kept(self.config, keys) if self.config.kind == "jira" else set(keys)
        gone = [r for r, key in zip(stored, keys, strict=True) if _object_of(key) not in seen or key not in kept_fields]
        self._write([], {}, gone)


@dataclass
class _RunContext:
    """What the sources of one run share: the clock, the field list, counters."""

    clock: SyncClock
    site: str
    account_zone: str
    full: bool
    full_every_ms: int
    field_schema: dict[str, str] | None = None
    field_names: dict[str, str] = field(default_factory=dict)
    ddb_calls: int = 0

    def retrying(self, call: Callable[[], Page], report: SourceReport) -> Page:
        """``call()``, retried on JiraTransientError (see the module docstring, item 4)."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                return call()
            except JiraTransientError as e:
                ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2**attempt)
                delay = ceiling / 2 + self.clock.random() * ceiling / 2
                if e.retry_after is not None:
                    delay = max(delay, e.retry_after * (1 + 0.2 * self.clock.random()))
                if attempt + 1 >= MAX_ATTEMPTS or self.clock.time_left_ms() - delay * 1000 < BUDGET_MARGIN_MS:
                    raise
                report.retries += 1
                self.clock.sleep(delay)
        raise AssertionError("unreachable")


# ---------------------------------------------------------------------------- the run
def mark_needs_reauth(stores: JiraStores, conn: JiraConnectionRecord, message: str) -> None:
    """Pause the schedule and mark the connection ``needs_reauth`` with ``message`` (``conn``:
    the connection as read).

    Raises:
        ConflictError: the connection is gone (disconnected).
    """
    stores.schedules.set_enabled(0, False)
    marked = conn.evolved(status="needs_reauth", schedule_state="DISABLED", last_error=message)
    stores.jira.update_connection(marked, conn)


def run_sync(
    stores: JiraStores, connect: ClientFactory, clock: SyncClock, options: SyncOptions, *, trigger: str
) -> RunResult:
    """One sync run (``trigger``: ``schedule`` or ``api``) of every Jira-backed source, within
    the time budget, under the connection's lease. Errors are recorded on the connection and the
    source they concern; throttling stops the run (the next resumes); 401 / 403 mark the
    connection ``needs_reauth`` and pause its schedule.

    Raises:
        JiraConfigError: only with ``options.source_id``: that source cannot be synced as configured.
    """
    items = stores.jira.load()
    conn = items.connection
    if conn is None:
        stores.schedules.delete(0)
        return RunResult(SyncOutcome.NOT_CONNECTED)
    if conn.status == "needs_reauth":
        return RunResult(SyncOutcome.NEEDS_REAUTH, error=conn.last_error)
    started = now_ms()
    lease = uuid.uuid4().hex
    if not stores.jira.acquire_lease(lease, started, started + clock.time_left_ms() + 60_000):
        return RunResult(SyncOutcome.BUSY)
    result = RunResult(SyncOutcome.SYNCED)
    client: JiraClient | None = None
    try:
        text = stores.secrets.get(stores.secret_name)
        if text is None:
            result.outcome, result.error = (
                SyncOutcome.NEEDS_REAUTH,
                "the stored credentials are missing: PUT /jira/connection again",
            )
            mark_needs_reauth(stores, conn, result.error)
            return result
        client = connect(str(conn.base_url), JiraCredentials.from_json(text))
        context = _RunContext(
            clock,
            site=str(conn.base_url),
            account_zone=str(conn.time_zone or "UTC"),
            full=options.full,
            full_every_ms=options.full_every_ms,
        )
        _run_sources(stores, client, conn, items.states, context, options, result)
    finally:
        stores.jira.release_lease(lease)
        result.jira_calls = client.calls if client is not None else 0
    finished = now_ms()
    ran = conn.evolved(
        last_run={"trigger": trigger, "started": started, "finished": finished, **result.to_dict()},
        last_error=result.error,
    )
    if result.outcome == SyncOutcome.SYNCED:
        ran = ran.evolved(last_sync_at=finished)
    try:
        # Only what this run changes is written: a needs_reauth mark made meanwhile stays
        stores.jira.update_connection(ran, conn)
    except ConflictError:
        result.outcome = SyncOutcome.NOT_CONNECTED  # disconnected while the run went on
    return result


def _schema(client: JiraClient, context: _RunContext, report: SourceReport) -> dict[str, str]:
    if context.field_schema is None:
        raw = context.retrying(lambda: Page([client.fields()], None), report).items[0]
        context.field_schema = {str(k): str(v) for k, v in raw.items()}
    return context.field_schema


def _run_sources(
    stores: JiraStores,
    client: JiraClient,
    conn: JiraConnectionRecord,
    states: dict[int, JiraSyncStateRecord],
    context: _RunContext,
    options: SyncOptions,
    result: RunResult,
) -> None:
    sources = jira_sources(stores.config)
    present = {r.id for r, _ in sources}
    for gone in set(states) - present:
        stores.jira.delete_state(gone)  # the source was deleted (its cascade took the events)
    if options.source_id is not None:
        sources = [(r, c) for r, c in sources if r.id == options.source_id]
    for record, calendar in sources:
        source_id = record.id
        report = SourceReport(source_id, record.event_type_key)
        try:
            config = parse_source(record)
            if config.kind == "jira":
                check_fields(config, _schema(client, context, report))
            retried = report.retries  # the field list's retries count for the first issue source
            report = _SourceSync(stores, client, config, calendar, states.get(source_id), context).run()
            report.retries += retried
        except JiraAuthError as e:
            result.outcome, result.error = SyncOutcome.NEEDS_REAUTH, e.message
            mark_needs_reauth(stores, conn, e.message)
            _source_error(stores, source_id, calendar, report, e.message, result)
            return
        except JiraTransientError as e:
            result.outcome = SyncOutcome.PARTIAL
            result.error = f"source {source_id}: {e.message}; the next run resumes from the stored page"
            _source_error(stores, source_id, calendar, report, result.error, result)
            return
        except JiraConfigError as e:
            _source_error(stores, source_id, calendar, report, e.message, result)
            result.outcome, result.error = SyncOutcome.PARTIAL, f"source {source_id}: {e.message}"
            if options.source_id is not None:
                raise
            continue
        except (JiraApiError, ConflictError) as e:
            result.outcome, result.error = SyncOutcome.PARTIAL, f"source {source_id}: {e.message}"
            _source_error(stores, source_id, calendar, report, e.message, result)
            continue
        result.sources.append(report.to_dict())
        if not report.complete:
            result.outcome = SyncOutcome.PARTIAL


def _source_error(
    stores: JiraStores,
    source_id: int,
    calendar: CalendarRecord,
    report: SourceReport,
    message: str,
    result: RunResult,
) -> None:
    report.error = message
    result.sources.append(report.to_dict())
    # Only these attributes are written: an unfinished pass resumes from its stored page
    stores.jira.save_state(
        JiraSyncStateRecord(source_id, calendar_id=calendar.id, kind=report.kind, error=message), None
    )


def default_clock(budget_ms: int) -> SyncClock:
    """A clock with ``budget_ms`` from now (tests and the benchmark)."""
    deadline = time.monotonic() + budget_ms / 1000
    return SyncClock(time_left_ms=lambda: int((deadline - time.monotonic()) * 1000))
