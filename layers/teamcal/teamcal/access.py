"""The access gate: the only module that decides who may see and change what.

Pure rules over a principal (a token) and a calendar, a source or an event; services ask it and
never decide themselves (DESIGN.md, "Trust boundaries"). Out of reach or invisible →
:class:`~teamcal.errors.NotFoundError` (404: existence is not revealed); visible but not allowed
→ :class:`~teamcal.errors.ForbiddenError` (403).

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
   It may name any ``user`` as the owner, as the vendor's own sample does (CCJ tokens carry no
   user); without one the owner is the token's user. A token that is not all-calendars → 403.
8. **Events** — creating an event (``POST /event``, import, a partner mapping) needs the
   events-edit right: owner, admin, or ``eventsEditable`` and (``permEventsEdit`` empty or the
   user listed). Changing or deleting one needs that right, or ``eventReporterEdit`` and the
   user is the event's reporter (one's own events only). A ``readOnly`` event or source (synced
   from Google) is never changed here (403).
9. **Custom event types** (``POST``/``PUT``/``DELETE /eventypes``) — admin tokens only (CCJ:
   custom event types are managed by administrators); predefined types never change (403).
10. **Private Google events** — a source synced from a private Google calendar, and its events
    (``private`` on both), exist for the calendar's owner only: search, ``GET /event``,
    ``GET /source``, export; never in a feed (anonymous) nor sent to a partner.
11. **Feeds and Google connections** — a feed is managed by the owner or an admin with
    ``edit_calendars``; a Google connection is managed by the owner with ``edit_calendars`` and
    seen by the owner or an admin.
12. **Synchronizations** — managed with an admin token or one with ``edit_calendars``. A
    synchronization is seen and changed only by the token that created or accepted it, or by an
    admin token. Its reach is clipped to the calendars the managing token may add events to
    (:func:`manager_reach`): nothing outside it is listed, mapped, read or written by the partner.
13. **Partner writes** (:func:`partner_write_refusal`) — a partner creates events only through a
    PULL/BOTH mapping, of a type in our scope and the mapping's types; it changes or deletes only
    events of the mapped calendar that came from it, or that we sent it through a BOTH mapping,
    never a read-only, private or other partner's event.
14. **Tokens** (``/token``, admin tokens only: 403 otherwise) — a token creates only tokens
    within its own reach (:func:`require_token_grant`, 403 naming the field): ``allCalendars``
    only from an all-calendars token; ``calendarIds`` within its own; each of
    ``editCalendars``/``deleteCalendars``/``editSources``/``deleteSources`` only if it has it;
    ``admin``, a ``user`` other than its own, or ``groups`` it does not have only from an
    all-calendars admin. An all-calendars admin lists and revokes every token; any other admin
    only the tokens it created (:func:`manages_token`; others are absent or 404).
15. **Jira** (``/jira/connection``, ``POST /jira/sync``) — admin tokens only (403 otherwise):
    the connection holds the site's credentials and a sync runs for every Jira source.

The answers for each kind of principal and object are tabulated in the README ("Permissions"),
checked against ``tests/unit/test_access.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from teamcal.auth.principal import Principal
from teamcal.errors import ForbiddenError, InvalidInputError, NotFoundError
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.calendars import CalendarRecord, CalendarSettings
from teamcal.models.event_record import EventRecord
from teamcal.models.origin import OriginKind
from teamcal.models.sources import SourceRecord
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.models.token_record import TokenRecord
from teamcal.models.tokens import TokenCreate
from teamcal.models.values import PermissionGrant
from teamcal.partners.protocol import Scope

#: A source or an event (their records).
Item = EventRecord | SourceRecord
_Item = TypeVar("_Item", bound=Item)


def listed(principal: Principal, grant: PermissionGrant) -> bool:
    """The acting user, or one of their groups, is named in ``grant``."""
    return (bool(principal.user) and principal.user in grant.users) or bool(principal.groups.intersection(grant.groups))


def _open_or_listed(principal: Principal, grant: PermissionGrant) -> bool:
    return grant.is_empty() or listed(principal, grant)


def is_owner(principal: Principal, calendar: CalendarRecord) -> bool:
    """The token's user owns the calendar (an empty user owns nothing)."""
    return bool(principal.user) and principal.user == calendar.user


