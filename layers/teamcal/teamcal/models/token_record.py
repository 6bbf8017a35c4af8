"""A stored token: :class:`TokenRecord`, what the tokens repository returns and writes.

Item attributes (tokens table, see :mod:`teamcal.storage.tokens`) are the wire names of the
token admin API (:class:`teamcal.models.tokens.Token`: ``id``, ``name``, ``user``,
``allCalendars``, ``calendarIds``, ``groups``, ``editCalendars``, ``deleteCalendars``,
``editSources``, ``deleteSources``, ``admin``, ``hint``, ``created`` epoch ms, ``createdBy``)
plus ``tokenHash`` (SHA-256 hex of the plaintext). Attributes this record does not name are kept,
and attributes an item lacked stay absent, so ``TokenRecord.from_item(item).item() == item``
(no migration).

A plain frozen dataclass, not a pydantic model: the TOKEN authorizer reads one on every uncached
request and imports no pydantic at all (cold start); items are trusted (this service wrote them),
so nothing is validated on read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.auth.principal import Principal
from teamcal.models.stored import KeptRecord, int_tuple, str_tuple

#: Wire name → attribute name of every attribute the record names.
_FIELD_OF: dict[str, str] = {
    "id": "id",
    "name": "name",
    "user": "user",
    "allCalendars": "all_calendars",
    "calendarIds": "calendar_ids",
    "groups": "groups",
    "editCalendars": "edit_calendars",
    "deleteCalendars": "delete_calendars",
    "editSources": "edit_sources",
    "deleteSources": "delete_sources",
    "admin": "admin",
    "hint": "hint",
    "created": "created",
    "createdBy": "created_by",
    "tokenHash": "token_hash",
}
_FLAGS = ("allCalendars", "editCalendars", "deleteCalendars", "editSources", "deleteSources", "admin")


@dataclass(frozen=True)
class TokenRecord(KeptRecord):
    """A stored token (never its plaintext).

    Attributes:
        id: the token's integer id (random, below 2^53).
        name / user: the admin's label and the user the token acts as.
        all_calendars / calendar_ids: the token's calendar scope.
        groups: the groups ``user`` belongs to, as declared on the token.
        edit_calendars / delete_calendars / edit_sources / delete_sources / admin: CCJ flags.
        hint: the plaintext's first characters (not a secret).
        created: epoch ms (UTC); ``created_by``: the id of the token that created it (None for
            the bootstrap command's).
        token_hash: SHA-256 hex of the plaintext (the item's key).
        stored: the wire names the item had (None: a record built here, every attribute set).
        extra: attributes of the item this record does not name, kept as read.
    """

    _FIELDS = _FIELD_OF
    _READ = {"id": int, "calendarIds": int_tuple, "groups": str_tuple, **dict.fromkeys(_FLAGS, bool)}

    id: int
    user: str
    token_hash: str
    name: str = ""
    all_calendars: bool = False
    calendar_ids: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()
    edit_calendars: bool = False
    delete_calendars: bool = False
    edit_sources: bool = False
    delete_sources: bool = False
    admin: bool = False
    hint: str = ""
    created: int = 0
    created_by: int | None = None
    stored: frozenset[str] | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def principal(self) -> Principal:
        """The principal this token grants."""
        return Principal(
            token_id=self.id,
            user=str(self.user),
            all_calendars=self.all_calendars,
            calendar_ids=frozenset(self.calendar_ids),
            groups=frozenset(self.groups),
            edit_calendars=self.edit_calendars,
            delete_calendars=self.delete_calendars,
            edit_sources=self.edit_sources,
            delete_sources=self.delete_sources,
            admin=self.admin,
        )
