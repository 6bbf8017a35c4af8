"""Event type use cases: list (predefined + custom), resolve ``eventTypeId``, manage custom types.

CCJ reference, GET /api/1/eventypes: "all available event types, including predefined ones like
vacation, sickness, trip, and meeting, along with any custom event types". Custom types are
managed by admins (rule 9 of :mod:`teamcal.access`); predefined ones never change (403);
a custom type used by a source cannot be deleted (409).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from teamcal.access import require_manage_event_types
from teamcal.auth.principal import Principal
from teamcal.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from teamcal.ids import new_id, now_ms
from teamcal.models.event_types import (
    PREDEFINED,
    PREDEFINED_BY_ID,
    PREDEFINED_BY_KEY,
    EventType,
    EventTypeCreate,
    EventTypeRecord,
    EventTypeUpdate,
)
from teamcal.services.versions import expected_version
from teamcal.storage.event_types import EventTypeRepository

_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _custom(record: EventTypeRecord) -> EventType:
    return record.event_type()


def list_event_types(repo: EventTypeRepository) -> list[EventType]:
    """The predefined types (vacation, sickness, trip, meeting, jira, sprint, version), then the
    custom ones by key. One Query."""
    return [*PREDEFINED, *(_custom(r) for r in repo.list_custom())]


def find_event_type(repo: EventTypeRepository, ref: int | str) -> EventType | None:
    """The type ``ref`` names: a key (``"meeting"``), an integer id, or an id as digits."""
    if isinstance(ref, str) and ref.isdigit() and len(ref) <= 16:
        ref = int(ref)
    if isinstance(ref, int):
        if ref in PREDEFINED_BY_ID:
            return PREDEFINED_BY_ID[ref]
        return next((t for t in map(_custom, repo.list_custom()) if t.id == ref), None)
    if ref in PREDEFINED_BY_KEY:
        return PREDEFINED_BY_KEY[ref]
    if not _KEY.match(ref):
        return None
    record = repo.get(ref)
    return _custom(record) if record else None


def resolve_event_type(repo: EventTypeRepository, ref: int | str, field: str = "eventTypeId") -> EventType:
    """Like :func:`find_event_type`, for request fields.

    Raises:
        InvalidInputError: no such type (naming ``field``).
    """
    found = find_event_type(repo, ref)
    if found is None:
        raise InvalidInputError.for_field(field, f"unknown event type {ref!r}")
    return found


def types_by_key(repo: EventTypeRepository, keys: Iterable[str]) -> dict[str, EventType]:
    """The types of ``keys`` (what sources store), reading custom types only if one is needed.

    A key whose custom type vanished (it cannot while a source uses it) maps to a stand-in.
    """
    wanted = set(keys)
    found = {k: t for k, t in PREDEFINED_BY_KEY.items() if k in wanted}
    if wanted - found.keys():
        found.update({t.key: t for t in map(_custom, repo.list_custom()) if t.key in wanted})
    for key in wanted - found.keys():
        found[key] = EventType(
            id=0,
            key=key,
            name=key,
            system_type=False,
            issue_required=False,
            project_required=False,
            users_required=False,
        )
    return found


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56].strip("-")
    if slug and not slug[0].isalpha():
        slug = f"custom-{slug}"
    return slug


def create_event_type(repo: EventTypeRepository, principal: Principal, body: EventTypeCreate) -> EventType:
    """Create a custom type (``systemType: false``, ``version`` 1).

    ``key`` defaults to a slug of ``name`` (``"Team offsite"`` → ``team-offsite``), or
    ``custom-<id>`` when the name has no letters or digits.

    Raises:
        ForbiddenError: not an admin token.
        ConflictError: the key is a predefined type's or another custom type's.
    """
    require_manage_event_types(principal)
    type_id = new_id()
    key = body.key or _slug(body.name) or f"custom-{type_id}"
    if key in PREDEFINED_BY_KEY:
        raise ConflictError(f"{key!r} is a predefined event type's key", {"key": "taken by a predefined type"})
    now = now_ms()
    record = EventTypeRecord(
        id=type_id,
        key=key,
        name=body.name,
        issue_required=body.issue_required,
        project_required=body.project_required,
        users_required=body.users_required,
        system_type=False,
        version=1,
        created=now,
        updated=now,
    )
    repo.create(record)
    return _custom(record)


def _existing_custom(repo: EventTypeRepository, ref: int | str | None) -> EventType:
    if ref is None:
        raise InvalidInputError("Missing event type key or id", {"key": "Missing event type key or id"})
    found = find_event_type(repo, ref)
    if found is None:
        raise NotFoundError(f"event type {ref!r} not found")
    if found.system_type:
        raise ForbiddenError(f"{found.key!r} is a predefined event type; it cannot be changed or deleted")
    return found


def update_event_type(
    repo: EventTypeRepository, principal: Principal, body: EventTypeUpdate, if_match: str | None
) -> EventType:
    """Change a custom type's name and flags (its key and id never change).

    Raises:
        ForbiddenError: not an admin token, or a predefined type.
        InvalidInputError: neither ``key`` nor ``id`` sent.
        NotFoundError: no such type.
        ConflictError: stale ``version`` / ``If-Match``, or a concurrent write.
    """
    require_manage_event_types(principal)
    current = _existing_custom(repo, body.key if body.key is not None else body.id)
    version = expected_version(current.version, body.version, if_match, f"event type {current.key!r}")
    changes = {
        k: v
        for k, v in {
            "name": body.name,
            "usersRequired": body.users_required,
            "issueRequired": body.issue_required,
            "projectRequired": body.project_required,
        }.items()
        if v is not None
    }
    return _custom(repo.update(current.key, changes, version, now_ms()))


def delete_event_type(repo: EventTypeRepository, principal: Principal, ref: str) -> EventType:
    """Delete a custom type no source uses; returns it. ``ref`` is its key or id.

    Raises:
        ForbiddenError: not an admin token, or a predefined type.
        NotFoundError: no such type.
        ConflictError: a source uses it.
    """
    require_manage_event_types(principal)
    current = _existing_custom(repo, ref)
    return _custom(repo.delete(current.key))
