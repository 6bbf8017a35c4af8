"""One run of an iCalendar import over a parsed file (:class:`ImportRun`).

The run reads the file with :mod:`teamcal.ical.reader` (file-level errors: a
400, or a FAILED job for an upload), converts one VEVENT at a time (:mod:`teamcal.ical.convert`;
no rule is ever expanded) and writes chunks of :data:`CHUNK` VEVENTs with BatchWriteItem
(:meth:`EventRepository.batch_put`), saving the job's progress after every chunk.

Decisions:

* **Identity.** The event mirroring a VEVENT has the id ``external_id(calendarId, "ics", UID)``;
  an exception (RECURRENCE-ID) ``external_id(calendarId, "ics", "UID#<RECURRENCE-ID>")`` (the
  RECURRENCE-ID as a UTC instant, a local wall time if floating, or a date). Importing the same
  file again finds the same events: nothing is duplicated. Imported events keep their UID
  (``external``) and export with it.
* **Updates.** A stored event is replaced when the VEVENT is newer: a higher SEQUENCE, or the
  same SEQUENCE and a later LAST-MODIFIED (RFC 5545 §3.8.7.4); otherwise the VEVENT is skipped
  (so edits made in teamcal survive a re-import of the same file). An updated event keeps its
  source, reporter, ``created`` and exceptions. Import never deletes events missing from a file.
* **Duplicates.** Several VEVENTs with the same UID and no RECURRENCE-ID: the newest (SEQUENCE,
  LAST-MODIFIED, then the last in the file) is imported, the others are skipped and reported in
  ``errors``. The same for two exceptions of one occurrence.
* **Exceptions** become CCJ children of their master (``parentId`` + ``recurrenceId``) and
  entries of the master's ``overrides``. An exception whose master is neither in the file nor
  stored is imported as a single event (as recurring-ical-events shows it). An exception with
  STATUS:CANCELLED (Google's deleted occurrence) becomes an EXDATE of its master; a cancelled
  event or series is skipped. An exception of an occurrence an EXDATE removed is skipped.
* **Reach.** UID (+ RECURRENCE-ID) matching is within the calendar imported into: a VEVENT whose
  id names a stored event of another calendar (moved there since), a read-only one, or one the
  importing token may not edit, fails with :data:`FOREIGN_EVENT` and changes nothing.
* **Writes** are batches, not transactions (a file can hold 50,000 events). Index items are
  written before main items and the job records a checkpoint after every chunk, so a run that
  stops (timeout, throttling) leaves a job saying so; running it again (an upload resumes by
  itself; an inline import by sending the file again) skips what is done.
* **What recurring-ical-events forgives** is imported as it reads it, with a warning on the job
  naming the VEVENT (``VEVENT <UID>: ...``, at most :data:`MAX_WARNINGS`); see
  :mod:`teamcal.ical.convert` for swapped or mixed DTSTART/DTEND, unknown TZIDs, sloppy RRULEs.
  Here: an exception that carries an RRULE is one moved occurrence (its RRULE is not expanded);
  if it names no occurrence of its series and is older (lower SEQUENCE) than the series, it is
  superseded and skipped. Further RRULEs of a VEVENT become series of their own
  (``UID#RRULE<n>``, DTSTART excluded so it is not doubled); RDATE periods that last otherwise
  than the event become moved occurrences (``UID#RDATE<value>``) with the period's times. A
  VEVENT with no occurrence (UNTIL before DTSTART) is skipped and reported.
  RECURRENCE-ID;RANGE=THISANDFUTURE splits the series there; the later part, moved as that
  exception moved, is a series of its own (``UID#THISANDFUTURE<RECURRENCE-ID>``); exceptions of
  later occurrences attach to it. Such a series is rebuilt on every import of its file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from teamcal.access import Action, Answer, decide, is_read_only
from teamcal.auth.principal import Principal
from teamcal.errors import InvalidInputError, NotFoundError, TeamcalError
from teamcal.ical.convert import Context, Moment, VEventData, parse_vevent, recurrence_id_text, to_data
from teamcal.ical.errors import VEventError, VEventSkipped
from teamcal.ical.reader import IcsDocument, VEventSpan
from teamcal.ical.zones import ZoneResolver, named_zone
from teamcal.ids import external_id, now_ms
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord, input_fields, override_entry
from teamcal.models.ical import ImportOutcome
from teamcal.models.import_job import ImportJobRecord
from teamcal.models.sources import SourceRecord
from teamcal.recurrence import RecurrenceError, Series, parse_ref
from teamcal.recurrence.expand import is_excluded, locate
from teamcal.recurrence.split import shifted, split_following
from teamcal.services.events import calendar_zone
from teamcal.services.ical.stores import IcalStores
from teamcal.storage.events import MAX_INDEX_MONTHS, months_overlapping
from teamcal.storage.import_jobs import MAX_ERRORS

#: Why a VEVENT matching an event the import may not change is not imported.
FOREIGN_EVENT = "its UID names an event of another calendar, or one you may not change; it was left as it is"
#: VEVENTs per write batch and progress update.
CHUNK = 250


# ---------------------------------------------------------------------------- import: the run
#: Warnings kept on a job (per-VEVENT notes beyond it are counted in one last line).
MAX_WARNINGS = 100


def rid_key(moment: Moment) -> str:
    """A RECURRENCE-ID as a stable text for identity (independent of how the zone is named):
    ``YYYYMMDD``, ``YYYYMMDDTHHMMSS`` (floating) or the UTC instant ``YYYYMMDDTHHMMSSZ``."""
    if moment.kind == "date":
        return moment.value.strftime("%Y%m%d")
    if moment.kind == "floating":
        return moment.value.strftime("%Y%m%dT%H%M%S")
    return moment.aware("UTC").astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class _Group:
    """The VEVENTs of one UID: converted ones, and how many of the file's are still to come."""

    key: str
    first_index: int
    expected: int
    seen: int = 0
    items: list[VEventData] = field(default_factory=list)
    spans: dict[int, VEventSpan] = field(default_factory=dict)
    master_failed: str | None = None


