"""Jira-backed sources → calendar events (pure: no I/O).

A source's ``value`` (CCJ reference, ``GET /calendar`` sample) says what to show. Interpretation
(the sample shows the keys, not their meaning; where it is silent the choice is ours and listed):

* ``jira`` ("Jira dates"): ``projectId`` - the project's id; ``-1``, ``0`` or absent: every
  project the account sees. ``singleDates`` - field ids (``duedate``, ``customfield_10015``): each
  set field of an issue is one event. ``dateRanges`` - pairs of field ids, each pair one event
  from the first to the second; a pair is written ``["start", "end"]`` or ``{"start": …,
  "end": …}`` (``startDate``/``endDate`` and ``from``/``to`` are accepted too; ours, the sample's
  list is empty). A field holding a date (``yyyy-MM-dd``, Jira's DATE fields) gives an all-day
  event; a date-time (DATE-TIME fields) a timed one; a range shows when its start is set (an
  unset end: the start alone; an end before the start: the start alone). ``summaryFromSourceName``
  true: the summary is the source's name; otherwise ``KEY-123 Summary``.
* ``sprint``: ``boardId`` (required) - the board whose sprints are shown. ``state`` - ``0`` or
  absent: every sprint; ``1`` active, ``2`` future, ``3`` closed; a state name or a list of names
  (``"active"``, ``"future"``, ``"closed"``) is accepted too. ``show`` - ``0`` or absent: the
  sprint as a range from ``startDate`` to ``endDate`` (``completeDate`` for a closed sprint);
  ``1``: its end only; ``2``: its start only. A sprint without dates (a future sprint not yet
  planned) shows nothing. ``projectId`` is ignored (the board decides).
* ``version``: ``projectId`` (required, a real project). ``releasedStatus`` - ``0`` or absent:
  every version; ``1`` unreleased only; ``2`` released only. ``show`` - ``0`` or absent: a range
  from ``startDate`` to ``releaseDate`` where both are set, else the date that is set; ``1``: the
  release date only. Archived versions are not shown (Jira hides them from its release views).

Every event is keyed by Jira's ids - ``issue:<issueId>:<field>``, ``issue:<issueId>:<start>..<end>``,
``sprint:<sprintId>``, ``version:<versionId>`` - in the namespace ``jira:<sourceId>``, so its
id (:func:`teamcal.ids.external_id`) is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from teamcal.errors import InvalidInputError
from teamcal.google.mapping import series_fields
from teamcal.jira.errors import JiraConfigError
from teamcal.models.sources import SourceRecord
from teamcal.recurrence.series import Series

MAX_SUMMARY = 255
SPRINT_STATES = {1: "active", 2: "future", 3: "closed"}
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class SourceConfig:
    """What one Jira-backed source shows (see the module docstring)."""

    source_id: int
    calendar_id: int
    kind: str
    name: str
    project_id: int | None = None
    single_dates: tuple[str, ...] = ()
    date_ranges: tuple[tuple[str, str], ...] = ()
    summary_from_source_name: bool = False
    board_id: int | None = None
    states: frozenset[str] = frozenset()
    show: int = 0
    released: bool | None = None

    @property
    def namespace(self) -> str:
        """The external-id namespace of this source's events."""
        return f"jira:{self.source_id}"

    @property
    def date_fields(self) -> list[str]:
        """Every field id the source reads dates from (sorted, no repeats)."""
        return sorted({*self.single_dates, *(f for pair in self.date_ranges for f in pair)})

    def fingerprint(self) -> str:
        """A hash of what decides the events: a change means a full reconciliation."""
        shown: list[Any] = [self.kind, self.name, self.project_id, self.single_dates, self.date_ranges]
        shown += [self.summary_from_source_name, self.board_id, sorted(self.states), self.show, self.released]
        return hashlib.sha256(json.dumps(shown, default=list).encode()).hexdigest()[:16]


