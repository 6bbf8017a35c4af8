"""The principal: who a request acts as, and what its token allows.

The TOKEN authorizer puts these fields into API Gateway's authorizer context; a REST API hands
every context value to the function as a string, so :meth:`Principal.from_context` parses strings
(and accepts real booleans and numbers too, for tests and in-process calls).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.errors import UnauthorizedError


def _groups(value: Any) -> list[str]:
    if isinstance(value, list | tuple | frozenset | set):
        return [str(g) for g in value]
    if not value:
        return []
    parsed = json.loads(str(value))
    return [str(g) for g in parsed] if isinstance(parsed, list) else []


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass(frozen=True)
class Principal:
    """The acting token and user.

    Attributes:
        token_id: the token's integer id.
        user: the user the token acts as (CCJ user key); it is the reporter of events it creates.
        all_calendars: the token reaches every calendar, present and future.
        calendar_ids: the calendars the token reaches when ``all_calendars`` is false.
        groups: the groups ``user`` belongs to, as the admin declared them on the token (teamcal has
            no directory of its own); calendar permissions granted to a group apply to them.
        edit_calendars / delete_calendars / edit_sources / delete_sources: CCJ token flags.
        admin: may manage tokens and deployment-wide settings.
    """

    token_id: int
    user: str
    all_calendars: bool = False
    calendar_ids: frozenset[int] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    edit_calendars: bool = False
    delete_calendars: bool = False
    edit_sources: bool = False
    delete_sources: bool = False
    admin: bool = False

    def to_context(self) -> dict[str, str | int | bool]:
        """The authorizer context for API Gateway: flat, scalar values only."""
        return {
            "tokenId": self.token_id,
            "user": self.user,
            "allCalendars": self.all_calendars,
            "calendarIds": ",".join(str(i) for i in sorted(self.calendar_ids)),
            "groups": json.dumps(sorted(self.groups)),
            "editCalendars": self.edit_calendars,
            "deleteCalendars": self.delete_calendars,
            "editSources": self.edit_sources,
            "deleteSources": self.delete_sources,
            "admin": self.admin,
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> Principal:
        """Rebuild the principal from an authorizer context (see :meth:`to_context`).

        Raises:
            UnauthorizedError: the context is missing or has no token id (the route was reached
                without the authorizer: a template mistake, never a client's).
        """
        if not context or not str(context.get("tokenId", "")).isdigit():
            raise UnauthorizedError("the request carries no authorized token")
        ids = str(context.get("calendarIds") or "")
        return cls(
            token_id=int(context["tokenId"]),
            user=str(context.get("user") or ""),
            all_calendars=_flag(context.get("allCalendars")),
            calendar_ids=frozenset(int(i) for i in ids.split(",") if i.strip().isdigit()),
            groups=frozenset(_groups(context.get("groups"))),
            edit_calendars=_flag(context.get("editCalendars")),
            delete_calendars=_flag(context.get("deleteCalendars")),
            edit_sources=_flag(context.get("editSources")),
            delete_sources=_flag(context.get("deleteSources")),
            admin=_flag(context.get("admin")),
        )
