"""A stored subscription feed: :class:`FeedRecord`, what the feeds repository returns and writes.

Item attributes (calendars table, see :mod:`teamcal.storage.feeds`): ``calendarId``,
``tokenHash`` (SHA-256 hex of the secret), ``hint`` (the secret's last 4 characters),
``created`` (epoch ms, UTC) and ``createdBy`` (the user who created it). Attributes this record
does not name are kept, and attributes an item lacked stay absent, so
``FeedRecord.from_item(item).item() == item`` (no migration).

A plain frozen dataclass (items are trusted: this service wrote them; nothing is validated on
read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.models.stored import KeptRecord

#: Wire name → attribute name of every attribute the record names.
_FIELD_OF: dict[str, str] = {
    "calendarId": "calendar_id",
    "tokenHash": "token_hash",
    "hint": "hint",
    "created": "created",
    "createdBy": "created_by",
}


@dataclass(frozen=True)
class FeedRecord(KeptRecord):
    """A calendar's stored subscription feed (never its secret).

    Attributes:
        calendar_id: the calendar the feed publishes.
        token_hash: SHA-256 hex of the secret (the lookup item's key; not shown in the repr).
        hint: the secret's last 4 characters (not a secret).
        created: epoch ms (UTC); ``created_by``: the user who created the feed (None: unknown).
        stored: the wire names the item had (None: a record built here, every attribute set).
        extra: attributes of the item this record does not name, kept as read.
    """

    _FIELDS = _FIELD_OF
    _READ = {"calendarId": int, "created": int}

    calendar_id: int
    token_hash: str = field(repr=False)
    hint: str = ""
    created: int = 0
    created_by: str | None = None
    stored: frozenset[str] | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict)