def is_shared(calendar: CalendarRecord) -> bool:
    """Whether others than the owner may see the calendar: public, or a view / edit grant names
    someone (a private Google calendar may be synced into an unshared calendar only)."""
    return calendar.public_calendar or not (
        calendar.perm_calendar_view.is_empty()
        and calendar.perm_calendar_edit.is_empty()
        and calendar.perm_events_edit.is_empty()
    )


def scope_ids(principal: Principal) -> frozenset[int] | None:
    """Rule 1: the calendar ids the token is tied to; None for an all-calendars token."""
    return None if principal.all_calendars else principal.calendar_ids


def shares_more(calendar: CalendarRecord, update: CalendarSettings) -> bool:
    """Whether ``update`` makes the calendar public or grants it to a user or group not granted
    before (refused while a private Google calendar is synced into it)."""
    if update.public_calendar and not calendar.public_calendar:
        return True
    for name in ("perm_calendar_view", "perm_calendar_edit", "perm_events_edit"):
        sent, before = getattr(update, name), getattr(calendar, name)
        if sent is not None and (set(sent.users) - set(before.users) or set(sent.groups) - set(before.groups)):
            return True
    return False


def in_scope(principal: Principal, calendar_id: int) -> bool:
    """Rule 1: the token reaches the calendar (all calendars, or it is in the token's list)."""
    return principal.all_calendars or calendar_id in principal.calendar_ids


def require_admin(principal: Principal) -> None:
    """Rules 9, 14 and 15: an admin-only operation.

    Raises:
        ForbiddenError: ``principal`` is not an admin token.
    """
    if not principal.admin:
        raise ForbiddenError("this operation needs an admin token")


def can_view(principal: Principal, calendar: CalendarRecord) -> bool:
    """Rules 1-2: in scope, and public or owner, admin, or listed in a view or edit grant."""
    if not in_scope(principal, calendar.id):
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


def may_add_events(principal: Principal, calendar: CalendarRecord) -> bool:
    """Rule 8, creating: viewable, and owner, admin, or ``eventsEditable`` and open or listed."""
    if not can_view(principal, calendar):
        return False
    return (
        is_owner(principal, calendar)
        or principal.admin
        or (calendar.events_editable and _open_or_listed(principal, calendar.perm_events_edit))
    )


