""":class:`StoredRecord`: the shared ``from_item`` / ``item`` / ``evolved`` of the records whose
optional fields are absent attributes (the Jira and Google state records, import jobs), and
:func:`changed_attributes`, what a partial write of such a record sends.

A field left ``None`` is an attribute the item lacks (no ``None`` is stored, see
:func:`teamcal.storage.dynamo.serialize`); attributes a record does not name are kept in
``extra``, so ``Record.from_item(item).item() == item`` (no migration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


def optional_int(v: Any) -> int | None:
    """A stored number read as ``int``; ``None`` stays ``None``."""
    return None if v is None else int(v)


def int_tuple(v: Any) -> tuple[int, ...]:
    """A stored list of numbers as a tuple of ``int`` (absent or ``None``: empty)."""
    return tuple(int(i) for i in v or ())


def optional_int_tuple(v: Any) -> tuple[int, ...] | None:
    """A stored list of numbers as a tuple of ``int``; ``None`` stays ``None``."""
    return None if v is None else int_tuple(v)


def str_tuple(v: Any) -> tuple[str, ...]:
    """A stored list of strings as a tuple (absent or ``None``: empty)."""
    return tuple(str(i) for i in v or ())


def _read_item(
    item: Mapping[str, Any], fields: Mapping[str, str], readers: Mapping[str, Callable[[Any], Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(values by attribute name, extras by wire name)`` of a stored item: ``fields`` maps
    the wire names a record names to its attributes, ``readers`` says how a value is read."""
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, v in item.items():
        name = fields.get(key)
        if name is None:
            extra[key] = v
            continue
        read = readers.get(key)
        values[name] = v if read is None else read(v)
    return values, extra


class StoredRecord:
    """Base of a dataclass record: ``_FIELDS`` maps wire names to attribute names,
    ``_INTS`` names the wire attributes read as ``int``; subclasses declare ``extra``."""

    _FIELDS: ClassVar[dict[str, str]]
    _INTS: ClassVar[frozenset[str]] = frozenset()
    _READ: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    extra: Mapping[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._READ = dict.fromkeys(cls._INTS, optional_int)  # how each stored value is read, once

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """The record of a stored item (plain values, keys ``pk``/``sk`` removed), unvalidated."""
        values, extra = _read_item(item, cls._FIELDS, cls._READ)
        return cls(**values, extra=extra)  # type: ignore[call-arg]

    def item(self) -> dict[str, Any]:
        """The stored attributes (wire names): the named ones that are not ``None``, and the
        kept extras."""
        out = {wire: getattr(self, name) for wire, name in self._FIELDS.items() if getattr(self, name) is not None}
        out.update(self.extra)
        return out

    def evolved(self, **changes: Any) -> Self:
        """A copy with ``changes`` (attribute names; ``None``: the attribute goes)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def require_records(kind: type, *given: object) -> None:
    """Raise unless each of ``given`` that is not ``None`` is a ``kind``: a repository writes
    records, never dicts.

    Raises:
        TypeError: naming the kind expected and the type given.
    """
    for value in given:
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"a {kind.__name__} is written, not {type(value).__name__}")


def changed_attributes(
    record: StoredRecord, previous: StoredRecord | None, kind: type, written_elsewhere: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The attributes (wire names) ``record`` changes relative to ``previous`` (``None``: the
    attribute goes); every attribute of ``record`` when ``previous`` is None. Attributes in
    ``written_elsewhere`` (e.g. a lease, kept by its own conditional writes) are never included.

    Raises:
        TypeError: ``record`` or ``previous`` is not a ``kind`` (a dict is not written).
    """
    require_records(kind, record, previous)
    new = record.item()
    old = previous.item() if previous is not None else {}
    out: dict[str, Any] = {k: v for k, v in new.items() if k not in written_elsewhere and old.get(k) != v}
    out.update({k: None for k in old if k not in new and k not in written_elsewhere})
    return out


#: The lease attributes of a scheduled connection: written only by the repositories' lease
#: methods (conditional writes), never by a record write.
LEASE_ATTRIBUTES = frozenset({"leaseUntil", "leaseId"})
#: The wire names of :data:`SCHEDULED_CONNECTION_FIELDS` read as ``int``.
SCHEDULED_CONNECTION_INTS = frozenset({"rateMinutes", "lastSyncAt", "created", "updated", "leaseUntil"})
#: Wire name → attribute name of what every scheduled connection (Google, Jira) stores.
SCHEDULED_CONNECTION_FIELDS: dict[str, str] = {
    "status": "status",
    "rateMinutes": "rate_minutes",
    "scheduleName": "schedule_name",
    "scheduleState": "schedule_state",
    "lastSyncAt": "last_sync_at",
    "lastRun": "last_run",
    "lastError": "last_error",
    "createdBy": "created_by",
    "created": "created",
    "updated": "updated",
    "leaseUntil": "lease_until",
    "leaseId": "lease_id",
}


@dataclass(frozen=True)
class ScheduledConnectionRecord(StoredRecord):
    """What a connection synced on an EventBridge schedule stores, whatever it connects to
    (subclasses add their own fields and give ``_FIELDS`` / ``_INTS``).

    Attributes:
        status: ``connected`` | ``needs_reauth``.
        rate_minutes / schedule_name / schedule_state: the sync schedule (``ENABLED`` |
            ``DISABLED`` | None before there is one).
        last_sync_at: epoch ms (UTC) of the last run that finished without error; ``last_run``:
            the last run's report; ``last_error``: its error.
        created_by / created / updated: who connected, epoch ms (UTC).
        lease_until / lease_id: the running sync's lease (epoch ms); written only by the
            repository's lease methods.
        extra: attributes of the item this record does not name, kept as read.
    """

    status: str | None = None
    rate_minutes: int | None = None
    schedule_name: str | None = None
    schedule_state: str | None = None
    last_sync_at: int | None = None
    last_run: Mapping[str, Any] | None = None
    last_error: str | None = None
    created_by: str | None = None
    created: int | None = None
    updated: int | None = None
    lease_until: int | None = None
    lease_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class KeptRecord:
    """Base of a dataclass record that writes back exactly the attributes its item had.

    ``_FIELDS`` maps wire names to attribute names; ``_READ`` gives, per wire name, how a stored
    value is read (``int``, :func:`int_tuple` ...; others are taken as they are). Subclasses
    declare ``stored`` (the wire names the item had; ``None`` for a record built here, which
    writes every named attribute) and ``extra`` (attributes the record does not name, kept as
    read), so ``Record.from_item(item).item() == item`` (no migration). Tuples are written as
    lists; ``None`` values are not stored (:func:`teamcal.storage.dynamo.serialize`).
    """

    _FIELDS: ClassVar[dict[str, str]]
    _READ: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    stored: frozenset[str] | None
    extra: Mapping[str, Any]

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """The record of a stored item (plain values, index keys removed), unvalidated."""
        values, extra = _read_item(item, cls._FIELDS, cls._READ)
        return cls(**values, stored=frozenset(k for k in item if k in cls._FIELDS), extra=extra)  # type: ignore[call-arg]

    def item(self) -> dict[str, Any]:
        """The stored attributes (wire names): those the item had (all, for a record built
        here) and the kept extras."""
        out: dict[str, Any] = {}
        for wire, name in self._FIELDS.items():
            if self.stored is not None and wire not in self.stored:
                continue
            v = getattr(self, name)
            out[wire] = list(v) if isinstance(v, tuple) else v
        out.update(self.extra)
        return out
