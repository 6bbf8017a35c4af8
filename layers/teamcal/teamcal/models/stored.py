""":class:`StoredRecord`: the shared ``from_item`` / ``item`` / ``evolved`` of the frozen records
whose every field but the key is optional (the Jira and Google state records).

A field left ``None`` is an attribute the item lacks (no ``None`` is stored, see
:func:`teamcal.storage.dynamo.serialize`); attributes a record does not name are kept in
``extra``, so ``Record.from_item(item).item() == item`` (no migration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self


class StoredRecord:
    """Base of a frozen dataclass record: ``_FIELDS`` maps wire names to attribute names,
    ``_INTS`` names the wire attributes read as ``int``; subclasses declare ``extra``."""

    _FIELDS: ClassVar[dict[str, str]]
    _INTS: ClassVar[frozenset[str]] = frozenset()
    extra: Mapping[str, Any]

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """The record of a stored item (plain values, keys ``pk``/``sk`` removed), unvalidated."""
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, v in item.items():
            name = cls._FIELDS.get(key)
            if name is None:
                extra[key] = v
            elif key in cls._INTS and v is not None:
                values[name] = int(v)
            else:
                values[name] = v
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