def _ranges(indices: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _in_ranges(index: int, ranges: list[list[int]]) -> bool:
    return any(a <= index <= b for a, b in ranges)


class ImportRun:
    """One run of an import job over an indexed file (see the module docstring).

    ``job`` is the stored job (updated in place and saved after each chunk, conditioned on
    ``run_id``); ``deadline()`` says when to stop and leave the job INTERRUPTED: it is asked
    before each VEVENT after the first and before each chunk is written.
    """

    def __init__(
        self,
        stores: IcalStores,
        job: ImportJobRecord,
        run_id: str,
        calendar: CalendarRecord,
        source: SourceRecord,
        doc: IcsDocument,
        deadline: Callable[[], bool],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.stores = stores
        self.job = job
        self.run_id = run_id
        self.calendar = calendar
        self.source = source
        self.doc = doc
        self.deadline = deadline
        self.clock = clock
        self.principal = Principal.from_context(job.principal) if job.principal else None
        self.zone = calendar_zone(calendar)
        self.ctx = Context(self.zone, ZoneResolver(doc.timezones), self._x_wr_timezone())
        self.groups: dict[str, _Group] = {}
        self.ready: list[_Group] = []
        self.ready_count = 0
        self.flushes = 0
        self.done_after: list[int] = []

    def _x_wr_timezone(self) -> str | None:
        raw = self.doc.properties.get("X-WR-TIMEZONE")
        if not raw:
            return None
        zone = named_zone(raw)
        if zone is None:
            self._warnings().append(f"X-WR-TIMEZONE {raw[:64]!r} is not a known time zone: ignored")
        return zone

    # ------------------------------------------------------------------ driver
    def run(self) -> None:
        job, doc = self.job, self.doc
        job.total = len(doc.events)
        checkpoint = job.checkpoint or 0
        done_ranges = list(job.done_after or [])
        done_keys = {self._key(span) for span in doc.events[:checkpoint]}
        if checkpoint == 0:
            self._warn_document()
        counts: Counter[str] = Counter(self._key(span) for span in doc.events)
        next_index = checkpoint
        parsed = 0
        for span in doc.events[checkpoint:]:
            next_index = span.index + 1
            key = self._key(span)
            if key in done_keys or _in_ranges(span.index, done_ranges):
                self.done_after.append(span.index)
                continue
            # the budget is checked before every VEVENT (each costs at most a bounded rule's CPU),
            # not only per chunk, once some series is complete: what is complete is written before
            # stopping, so every run makes progress
            if parsed and self.ready and self.deadline():
                self._flush(span.index, anyway=True)  # keep what is done: the next run goes on from here
                self._interrupt(span.index)
                return
            parsed += 1
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(key, span.index, counts[key])
            self._add(group, span)
            if group.seen == group.expected:
                del self.groups[key]
                self.ready.append(group)
                self.ready_count += group.expected
            if self.ready_count >= CHUNK and not self._flush(next_index):
                return
        for group in list(self.groups.values()):  # cannot happen: every group completes
            self.ready.append(group)
        self.groups.clear()
        if self._flush(len(doc.events), last=True):
            self._finish()

    def _key(self, span: VEventSpan) -> str:
        return span.uid if span.uid is not None else f"\x00{span.index}"

    def _warnings(self) -> list[str]:
        """The job's warnings (an empty list set on a job that had none)."""
        if self.job.warnings is None:
            self.job.warnings = []
        return self.job.warnings

    def _warn_document(self) -> None:
        warnings = self._warnings()
        warnings.extend(self.doc.warnings)
        for name, count in sorted(self.doc.ignored.items()):
            warnings.append(f"{count} {name} component(s) ignored: only VEVENTs are imported")
        if not self.doc.events:
            warnings.append("the file holds no VEVENT")

    def _add(self, group: _Group, span: VEventSpan) -> None:
        group.seen += 1
        group.spans[span.index] = span
        text = self.doc.vevent_text(span)
        try:
            data = to_data(parse_vevent(text), span.index, text, self.ctx)
        except VEventSkipped as e:
            self._outcome(span, ImportOutcome.SKIPPED, e.reason)
            if span.recurrence_id is None:
                group.master_failed = e.reason
            return
        except VEventError as e:
            self._outcome(span, ImportOutcome.FAILED, e.reason)
            if span.recurrence_id is None:
                group.master_failed = e.reason
            return
        except TeamcalError as e:
            self._outcome(span, ImportOutcome.FAILED, e.message)
            if span.recurrence_id is None:
                group.master_failed = e.message
            return
        name = f"VEVENT {data.uid[:100]}" + (f" {span.recurrence_id.rsplit(':', 1)[-1]}" if span.recurrence_id else "")
        for note in data.warnings:
            self._warn(f"{name}: {note}")
        group.items.append(data)

    def _warn(self, note: str) -> None:
        """Add a warning to the job (at most :data:`MAX_WARNINGS`; then one line counts the rest)."""
        warnings = self._warnings()
        if note in warnings:
            return
        if len(warnings) < MAX_WARNINGS:
            warnings.append(note)
            return
        self.job.add("warningsOmitted")
        omitted = self.job.count("warningsOmitted")
        warnings[-1] = f"... and {omitted + 1} more warnings"

    def _outcome(
        self, span: VEventSpan | None, outcome: ImportOutcome, reason: str | None = None, uid: str | None = None
    ) -> None:
        job = self.job
        job.add(outcome.value)
        job.add("processed")
        if reason is None:
            return
        if job.errors is None:
            job.errors = []
        errors = job.errors
        if len(errors) >= MAX_ERRORS:
            job.add("errorsOmitted")
            return
        shown_uid = uid or (span.uid if span is not None and span.uid else None)
        if shown_uid is None and span is not None:
            shown_uid = f"(no UID: VEVENT #{span.index + 1}, line {self.doc.line_number(span.first)})"
        entry: dict[str, Any] = {"uid": shown_uid or "?", "reason": reason}
        if span is not None and span.recurrence_id:
            entry["recurrenceId"] = span.recurrence_id.rsplit(":", 1)[-1]
        errors.append(entry)

    def _flush(self, next_index: int, *, last: bool = False, anyway: bool = False) -> bool:
        """Write the ready groups and save progress (the last flush leaves saving to
        :meth:`_finish`); False (job INTERRUPTED) when out of time, unless ``anyway`` (the caller
        interrupts right after)."""
        if self.ready and not anyway and self.deadline():
            self._interrupt(next_index)
            return False
        groups, self.ready, self.ready_count = self.ready, [], 0
        if groups:
            if self.flushes:
                self._require_source()  # the first chunk follows the caller's own check
            self.flushes += 1
            writes = _Writes()
            ids = self._ids(groups)
            existing = self.stores.events.get_many(ids) if ids else {}
            for group in groups:
                if any(not self._may_change(existing[i]) for i in self._ids([group]) if i in existing):
                    for span in group.spans.values():
                        writes.outcome(span, ImportOutcome.FAILED, FOREIGN_EVENT)
                    continue
                self._resolve(group, existing, writes)
            self.stores.events.batch_put(writes.records.values(), previous=writes.previous, delete=writes.deletes)
            self._sweep_if_source_gone(list(writes.records.values()))
            for span, outcome, reason, uid in writes.outcomes:
                self._outcome(span, outcome, reason, uid)
            for group in groups:
                self.done_after.extend(group.spans)
        checkpoint = min([g.first_index for g in self.groups.values()] + [next_index])
        self.job.checkpoint = checkpoint
        self.job.done_after = _ranges(i for i in self.done_after if i >= checkpoint)
        if not last:
            self.stores.jobs.save(self.job, self.run_id)
        return True

    def _may_change(self, stored: EventRecord) -> bool:
        """Whether this import may change the stored event its UID matches: one of the calendar
        imported into that the importing token may edit (:mod:`teamcal.access`, rule 8); the
        token is the job's, kept for the worker (jobs without one: the calendar check only)."""
        if stored.calendar_id != self.calendar.id or is_read_only(stored):
            return False
        return (
            self.principal is None or decide(self.principal, Action.EDIT_EVENT, self.calendar, stored) is Answer.ALLOW
        )

    def _require_source(self) -> None:
        source = self.stores.config.sources.get(self.source.id)
        if source is None or not source.active:
            raise NotFoundError(f"source {self.source.id} was deleted during the import")

    def _sweep_if_source_gone(self, written: list[EventRecord]) -> None:
        """After a batch write (not conditioned: BatchWriteItem has no conditions), read the source
        again: when a delete of it (or of its calendar) started meanwhile, its cascade may already
        have swept the events, so this run deletes what it just wrote and stops (no orphans).
        The cascade marks the source DELETING before it sweeps, so either it sees these events or
        this check sees the mark.

        Raises:
            NotFoundError: the source was deleted during the import.
        """
        source = self.stores.config.sources.get(self.source.id)
        if source is not None and source.active:
            return
        if written:
            self.stores.events.batch_put((), delete=written)
        raise NotFoundError(f"source {self.source.id} was deleted during the import")

    def _interrupt(self, next_index: int) -> None:
        pending = [g.first_index for g in self.groups.values()] + [g.first_index for g in self.ready]
        checkpoint = min([*pending, next_index])
        job = self.job
        job.checkpoint = checkpoint
        job.done_after = _ranges(i for i in self.done_after if i >= checkpoint)
        job.status = "INTERRUPTED"
        job.message = f"stopped after {job.count('processed')} of {job.count('total')} VEVENTs (time limit); " + (
            "it resumes by itself" if job.key else "send the same file again to finish"
        )
        job.release()
        self.stores.jobs.save(job, self.run_id)

    def _finish(self) -> None:
        job = self.job
        failed = job.count(ImportOutcome.FAILED.value)
        done = sum(job.count(k.value) for k in (ImportOutcome.CREATED, ImportOutcome.UPDATED, ImportOutcome.SKIPPED))
        if failed == 0:
            job.status = "SUCCEEDED"
        elif done > 0:
            job.status = "COMPLETED_WITH_ERRORS"
        else:
            job.status = "FAILED"
            job.message = f"no VEVENT could be imported ({failed} failed: see errors)"
        job.finished = self.clock()
        job.checkpoint = len(self.doc.events)
        job.done_after = None
        job.release()
        self.stores.jobs.save(job, self.run_id)

    # ------------------------------------------------------------------ resolution
    def _master_id(self, uid: str) -> int:
        return external_id(self.calendar.id, "ics", uid)

    def _child_id(self, uid: str, moment: Moment) -> int:
        return external_id(self.calendar.id, "ics", f"{uid}#{rid_key(moment)}")

    def _ids(self, groups: list[_Group]) -> list[int]:
        ids: list[int] = []
        for group in groups:
            for item in group.items:
                ids.append(self._master_id(item.uid))
                if item.recurrence_id is not None:
                    ids.append(self._child_id(item.uid, item.recurrence_id))
                ids.extend(self._master_id(f"{item.uid}#RRULE{n}") for n in range(2, len(item.extra_rules) + 2))
                ids.extend(self._master_id(f"{item.uid}#RDATE{p[0]}") for p in item.periods)
        return list(dict.fromkeys(ids))

    def _newest(self, items: list[VEventData], group: _Group, writes: _Writes, what: str) -> VEventData:
        keep = max(items, key=lambda d: (d.sequence, d.last_modified or 0, d.index))
        for item in items:
            if item is not keep:
                writes.outcome(
                    group.spans[item.index],
                    ImportOutcome.SKIPPED,
                    f"duplicate {what}: VEVENT #{keep.index + 1} (newer or later in the file) was imported instead",
                )
        return keep

    def _pick(self, group: _Group, writes: _Writes) -> tuple[VEventData | None, list[VEventData]]:
        """The group's master and exceptions, one VEVENT per UID / RECURRENCE-ID (duplicates
        reported)."""
        masters = [d for d in group.items if d.recurrence_id is None]
        by_rid: dict[str, list[VEventData]] = {}
        for item in group.items:
            if item.recurrence_id is not None:
                by_rid.setdefault(rid_key(item.recurrence_id), []).append(item)
        master = self._newest(masters, group, writes, "UID") if masters else None
        return master, [self._newest(v, group, writes, "RECURRENCE-ID") for v in by_rid.values()]

    def _resolve(self, group: _Group, existing: dict[int, EventRecord], writes: _Writes) -> None:
        master, children = self._pick(group, writes)
        if master is None and group.master_failed is not None:
            for child in children:
                writes.outcome(
                    group.spans[child.index], ImportOutcome.FAILED, f"its series failed: {group.master_failed}"
                )
            return
        uid = (master or children[0]).uid if (master or children) else ""
        if not uid:
            return
        stored = existing.get(self._master_id(uid))
        base = self._master(master, stored, group, writes, force=any(c.this_and_future for c in children))
        if base is _CANCELLED:
            for child in children:
                writes.outcome(group.spans[child.index], ImportOutcome.SKIPPED)
            return
        series = base.series() if isinstance(base, EventRecord) and base.kind == "master" else None
        if series is None or not isinstance(base, EventRecord):
            for child in children:
                self._orphan(child, existing, group, writes)
            return
        final = _MasterChanges(base)
        if master is not None and base is not stored:
            self._extra_rules(master, base, existing, writes)
            self._periods(master, series, final, existing, writes)
        tafs = sorted((c for c in children if c.this_and_future), key=lambda c: _rid_ms(c, self.zone))
        children = [c for c in children if not c.this_and_future]
        children = self._ruled_children(master, series, children, existing, group, writes)
        segments = [_Segment(None, dt.timedelta(0), series, final)]
        for taf in tafs:
            self._this_and_future(taf, segments, existing, group, writes, children)
        for child in children:
            segment = _segment_of(segments, _rid_ms(child, self.zone))
            ref_text = _shifted_rid(child, segment, self.zone)
            self._child(child, segment.series, segment.final, existing, group, writes, ref_text)
        self._write_segments(segments, base, stored, existing, writes)

    def _write_segments(
        self,
        segments: list[_Segment],
        base: EventRecord,
        stored: EventRecord | None,
        existing: dict[int, EventRecord],
        writes: _Writes,
    ) -> None:
        """Write each (part of the) series whose exceptions or EXDATEs changed."""
        for segment in segments:
            if not segment.final.changed:
                continue
            record = segment.final.record()
            before = stored if segment.first else existing.get(record.id)
            if before is not None and record is not before and record.version == before.version:
                record = record.replaced({"version": before.version + 1, "updated": self.clock()})
            writes.put(record, before)

    def _this_and_future(
        self,
        taf: VEventData,
        segments: list[_Segment],
        existing: dict[int, EventRecord],
        group: _Group,
        writes: _Writes,
        children: list[VEventData],
    ) -> None:
        """RECURRENCE-ID;RANGE=THISANDFUTURE as recurring-ical-events applies it: the occurrence
        it names and every later one move as it moved and take its duration and text. The last
        series is split there (:func:`split_following`); the later part becomes a series of its
        own (``UID#THISANDFUTURE<RECURRENCE-ID>``), moved (:func:`shifted`). When it names no
        occurrence it is a plain exception (appended to ``children``)."""
        assert taf.recurrence_id is not None
        segment = segments[-1]
        span = group.spans[taf.index]
        if bool(taf.fields["allDay"]) != segment.series.all_day:
            self._warn(f"VEVENT {taf.uid[:100]}: RANGE=THISANDFUTURE changes all-day and timed: only its occurrence")
            children.append(taf)
            return
        try:
            series = segment.series
            text = _shifted_rid(taf, segment, self.zone)
            split = split_following(
                series, text or recurrence_id_text(taf.recurrence_id, series.all_day, series.time_zone)
            )
        except RecurrenceError:
            children.append(taf)
            return
        zone = segment.series.time_zone
        original = _rid_wall(taf, segment.series)
        if segment.series.all_day:
            first = dt.date.fromisoformat(str(taf.fields["allDayStart"]))
            last = dt.date.fromisoformat(str(taf.fields["allDayEnd"]))
            delta = dt.timedelta(days=(first - original.date()).days)
            duration = ((last - first).days + 1) * 86_400_000
        else:
            wall = dt.datetime.fromtimestamp(int(taf.fields["startDate"]) / 1000, ZoneInfo(zone)).replace(tzinfo=None)
            delta = wall - original
            duration = int(taf.fields["endDate"]) - int(taf.fields["startDate"])
        try:
            moved = shifted(split.after, delta - segment.offset, duration)
        except RecurrenceError as e:
            writes.outcome(span, ImportOutcome.FAILED, f"RANGE=THISANDFUTURE: {e.message}")
            return
        if split.before is None:
            segments.pop()
            event_id = segment.final.base.id
        else:
            segment.final.base = segment.final.base.replaced(input_fields(split.before)).normalized(zone)
            writes.amend(segment.final.base)  # the master written for the file ends before the split
            segment.series = split.before
            event_id = self._master_id(f"{taf.uid}#THISANDFUTURE{rid_key(taf.recurrence_id)}")
        stored = existing.get(event_id)
        data = dataclasses.replace(taf, fields={**taf.fields, **input_fields(moved)}, recurrence_id=None)
        try:
            record = self._record(data, stored, event_id)
        except VEventError as e:
            writes.outcome(span, ImportOutcome.FAILED, e.reason)
            return
        writes.put(record, stored)
        writes.outcome(span, ImportOutcome.UPDATED if stored is not None else ImportOutcome.CREATED)
        moved_series = record.series() if record.kind == "master" else None
        if moved_series is not None:
            segments.append(_Segment(_rid_ms(taf, self.zone), delta, moved_series, _MasterChanges(record), first=False))

    def _ruled_children(
        self,
        master: VEventData | None,
        series: Series,
        children: list[VEventData],
        existing: dict[int, EventRecord],
        group: _Group,
        writes: _Writes,
    ) -> list[VEventData]:
        """Exceptions that carry their own RRULE (how some clients write edits), read as
        recurring-ical-events does: one moved occurrence when the RECURRENCE-ID names an
        occurrence of the series (the RRULE is ignored, with a warning); otherwise superseded
        and skipped when older (lower SEQUENCE) than the series, else an event of its own.
        Returns the exceptions that apply to the series."""
        plain = []
        for child in children:
            if not child.fields.get("recurrence") or child.this_and_future:
                plain.append(child)
                continue
            assert child.recurrence_id is not None
            ref = parse_ref(recurrence_id_text(child.recurrence_id, series.all_day, series.time_zone), "recurrenceId")
            original = locate(series, ref)
            if original is not None and not is_excluded(series, original):
                name = f"VEVENT {child.uid[:100]} {rid_key(child.recurrence_id)}"
                self._warn(f"{name}: its RRULE was ignored (a moved occurrence)")
                plain.append(child)
            elif master is not None and master.sequence > child.sequence:
                writes.outcome(
                    group.spans[child.index],
                    ImportOutcome.SKIPPED,
                    "an older version of part of its series (lower SEQUENCE)",
                )
            else:
                self._orphan(child, existing, group, writes)
        return plain

    def _extra_rules(
        self, master: VEventData, base: EventRecord, existing: dict[int, EventRecord], writes: _Writes
    ) -> None:
        """A series of its own for each further RRULE of ``master`` (its DTSTART excluded: the
        main series has it)."""
        first = _start_ref(base)
        for n, rule in enumerate(master.extra_rules, start=2):
            event_id = self._master_id(f"{master.uid}#RRULE{n}")
            exdate = [*master.fields.get("exdate", []), first]
            fields = {**master.fields, "recurrence": rule, "rdate": [], "exdate": exdate}
            data = dataclasses.replace(master, fields=fields)
            try:
                record = self._record(data, existing.get(event_id), event_id)
            except VEventError as e:
                self._warn(f"VEVENT {master.uid[:100]}: RRULE {rule[:60]!r} was not imported: {e.reason}")
                continue
            writes.put(record, existing.get(event_id))

    def _periods(
        self,
        master: VEventData,
        series: Series,
        final: _MasterChanges,
        existing: dict[int, EventRecord],
        writes: _Writes,
    ) -> None:
        """Moved occurrences for the RDATE periods of ``master`` that last otherwise than it."""
        for rid_text, start_ms, end_ms in master.periods:
            original = locate(series, parse_ref(rid_text, "rdate"))
            if original is None or is_excluded(series, original):
                continue
            rid = _canonical(series, original)
            event_id = self._master_id(f"{master.uid}#RDATE{rid_text}")
            stored = existing.get(event_id)
            fields = {**master.fields, "startDate": start_ms, "endDate": end_ms}
            data = dataclasses.replace(master, fields=fields)
            extra = {"kind": "child", "parentId": final.base.id, "recurrenceId": rid}
            try:
                record = self._record(data, stored, event_id, extra=extra)
            except VEventError as e:
                self._warn(f"VEVENT {master.uid[:100]}: RDATE period {rid_text} was not imported: {e.reason}")
                continue
            final.attach(rid, record)
            writes.put(record, stored)

    def _master(
        self,
        master: VEventData | None,
        stored: EventRecord | None,
        group: _Group,
        writes: _Writes,
        *,
        force: bool = False,
    ) -> EventRecord | object | None:
        """The master record children attach to (written when new or newer, or ``force``d: a
        series split by RANGE=THISANDFUTURE is rebuilt from the file), ``_CANCELLED``, or
        ``None`` (no master: the children are orphans unless one is stored)."""
        if master is None:
            return stored if stored is not None and stored.kind == "master" else None
        span = group.spans[master.index]
        if master.cancelled:
            writes.outcome(span, ImportOutcome.SKIPPED)
            return _CANCELLED
        if (
            not force
            and stored is not None
            and not master.is_newer_than(int(stored.sequence or 0), stored.last_modified)
        ):
            writes.outcome(span, ImportOutcome.SKIPPED)
            return stored
        try:
            record = self._record(master, stored, self._master_id(master.uid))
        except VEventError as e:
            writes.outcome(span, ImportOutcome.FAILED, e.reason)
            group.master_failed = e.reason
            return _FAILED
        writes.put(record, stored)
        writes.outcome(span, ImportOutcome.UPDATED if stored is not None else ImportOutcome.CREATED)
        return record

    def _orphan(self, child: VEventData, existing: dict[int, EventRecord], group: _Group, writes: _Writes) -> None:
        """An exception without a series: an event of its own (its RRULE, if any, is not
        expanded: recurring-ical-events shows such an exception once)."""
        span = group.spans[child.index]
        if group.master_failed is not None:
            writes.outcome(span, ImportOutcome.FAILED, f"its series failed: {group.master_failed}")
            return
        assert child.recurrence_id is not None
        event_id = self._child_id(child.uid, child.recurrence_id)
        stored = existing.get(event_id)
        if child.cancelled:
            writes.outcome(span, ImportOutcome.SKIPPED)
            return
        if stored is not None and not child.is_newer_than(int(stored.sequence or 0), stored.last_modified):
            writes.outcome(span, ImportOutcome.SKIPPED)
            return
        try:
            extra: dict[str, Any] = {"recurrence": None, "rdate": [], "exdate": []}
            record = self._record(child, stored, event_id, extra=extra)
        except VEventError as e:
            writes.outcome(span, ImportOutcome.FAILED, e.reason)
            return
        record = record.replaced(
            {"external": {**(record.external or {}), "recurrenceId": rid_key(child.recurrence_id)}}
        )
        writes.put(record, stored)
        writes.outcome(span, ImportOutcome.UPDATED if stored is not None else ImportOutcome.CREATED)

    def _child(
        self,
        child: VEventData,
        series: Series,
        final: _MasterChanges,
        existing: dict[int, EventRecord],
        group: _Group,
        writes: _Writes,
        ref_text: str | None = None,
    ) -> None:
        span = group.spans[child.index]
        assert child.recurrence_id is not None
        try:
            text = ref_text or recurrence_id_text(child.recurrence_id, series.all_day, series.time_zone)
            ref = parse_ref(text, "recurrenceId")
        except InvalidInputError as e:
            writes.outcome(span, ImportOutcome.FAILED, f"invalid RECURRENCE-ID: {e.message}")
            return
        original = locate(series, ref)
        excluded = original is not None and is_excluded(series, original)
        if excluded and not child.cancelled:
            writes.outcome(span, ImportOutcome.SKIPPED, "RECURRENCE-ID names an occurrence an EXDATE removes")
            return
        rid = ref.text
        if original is not None:
            rid = _canonical(series, original)
        event_id = self._child_id(child.uid, child.recurrence_id)
        stored = existing.get(event_id)
        if child.cancelled:
            changed = final.cancel(rid)
            if stored is not None:
                writes.delete(stored)
            writes.outcome(span, ImportOutcome.UPDATED if changed or stored is not None else ImportOutcome.SKIPPED)
            return
        if stored is not None and not child.is_newer_than(int(stored.sequence or 0), stored.last_modified):
            final.keep(rid, stored)
            writes.outcome(span, ImportOutcome.SKIPPED)
            return
        try:
            record = self._record(
                child,
                stored,
                event_id,
                extra={"kind": "child", "parentId": final.base.id, "recurrenceId": rid},
            )
        except VEventError as e:
            writes.outcome(span, ImportOutcome.FAILED, e.reason)
            return
        final.attach(rid, record)
        writes.put(record, stored)
        writes.outcome(span, ImportOutcome.UPDATED if stored is not None else ImportOutcome.CREATED)

    def _record(
        self, data: VEventData, stored: EventRecord | None, event_id: int, extra: Mapping[str, Any] | None = None
    ) -> EventRecord:
        """The event record for ``data`` (replacing ``stored``), validated and normalised.

        Raises:
            VEventError: the recurrence engine refuses its times or rule, or it is too long.
        """
        now = self.clock()
        external: dict[str, Any] = {"ns": "ics", "key": data.uid}
        item: dict[str, Any] = {
            **data.fields,
            "id": event_id,
            "calendarId": self.calendar.id,
            "eventTypeConfigId": stored.event_type_config_id if stored else self.source.id,
            "reporter": stored.reporter if stored else self.job.user,
            "parentId": None,
            "recurrenceId": None,
            "version": stored.version + 1 if stored else 1,
            "created": stored.created if stored else now,
            "updated": now,
            "external": external,
            "sequence": data.sequence,
            "lastModified": data.last_modified,
        }
        if extra:
            item.update(extra)
        record = EventRecord.from_item(item)
        if record.kind == "child":
            record = record.as_child()
        elif stored is not None and stored.overrides:
            record = record.replaced({"overrides": dict(stored.overrides)})
        try:
            record = record.normalized(self.zone)
        except InvalidInputError as e:
            raise VEventError(e.message) from e
        if record.kind != "master":
            months = months_overlapping(record.start_date, record.end_date)
            if len(months) > MAX_INDEX_MONTHS:
                raise VEventError(f"the event lasts more than {MAX_INDEX_MONTHS} months")
        return record


_CANCELLED = object()
_FAILED = object()


@dataclass
class _Segment:
    """One part of a series split by RANGE=THISANDFUTURE: from the original instant ``from_ms``
    (``None``: the series' start) on, occurrences are moved by ``offset`` of wall time;
    ``first``: the series the file's master (or the stored one) is."""

    from_ms: int | None
    offset: dt.timedelta
    series: Series
    final: _MasterChanges
    first: bool = True


def _rid_ms(item: VEventData, zone: str) -> int:
    assert item.recurrence_id is not None
    return item.recurrence_id.ms(zone)


def _segment_of(segments: list[_Segment], rid_ms: int) -> _Segment:
    """The segment an original occurrence at ``rid_ms`` belongs to."""
    found = segments[0]
    for segment in segments:
        if segment.from_ms is None or segment.from_ms <= rid_ms:
            found = segment
    return found


def _rid_wall(item: VEventData, series: Series) -> dt.datetime:
    """The original wall time (in the series' zone) an exception's RECURRENCE-ID names."""
    moment = item.recurrence_id
    assert moment is not None
    if series.all_day or moment.kind == "date":
        day = moment.value.date() if isinstance(moment.value, dt.datetime) else moment.value
        return dt.datetime.combine(day, dt.time() if series.all_day else series.start.time())
    return moment.aware(series.time_zone).astimezone(ZoneInfo(series.time_zone)).replace(tzinfo=None)


def _shifted_rid(item: VEventData, segment: _Segment, zone: str) -> str | None:
    """An exception's recurrence id in a moved segment (``None``: unmoved, read it as is)."""
    assert item.recurrence_id is not None
    if not segment.offset:
        return None
    wall = _rid_wall(item, segment.series) + segment.offset
    return wall.strftime("%Y%m%d") if segment.series.all_day else wall.strftime("%Y%m%dT%H%M%S")


def _start_ref(record: EventRecord) -> str:
    """The recurrence id of a master record's DTSTART (a date, or its local wall time)."""
    if record.all_day:
        return str(record.all_day_start).replace("-", "")
    start = dt.datetime.fromtimestamp(record.start_date / 1000, ZoneInfo(str(record.time_zone)))
    return start.strftime("%Y%m%dT%H%M%S")


def _canonical(series: Series, original: dt.datetime) -> str:
    """teamcal's recurrenceId of the occurrence starting at wall time ``original`` (the date,
    or the wall time for series with several occurrences a day)."""
    if series.all_day or not series.multi_per_day:
        return original.strftime("%Y%m%d")
    return original.strftime("%Y%m%dT%H%M%S")


class _MasterChanges:
    """A master's overrides and EXDATEs as its exceptions are applied."""

    def __init__(self, base: EventRecord) -> None:
        self.base = base
        self.overrides: dict[str, Any] = dict(base.overrides)
        self.exdate: list[str] = list(base.exdate)
        self.changed = False

    def attach(self, rid: str, child: EventRecord) -> None:
        entry = override_entry(child)
        if self.overrides.get(rid) != entry:
            self.overrides[rid] = entry
            self.changed = True

    def keep(self, rid: str, child: EventRecord) -> None:
        if rid not in self.overrides:
            self.attach(rid, child)

    def cancel(self, rid: str) -> bool:
        """Turn occurrence ``rid`` into an EXDATE; whether that changed anything."""
        changed = False
        if rid not in self.exdate:
            self.exdate.append(rid)
            changed = True
        if self.overrides.pop(rid, None) is not None:
            changed = True
        self.changed = self.changed or changed
        return changed

    def record(self) -> EventRecord:
        """The master with its new overrides (and EXDATEs: then re-normalised, as they change
        its series)."""
        exdate = sorted(self.exdate)
        record = self.base.replaced({"overrides": self.overrides})
        if exdate != sorted(self.base.exdate):
            record = record.replaced({"exdate": exdate}).normalized(self.base.time_zone or "UTC")
        return record


class _Writes:
    """What one chunk writes, and the outcome of each VEVENT once it is written."""

    def __init__(self) -> None:
        self.records: dict[int, EventRecord] = {}
        self.previous: dict[int, EventRecord] = {}
        self.deletes: list[EventRecord] = []
        self.outcomes: list[tuple[VEventSpan, ImportOutcome, str | None, str | None]] = []

    def put(self, record: EventRecord, stored: EventRecord | None) -> None:
        self.records[record.id] = record
        if stored is not None:
            self.previous[record.id] = stored

    def amend(self, record: EventRecord) -> None:
        """``record`` replaces the record of the same id this chunk writes (if it writes one)."""
        if record.id in self.records:
            self.records[record.id] = record

    def delete(self, record: EventRecord) -> None:
        self.deletes.append(record)

    def outcome(
        self, span: VEventSpan, outcome: ImportOutcome, reason: str | None = None, uid: str | None = None
    ) -> None:
        self.outcomes.append((span, outcome, reason, uid))
