"""Which tokens a token may create, see and revoke (issue 16: no privilege escalation).

A token creates only tokens within its own reach, and manages only the tokens it made unless it
is an all-calendars admin. The rules, one row each (README "Tokens and the authorizer"):

| what the new token asks for | allowed when the creating token … |
|---|---|
| ``allCalendars`` | is an all-calendars token |
| ``calendarIds`` | is all-calendars, or has every one of those ids |
| ``editCalendars`` / ``deleteCalendars`` / ``editSources`` / ``deleteSources`` | has that flag |
| ``admin`` | is an all-calendars admin |
| ``user`` other than its own, ``groups`` not all its own | is an all-calendars admin |

| listing and revoking | allowed when the token … |
|---|---|
| any token | is an all-calendars admin |
| a token it created (``createdBy``) | is any other admin |

Every route here needs an admin token first (403 otherwise). A token outside these rules is
403 on create; a token another admin made is absent from the listing and 404 on revoke.
"""

from __future__ import annotations

from collections.abc import Mapping

from teamcal.auth.principal import Principal
from teamcal.errors import ForbiddenError
from teamcal.models.tokens import TokenCreate

_FLAGS = (
    ("edit_calendars", "editCalendars"),
    ("delete_calendars", "deleteCalendars"),
    ("edit_sources", "editSources"),
    ("delete_sources", "deleteSources"),
)


def is_root(caller: Principal) -> bool:
    """An all-calendars admin: may grant anything and manage every token."""
    return caller.admin and caller.all_calendars


def check_grant(caller: Principal, request: TokenCreate) -> None:
    """Raise unless ``caller`` may create the token ``request`` describes (the table above).

    Raises:
        ForbiddenError: the caller is not an admin, or the new token would reach further than the
            caller; ``errors`` names the offending field.
    """
    caller.require_admin()
    if is_root(caller):
        return
    problems: dict[str, str] = {}
    if request.all_calendars:
        problems["allCalendars"] = "only an all-calendars token may create an all-calendars token"
    outside = sorted(set(request.calendar_ids) - caller.calendar_ids)
    if outside:
        problems["calendarIds"] = f"outside this token's calendars: {outside}"
    for attr, wire in _FLAGS:
        if getattr(request, attr) and not getattr(caller, attr):
            problems[wire] = f"this token does not have {wire}"
    if request.admin:
        problems["admin"] = "only an all-calendars admin may create admin tokens"
    if request.user != caller.user:
        problems["user"] = "only an all-calendars admin may create tokens for another user"
    if not set(request.groups) <= caller.groups:
        problems["groups"] = "only an all-calendars admin may grant groups this token does not have"
    if problems:
        raise ForbiddenError("the new token would reach further than this token", problems)


def manages(caller: Principal, record: Mapping[str, object]) -> bool:
    """Whether ``caller`` may see and revoke the stored token ``record`` (the second table)."""
    if not caller.admin:
        return False
    return is_root(caller) or record.get("createdBy") == caller.token_id
