"""Who may see and change a calendar: pure rules over a token and a calendar's settings.

Inputs: the :class:`~teamcal.auth.principal.Principal` (the token's scope — all calendars or a
list of calendar ids —, its flags ``edit_calendars``, ``delete_calendars``, ``edit_sources``,
``delete_sources``, ``admin``, and the acting ``user`` with their ``groups``) and the calendar's
settings (``user`` = its owner, ``publicCalendar``, ``calendarEditable``, ``permCalendarEdit``,
``eventsEditable``, ``permEventsEdit``, ``eventReporterEdit``, ``permCalendarView``).

"Listed in a grant" means the acting user is in its ``users`` or one of their groups is in its
``groups``. "Owner" means the token's user is the calendar's ``user``. "Admin" means an admin
token (it stands in for CCJ's Jira administrators, who manage every calendar).

The rules, in the order they are checked:

1. **Scope** — a calendar outside the token's scope does not exist for it: 404, never 403
   (CCJ reference: "404 … when the calendarId is not associated with the token").
2. **View** — in scope and: public, or owner, or admin, or listed in ``permCalendarView``,
   ``permCalendarEdit`` or ``permEventsEdit``. A private calendar the user may not view is a 404
   too (its existence is not revealed). ``GET /calendar`` lists only viewable calendars.
3. **Edit calendar configuration** (``PUT /calendar``) — viewable, the token has
   ``edit_calendars``, and the user may edit the calendar: owner, admin, or ``calendarEditable``
   and (``permCalendarEdit`` is empty = everyone who can view, or the user is listed). Else 403.
4. **Change permissions or ownership** (``PUT /calendar`` sending a permission property that
   differs from the stored one) — rule 3 and (owner or admin); a new ``user`` needs admin.
   Refinement of the proposed rules: an editor granted by ``permCalendarEdit`` could otherwise
   lock the owner's chosen editors out or publish a private calendar. Else 403.
5. **Sources** (``POST``/``PUT``/``DELETE /source``) — viewable, the token has ``edit_sources``
   (``delete_sources`` for DELETE), and the user may edit the calendar (as in rule 3). Else 403.
6. **Delete calendar** — viewable, the token has ``delete_calendars``, and owner or admin. Else 403.
7. **Create calendar** (``POST /calendar``) — an all-calendars token with ``edit_calendars``
   (CCJ: "use a token based on the All calendars option should you wish to add new calendars").
   The owner is the token's user; naming another ``user`` needs an admin token. Else 403.
8. **Edit events** (:func:`can_edit_events`, for the events API) — viewable and: owner, admin,
   or ``eventsEditable`` and (``permEventsEdit`` empty or the user listed), or
   ``eventReporterEdit`` and the user is the event's reporter.
9. **Custom event types** (``POST``/``PUT``/``DELETE /eventypes``) — admin tokens only (CCJ:
   custom event types are managed by administrators); predefined types never change (403).
"""

from __future__ import annotations

from teamcal.auth.principal import Principal
from teamcal.errors import ForbiddenError, InvalidInputError, NotFoundError
from teamcal.models.calendars import CalendarRecord, CalendarSettings
from teamcal.models.values import PermissionGrant


def listed(principal: Principal, grant: PermissionGrant) -> bool:
    """The acting user, or one of their groups, is named in ``grant``."""
    return (bool(principal.user) and principal.user in grant.users) or bool(principal.groups.intersection(grant.groups))


def _open_or_listed(principal: Principal, grant: PermissionGrant) -> bool:
    return grant.is_empty() or listed(principal, grant)


def is_owner(principal: Principal, calendar: CalendarRecord) -> bool:
    """The token's user owns the calendar (an empty user owns nothing)."""
    return bool(principal.user) and principal.user == calendar.user


def can_view(principal: Principal, calendar: CalendarRecord) -> bool:
    """Rules 1-2: in scope, and public or owner, admin, or listed in a view or edit grant."""
    if not principal.sees_calendar(calendar.id):
        return False
    return (
        calendar.public_calendar
        or is_owner(principal, calendar)
        or principal.admin
        or listed(principal, calendar.perm_calendar_view)
        or listed(principal, calendar.perm_calendar_edit)
        or listed(principal, calendar.perm_events_edit)
    )