def _int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise JiraConfigError(f"value.{field} must be an integer", {"value": f"{field} must be an integer"})
    try:
        return int(value)
    except ValueError:
        raise JiraConfigError(f"value.{field} must be an integer", {"value": f"{field} must be an integer"}) from None


def _ranges(raw: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in raw or []:
        start: Any = None
        end: Any = None
        if isinstance(item, list | tuple) and len(item) == 2:
            start, end = item
        elif isinstance(item, Mapping):
            start = item.get("start") or item.get("startDate") or item.get("from")
            end = item.get("end") or item.get("endDate") or item.get("to")
        if not (isinstance(start, str) and start and isinstance(end, str) and end):
            raise JiraConfigError(
                "value.dateRanges: each range is [startField, endField] or {start, end}",
                {"value": "dateRanges entries must name two fields"},
            )
        pairs.append((start, end))
    return tuple(pairs)


def _states(raw: Any) -> frozenset[str]:
    if raw in (None, 0, "", "all"):
        return frozenset()
    names = raw if isinstance(raw, list) else [raw]
    found: set[str] = set()
    for name in names:
        if isinstance(name, int) and not isinstance(name, bool) and name in SPRINT_STATES:
            found.add(SPRINT_STATES[name])
        elif isinstance(name, str) and name.lower() in SPRINT_STATES.values():
            found.add(name.lower())
        else:
            raise JiraConfigError(
                "value.state must be 0 (all), 1 (active), 2 (future), 3 (closed) or state names",
                {"value": "unknown sprint state"},
            )
    return frozenset(found)


def parse_source(record: SourceRecord) -> SourceConfig:
    """A stored source record (``eventTypeKey`` jira / sprint / version, ``value`` JSON text) →
    its :class:`SourceConfig`.

    Raises:
        JiraConfigError: the value cannot be shown (no date field, no board, no project, bad types).
    """
    kind = record.event_type_key
    try:
        value = json.loads(record.value or "{}")
    except ValueError:
        value = {}
    if not isinstance(value, dict):
        value = {}
    base: dict[str, Any] = {
        "source_id": record.id,
        "calendar_id": record.calendar_id,
        "kind": kind,
        "name": str(value.get("name") or ""),
    }
    project = _int(value.get("projectId"), "projectId")
    if kind == "jira":
        singles = value.get("singleDates") or []
        if not isinstance(singles, list) or not all(isinstance(f, str) and f for f in singles):
            raise JiraConfigError("value.singleDates must be a list of field ids", {"value": "singleDates"})
        config = SourceConfig(
            **base,
            project_id=project if project not in (None, -1, 0) else None,
            single_dates=tuple(dict.fromkeys(singles)),
            date_ranges=_ranges(value.get("dateRanges")),
            summary_from_source_name=bool(value.get("summaryFromSourceName")),
        )
        if not config.date_fields:
            raise JiraConfigError(
                "a Jira dates source needs at least one field in singleDates or dateRanges",
                {"value": "no date field"},
            )
        return config
    show = _int(value.get("show"), "show") or 0
    if kind == "sprint":
        board = _int(value.get("boardId"), "boardId")
        if board is None or board <= 0:
            raise JiraConfigError("a sprint source needs value.boardId", {"value": "boardId is required"})
        return SourceConfig(**base, board_id=board, states=_states(value.get("state")), show=show)
    if kind == "version":
        if project is None or project <= 0:
            raise JiraConfigError("a version source needs value.projectId (a project's id)", {"value": "projectId"})
        status = _int(value.get("releasedStatus"), "releasedStatus") or 0
        released = {0: None, 1: False, 2: True}.get(status)
        if status not in (0, 1, 2):
            raise JiraConfigError(
                "value.releasedStatus must be 0 (all), 1 (unreleased) or 2 (released)", {"value": "releasedStatus"}
            )
        return SourceConfig(**base, project_id=project, show=show, released=released)
    raise JiraConfigError(f"source type {kind} is not Jira-backed")


# ---------------------------------------------------------------------------- time values
@dataclass(frozen=True)
class _When:
    """A Jira date (``date`` set) or date-time (``instant`` set, epoch ms)."""

    date: dt.date | None = None
    instant: int | None = None


def _when(raw: Any) -> _When | None:
    if not isinstance(raw, str) or not raw:
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return _When(date=dt.date.fromisoformat(text))
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return _When(instant=int(parsed.timestamp() * 1000))


def _midnight_ms(day: dt.date, zone_name: str) -> int:
    from zoneinfo import ZoneInfo

    return int(dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone_name)).timestamp() * 1000)