def can_edit_events(principal: Principal, calendar: CalendarRecord, reporter: str | None) -> bool:
    """Rule 8: may the acting user create (``reporter`` None), change or delete an event reported
    by ``reporter``? ``eventReporterEdit`` grants changing one's own existing events only."""
    if may_add_events(principal, calendar):
        return True
    return (
        reporter is not None
        and can_view(principal, calendar)
        and calendar.event_reporter_edit
        and bool(principal.user)
        and reporter == principal.user
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
    """Rule 7; returns the new calendar's owner (``owner`` if given, else the token's user).

    Raises:
        ForbiddenError: not an all-calendars token with ``edit_calendars``.
        InvalidInputError: no owner at all (a token acting as no user, and no ``user`` sent).
    """
    if not (principal.all_calendars and principal.edit_calendars):
        raise ForbiddenError("creating calendars needs an all-calendars token that may edit calendars")
    if owner:
        return owner
    if not principal.user:
        raise InvalidInputError.for_field("user", "the token acts as no user; name the calendar's owner")
    return principal.user


def require_manage_event_types(principal: Principal) -> None:
    """Rule 9. Raises ForbiddenError unless the token is an admin token."""
    if not principal.admin:
        raise ForbiddenError("custom event types are managed with an admin token")


# ---------------------------------------------------------------------------- records and actions
class Action(enum.Enum):
    """What a principal wants to do with a calendar, or with a source or an event of it."""

    VIEW = "view"
    EDIT_CALENDAR = "edit calendar"
    DELETE_CALENDAR = "delete calendar"
    EDIT_SOURCES = "edit sources"
    DELETE_SOURCES = "delete sources"
    CREATE_EVENT = "create event"
    EDIT_EVENT = "edit event"
    DELETE_EVENT = "delete event"
    MANAGE_FEED = "manage feed"
    MANAGE_GOOGLE = "manage google"
    SEE_GOOGLE = "see google"


class Answer(enum.Enum):
    """The gate's answer: allowed, 403 (visible but not allowed) or 404 (out of reach)."""

    ALLOW = "allow"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not found"


def is_active(record: CalendarRecord | SourceRecord | None) -> bool:
    """A calendar or source record that exists and is not being deleted (``status`` ACTIVE)."""
    return record is not None and record.active


def is_private(item: Item | None) -> bool:
    """A source synced from a private Google calendar, or one of its events (rule 10)."""
    return item is not None and item.private


def is_read_only(item: Item | None) -> bool:
    """A source or event synced from Google: it changes only there (rule 8)."""
    return item is not None and item.read_only


def item_visible(principal: Principal | None, calendar: CalendarRecord, item: Item | None) -> bool:
    """Rule 10 for a source or event of a calendar the principal may view: a private one exists
    for the calendar's owner only. ``principal`` None is an anonymous reader (a feed): never."""
    if not is_private(item):
        return True
    return principal is not None and is_owner(principal, calendar)


def visible_items(principal: Principal | None, calendar: CalendarRecord, items: Iterable[_Item]) -> list[_Item]:
    """The sources or events of ``calendar`` the principal may see (rule 10); the caller has
    established that the calendar itself is viewable (or reached by a feed's secret)."""
    return [item for item in items if item_visible(principal, calendar, item)]


def decide(
    principal: Principal,
    action: Action,
    calendar: CalendarRecord | None,
    item: Item | None = None,
    *,
    deleting_ok: bool = False,
) -> Answer:
    """The answer for ``action`` on ``calendar`` (None: absent), or on ``item`` — a source (for
    :attr:`Action.CREATE_EVENT`, the source written to) or an event (edit / delete) — of it.

    A calendar that is absent, being deleted, out of scope or not viewable, and a private item
    of another user's calendar, are :attr:`Answer.NOT_FOUND` for every action (``deleting_ok``:
    a calendar being deleted counts, to resume its deletion).
    """
    if calendar is None or not (deleting_ok or is_active(calendar)) or not can_view(principal, calendar):
        return Answer.NOT_FOUND
    if not item_visible(principal, calendar, item):
        return Answer.NOT_FOUND
    return Answer.ALLOW if _allowed(principal, action, calendar, item) else Answer.FORBIDDEN


def _allowed(principal: Principal, action: Action, calendar: CalendarRecord, item: Item | None) -> bool:
    owner_or_admin = is_owner(principal, calendar) or principal.admin
    if action in (Action.CREATE_EVENT, Action.EDIT_EVENT, Action.DELETE_EVENT):
        if is_read_only(item):
            return False
        reporter = item.reporter if action is not Action.CREATE_EVENT and isinstance(item, EventRecord) else None
        return can_edit_events(principal, calendar, str(reporter) if reporter else None)
    editor = user_can_edit_calendar(principal, calendar)
    granted = {
        Action.VIEW: True,
        Action.EDIT_CALENDAR: principal.edit_calendars and editor,
        Action.DELETE_CALENDAR: principal.delete_calendars and owner_or_admin,
        Action.EDIT_SOURCES: principal.edit_sources and editor,
        Action.DELETE_SOURCES: principal.delete_sources and editor,
        Action.MANAGE_FEED: principal.edit_calendars and editor and owner_or_admin,
        Action.MANAGE_GOOGLE: principal.edit_calendars and is_owner(principal, calendar),
        Action.SEE_GOOGLE: owner_or_admin,
    }
    return granted[action]


#: The token flag an action needs, and what its absence forbids.
_FLAGS = {
    Action.EDIT_CALENDAR: ("edit_calendars", "edit calendars"),
    Action.DELETE_CALENDAR: ("delete_calendars", "delete calendars"),
    Action.EDIT_SOURCES: ("edit_sources", "edit sources"),
    Action.DELETE_SOURCES: ("delete_sources", "delete sources"),
    Action.MANAGE_FEED: ("edit_calendars", "edit calendars"),
    Action.MANAGE_GOOGLE: ("edit_calendars", "edit calendars"),
}
READ_ONLY_MESSAGE = "events synced from Google Calendar or Jira are read-only here; change them where they come from"
_REFUSALS = {
    Action.VIEW: "",
    Action.EDIT_CALENDAR: "you may not edit calendar {id}",
    Action.DELETE_CALENDAR: "you may not delete calendar {id}",
    Action.EDIT_SOURCES: "you may not change the sources of calendar {id}",
    Action.DELETE_SOURCES: "you may not delete sources of calendar {id}",
    Action.CREATE_EVENT: "you may not add events to calendar {id}",
    Action.EDIT_EVENT: "you may not change this event of calendar {id}",
    Action.DELETE_EVENT: "you may not delete this event of calendar {id}",
    Action.MANAGE_FEED: "only the calendar's owner or an admin token may manage the subscription feed of calendar {id}",
    Action.MANAGE_GOOGLE: "only the calendar's owner may manage the Google Calendar connection of calendar {id}",
    Action.SEE_GOOGLE: "only the calendar's owner or an admin may see the Google Calendar connection of calendar {id}",
}


def require(
    principal: Principal,
    action: Action,
    calendar: CalendarRecord | None,
    item: Item | None = None,
    *,
    missing: NotFoundError | None = None,
    deleting_ok: bool = False,
) -> CalendarRecord:
    """:func:`decide`, raising; returns the calendar.

    Raises:
        NotFoundError: ``missing`` (or "calendar … not found"). ForbiddenError: not allowed; a
            read-only (Google) item says so.
    """
    answer = decide(principal, action, calendar, item, deleting_ok=deleting_ok)
    if answer is Answer.NOT_FOUND or calendar is None:
        raise missing or NotFoundError(f"calendar {calendar.id if calendar else '?'} not found")
    if answer is Answer.FORBIDDEN:
        if action in (Action.CREATE_EVENT, Action.EDIT_EVENT, Action.DELETE_EVENT) and is_read_only(item):
            raise ForbiddenError(READ_ONLY_MESSAGE)
        flag = _FLAGS.get(action)
        if flag is not None and not getattr(principal, flag[0]):
            raise ForbiddenError(f"this token may not {flag[1]}")
        raise ForbiddenError(_REFUSALS[action].format(id=calendar.id))
    return calendar


# ---------------------------------------------------------------------------- synchronizations
def require_sync_manager(principal: Principal) -> None:
    """Rule 12: synchronizations are managed with an admin token or one that may edit calendars.
    Raises ForbiddenError."""
    if not (principal.admin or principal.edit_calendars):
        raise ForbiddenError("synchronizations are managed with an admin token or a token that may edit calendars")


def manages_sync(principal: Principal, sync: SynchronizationRecord) -> bool:
    """Rule 12: an admin token, the token that created or accepted ``sync`` (``managerTokenId``),
    or any manager for a received invitation nobody has accepted yet."""
    manager = sync.manager_token_id
    return principal.admin or manager is None or manager == principal.token_id


def require_manages_sync(principal: Principal, sync: SynchronizationRecord) -> None:
    """:func:`manages_sync`; another token's synchronization is a 404. Raises NotFoundError."""
    if not manages_sync(principal, sync):
        raise NotFoundError(f"synchronization {sync.id} not found")


def manager_reach(principal: Principal, calendars: Iterable[CalendarRecord]) -> list[int] | None:
    """Rule 12: the calendars a synchronization set up by ``principal`` may reach — None (every
    calendar) for an all-calendars token, else the ids among ``calendars`` (those of the token's
    scope) that are ACTIVE and to which the token may add events."""
    if principal.all_calendars:
        return None
    return sorted(c.id for c in calendars if is_active(c) and may_add_events(principal, c))


@dataclass(frozen=True)
class PartnerReach:
    """What a synchronization exposes to its partner: our scope, clipped to the managing token's
    reach (``calendars`` None: not clipped)."""

    scope: Scope
    calendars: frozenset[int] | None

    def covers_calendar(self, calendar_id: int) -> bool:
        """The partner may list, map, read and write calendar ``calendar_id``."""
        return self.scope.covers_calendar(calendar_id) and (self.calendars is None or calendar_id in self.calendars)

    def covers_type(self, type_key: str) -> bool:
        """Events of type ``type_key`` may be replicated."""
        return self.scope.covers_type(type_key)

    def covers(self, calendar_id: int, type_key: str) -> bool:
        """Both of the above."""
        return self.covers_calendar(calendar_id) and self.covers_type(type_key)


#: The scope of a synchronization we have not accepted yet: it covers nothing.
_NOTHING = Scope.model_construct(mode="SHOW_SELECTED", calendar_ids=[-1], event_types=["-"])


def partner_reach(sync: SynchronizationRecord) -> PartnerReach:
    """The reach of a stored synchronization (``scope`` and the clipped ``reach``; nothing before
    we chose a scope)."""
    raw = sync.scope
    scope = Scope.model_validate(raw) if raw else _NOTHING
    clipped = sync.reach
    return PartnerReach(scope, None if clipped is None else frozenset(clipped))


def may_send_to_partner(event: EventRecord, source: SourceRecord | None) -> bool:
    """Rule 10: a private Google event (or one of a private source) is never sent to a partner."""
    return not (is_private(event) or is_private(source))


class PartnerRefusal(enum.Enum):
    """Why a partner's change is refused (rule 13); logged and counted, never applied."""

    MAPPING_DOES_NOT_PULL = "the mapping does not take changes from the partner"
    OUT_OF_REACH = "the mapped calendar is outside this synchronization's reach"
    TYPE_OUT_OF_SCOPE = "the event type is outside this synchronization's scope or mapping"
    NOT_THE_PARTNERS = "the event did not come from this partner nor was sent to it through a BOTH mapping"
    READ_ONLY = "the event is read-only (synced from Google)"
    PRIVATE = "the event is private"
    OTHER_CALENDAR = "the event is not in the mapped calendar"


def partner_write_refusal(
    sync_id: int,
    reach: PartnerReach,
    mapping: CalendarMappingRecord,
    stored: EventRecord | None,
    stored_type: str | None,
    new_type: str | None,
) -> PartnerRefusal | None:
    """Rule 13: may the partner of ``sync_id`` write through ``mapping`` — create (``stored``
    None) or change / delete the stored event ``stored`` (of type ``stored_type``), giving it
    type ``new_type`` (None for a delete)? None when it may.
    """
    calendar_id = mapping.local_calendar_id
    if not mapping.pulls:
        return PartnerRefusal.MAPPING_DOES_NOT_PULL
    if not reach.covers_calendar(calendar_id):
        return PartnerRefusal.OUT_OF_REACH
    for type_key in (new_type, stored_type):
        if type_key is not None and not (reach.covers_type(type_key) and mapping.wants_type(type_key)):
            return PartnerRefusal.TYPE_OUT_OF_SCOPE
    if stored is None:
        return None
    if stored.calendar_id != calendar_id:
        return PartnerRefusal.OTHER_CALENDAR
    if is_read_only(stored):
        return PartnerRefusal.READ_ONLY
    if is_private(stored):
        return PartnerRefusal.PRIVATE
    origin = stored.came_from
    if origin.kind is OriginKind.PARTNER:
        return None if origin.came_through(sync_id) else PartnerRefusal.NOT_THE_PARTNERS
    if origin.kind is not OriginKind.LOCAL or mapping.direction != "BOTH":
        return PartnerRefusal.NOT_THE_PARTNERS
    return None


# ---------------------------------------------------------------------------- tokens (rule 14)
_TOKEN_FLAGS = (
    ("edit_calendars", "editCalendars"),
    ("delete_calendars", "deleteCalendars"),
    ("edit_sources", "editSources"),
    ("delete_sources", "deleteSources"),
)


def is_root_admin(caller: Principal) -> bool:
    """An all-calendars admin: may grant anything and manage every token."""
    return caller.admin and caller.all_calendars


def require_token_grant(caller: Principal, request: TokenCreate) -> None:
    """Raise unless ``caller`` may create the token ``request`` describes (rule 14).

    Raises:
        ForbiddenError: the caller is not an admin, or the new token would reach further than the
            caller; ``errors`` names the offending field.
    """
    require_admin(caller)
    if is_root_admin(caller):
        return
    problems: dict[str, str] = {}
    if request.all_calendars:
        problems["allCalendars"] = "only an all-calendars token may create an all-calendars token"
    outside = sorted(set(request.calendar_ids) - caller.calendar_ids)
    if outside:
        problems["calendarIds"] = f"outside this token's calendars: {outside}"
    for attr, wire in _TOKEN_FLAGS:
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


def manages_token(caller: Principal, record: TokenRecord) -> bool:
    """Whether ``caller`` may see and revoke the stored token ``record`` (rule 14)."""
    if not caller.admin:
        return False
    return is_root_admin(caller) or record.created_by == caller.token_id