def user_can_edit_calendar(principal: Principal, calendar: CalendarRecord) -> bool:
    """Rule 3's user part (no token flag): owner, admin, or editable and open or listed."""
    return (
        is_owner(principal, calendar)
        or principal.admin
        or (calendar.calendar_editable and _open_or_listed(principal, calendar.perm_calendar_edit))
    )


def can_edit_events(principal: Principal, calendar: CalendarRecord, reporter: str | None) -> bool:
    """Rule 8: may the acting user create, change or delete an event reported by ``reporter``?

    ``reporter`` is the event's reporter (the user who created it), ``None`` for a new event.
    """
    if not can_view(principal, calendar):
        return False
    return (
        is_owner(principal, calendar)
        or principal.admin
        or (calendar.events_editable and _open_or_listed(principal, calendar.perm_events_edit))
        or (calendar.event_reporter_edit and bool(principal.user) and reporter == principal.user)
    )


def require_view(principal: Principal, calendar: CalendarRecord) -> None:
    """Rules 1-2. Raises NotFoundError when the calendar is out of scope or not viewable."""
    if not can_view(principal, calendar):
        raise NotFoundError(f"calendar {calendar.id} not found")


def require_edit_calendar(principal: Principal, calendar: CalendarRecord) -> None:
    """Rule 3. Raises NotFoundError (not viewable) or ForbiddenError."""
    require_view(principal, calendar)
    if not principal.edit_calendars:
        raise ForbiddenError("this token may not edit calendars")
    if not user_can_edit_calendar(principal, calendar):
        raise ForbiddenError(f"user {principal.user!r} may not edit calendar {calendar.id}")


def require_change_settings(
    principal: Principal, calendar: CalendarRecord, settings: CalendarSettings, new_owner: str | None
) -> None:
    """Rule 4, after rule 3: only the owner or an admin changes permissions; only an admin
    changes the owner. Sending a property with its stored value is not a change.

    Raises:
        ForbiddenError: the request changes what the user may not change.
    """
    if new_owner is not None and new_owner != calendar.user and not principal.admin:
        raise ForbiddenError("only an admin token may change a calendar's owner")
    if is_owner(principal, calendar) or principal.admin:
        return
    for name in CalendarSettings.model_fields:
        sent = getattr(settings, name)
        if sent is not None and sent != getattr(calendar, name):
            raise ForbiddenError("only the calendar's owner or an admin token may change its permissions")


def require_edit_sources(principal: Principal, calendar: CalendarRecord, *, delete: bool = False) -> None:
    """Rule 5. Raises NotFoundError (not viewable) or ForbiddenError."""
    require_view(principal, calendar)
    if delete and not principal.delete_sources:
        raise ForbiddenError("this token may not delete sources")
    if not delete and not principal.edit_sources:
        raise ForbiddenError("this token may not edit sources")
    if not user_can_edit_calendar(principal, calendar):
        raise ForbiddenError(f"user {principal.user!r} may not change the sources of calendar {calendar.id}")


def require_delete_calendar(principal: Principal, calendar: CalendarRecord) -> None:
    """Rule 6. Raises NotFoundError (not viewable) or ForbiddenError."""
    require_view(principal, calendar)
    if not principal.delete_calendars:
        raise ForbiddenError("this token may not delete calendars")
    if not (is_owner(principal, calendar) or principal.admin):
        raise ForbiddenError("only the calendar's owner or an admin token may delete it")


def require_create_calendar(principal: Principal, owner: str | None) -> str:
    """Rule 7; returns the new calendar's owner.

    Raises:
        ForbiddenError: not an all-calendars token with ``edit_calendars``, or a non-admin token
            naming another owner.
        InvalidInputError: no owner at all (a token acting as no user, and no ``user`` sent).
    """
    if not (principal.all_calendars and principal.edit_calendars):
        raise ForbiddenError("creating calendars needs an all-calendars token that may edit calendars")
    if owner is not None and owner != principal.user:
        if not principal.admin:
            raise ForbiddenError("only an admin token may create a calendar for another user")
        return owner
    if not principal.user:
        raise InvalidInputError.for_field("user", "the token acts as no user; name the calendar's owner")
    return principal.user


def require_manage_event_types(principal: Principal) -> None:
    """Rule 9. Raises ForbiddenError unless the token is an admin token."""
    if not principal.admin:
        raise ForbiddenError("custom event types are managed with an admin token")