def _ms(when: _When, zone_name: str, day_offset_ms: int) -> int:
    """A date-time's instant; a date's midnight in ``zone_name`` plus ``day_offset_ms``."""
    if when.instant is not None:
        return when.instant
    assert when.date is not None
    return _midnight_ms(when.date, zone_name) + day_offset_ms


def _span(start: _When, end: _When, zone_name: str) -> dict[str, Any] | None:
    """The stored time fields of an event from ``start`` to ``end`` (inclusive dates)."""
    try:
        if start.date is not None and end.date is not None:
            last = end.date if end.date >= start.date else start.date
            return series_fields(Series.from_all_day(start.date, last, zone_name))
        first_ms = _ms(start, zone_name, 0)
        end_ms = _ms(end, zone_name, _DAY_MS)
        return series_fields(Series.from_timed(first_ms, max(first_ms, end_ms), zone_name))
    except InvalidInputError:
        return None


# ---------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Desired:
    """One event a Jira object should show: its ``key`` (see the module docstring) and fields."""

    key: str
    fields: dict[str, Any]


def issue_keys(config: SourceConfig, issue_id: str) -> list[str]:
    """Every key an issue's events can have under ``config`` (set or not)."""
    keys = [f"issue:{issue_id}:{f}" for f in config.single_dates]
    return keys + [f"issue:{issue_id}:{a}..{b}" for a, b in config.date_ranges]


def _summary(config: SourceConfig, text: str) -> str:
    return (config.name if config.summary_from_source_name and config.name else text)[:MAX_SUMMARY]


def issue_events(
    config: SourceConfig, issue: Mapping[str, Any], field_names: Mapping[str, str], zone_name: str, site: str
) -> list[Desired]:
    """The events an issue (``{id, key, fields}`` as the search returns it) shows."""
    fields = issue.get("fields") if isinstance(issue.get("fields"), Mapping) else {}
    assert isinstance(fields, Mapping)
    issue_id, key = str(issue.get("id")), str(issue.get("key") or "")
    summary = _summary(config, f"{key} {fields.get('summary') or ''}".strip())
    assignee = fields.get("assignee") if isinstance(fields.get("assignee"), Mapping) else None
    users = [str(assignee.get("accountId") or assignee.get("key") or "")] if assignee else []
    users = [u for u in users if u]
    out: list[Desired] = []

    def add(event_key: str, label: str, start: _When | None, end: _When | None) -> None:
        first, last = start or end, end or start
        if first is None or last is None:
            return
        span = _span(first, last, zone_name)
        if span is None:
            return
        description = f"{label} of {key}: {site}/browse/{key}"
        out.append(Desired(event_key, {**span, "summary": summary, "description": description, "userKeys": users}))

    for name in config.single_dates:
        when = _when(fields.get(name))
        add(f"issue:{issue_id}:{name}", field_names.get(name, name), when, when)
    for a, b in config.date_ranges:
        label = f"{field_names.get(a, a)} – {field_names.get(b, b)}"
        start = _when(fields.get(a))
        if start is not None:
            add(f"issue:{issue_id}:{a}..{b}", label, start, _when(fields.get(b)))
    return out


def sprint_event(config: SourceConfig, sprint: Mapping[str, Any], zone_name: str) -> Desired | None:
    """The event a sprint shows, or ``None`` (filtered out by ``state``, or no dates)."""
    state = str(sprint.get("state") or "").lower()
    if config.states and state not in config.states:
        return None
    start = _when(sprint.get("startDate"))
    end = _when(sprint.get("completeDate") if state == "closed" and sprint.get("completeDate") else None)
    end = end or _when(sprint.get("endDate"))
    if config.show == 1:
        start = end
    elif config.show == 2:
        end = start
    first, last = start or end, end or start
    if first is None or last is None:
        return None
    span = _span(first, last, zone_name)
    if span is None:
        return None
    goal = str(sprint.get("goal") or "")
    fields = {**span, "summary": _summary(config, str(sprint.get("name") or "Sprint")), "description": goal or None}
    return Desired(f"sprint:{sprint.get('id')}", {**fields, "userKeys": []})


def version_event(config: SourceConfig, version: Mapping[str, Any], zone_name: str) -> Desired | None:
    """The event a version shows, or ``None`` (archived, filtered out by ``releasedStatus``, no date)."""
    if version.get("archived"):
        return None
    if config.released is not None and bool(version.get("released")) != config.released:
        return None
    release = _when(version.get("releaseDate"))
    start = _when(version.get("startDate")) if config.show == 0 else None
    first, last = start or release, release or start
    if first is None or last is None:
        return None
    span = _span(first, last, zone_name)
    if span is None:
        return None
    description = str(version.get("description") or "") or None
    fields = {**span, "summary": _summary(config, str(version.get("name") or "Version")), "description": description}
    return Desired(f"version:{version.get('id')}", {**fields, "userKeys": []})


def search_fields(config: SourceConfig) -> list[str]:
    """The issue fields a search asks for."""
    return sorted({"summary", "assignee", "updated", *config.date_fields})


def check_fields(config: SourceConfig, schema: Mapping[str, str]) -> None:
    """Raise JiraConfigError unless every date field of ``config`` exists and holds a date or a
    date-time (``schema``: field id → ``schema.type`` from ``GET /field``)."""
    for name in config.date_fields:
        if name not in schema:
            raise JiraConfigError(
                f"Jira has no field {name!r} (source {config.source_id}: singleDates / dateRanges)",
                {"value": f"unknown field {name}"},
            )
        if schema[name] not in ("date", "datetime"):
            raise JiraConfigError(
                f"Jira field {name!r} holds {schema[name] or 'no'} values, not a date or date-time "
                f"(source {config.source_id})",
                {"value": f"{name} is not a date field"},
            )


def jql_instant(ms: int, zone_name: str) -> str:
    """Epoch ms → ``yyyy/MM/dd HH:mm`` in the Jira account's zone (how JQL reads date literals),
    rounded down to the minute."""
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return dt.datetime.fromtimestamp(ms / 1000, tz=zone).strftime("%Y/%m/%d %H:%M")


def issue_jql(config: SourceConfig, since_ms: int | None, zone_name: str) -> str:
    """The JQL of a source's search: its project, then either only issues updated since
    ``since_ms`` (incremental) or only issues with a date set (full)."""
    clauses: list[str] = []
    if config.project_id is not None:
        clauses.append(f"project = {config.project_id}")
    if since_ms is not None:
        clauses.append(f'updated >= "{jql_instant(since_ms, zone_name)}"')
    else:
        clauses.append("(" + " OR ".join(f"{_jql_field(f)} is not EMPTY" for f in config.date_fields) + ")")
    return " AND ".join(clauses) + " ORDER BY key ASC"


def _jql_field(field_id: str) -> str:
    if field_id.startswith("customfield_"):
        return f"cf[{field_id.removeprefix('customfield_')}]"
    return field_id


def issue_id_of(key: str) -> str | None:
    """The Jira issue id in an event key ``issue:<id>:…`` (``None`` for sprints and versions)."""
    parts = key.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "issue" else None


def keys_kept(config: SourceConfig, keys: Sequence[str]) -> set[str]:
    """Of ``keys``, those ``config`` can still produce (a field removed from the value is not)."""
    suffixes = {*config.single_dates, *(f"{a}..{b}" for a, b in config.date_ranges)}
    return {k for k in keys if k.split(":", 2)[-1] in suffixes}
