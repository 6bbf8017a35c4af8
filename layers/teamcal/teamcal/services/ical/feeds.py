"""Subscription feeds: a secret URL serving a calendar's .ics.

A feed writes the events that can reach [now - 3 months, now + 1 year) (per-month index Queries
and the masters index, as a search does). Only the secret's SHA-256 is stored.
"""

from __future__ import annotations

import secrets

from teamcal.access import Action, require, visible_items
from teamcal.auth.principal import Principal
from teamcal.auth.tokens import hash_token
from teamcal.conditional import not_modified
from teamcal.errors import NotFoundError
from teamcal.ical.writer import CalendarWriter
from teamcal.models.calendars import CalendarRecord
from teamcal.models.event_record import EventRecord
from teamcal.models.feed_record import FeedRecord
from teamcal.models.ical import Feed
from teamcal.models.sources import SourceRecord
from teamcal.services.ical.export import IcsAnswer, calendar_name, event_sources, ics_validators, source_colors, year_of
from teamcal.services.ical.stores import IcalStores, active_calendar

#: The feed's window: 3 months back, 1 year ahead.
FEED_PAST_MS = 92 * 86_400_000
FEED_FUTURE_MS = 366 * 86_400_000
FEED_PREFIX = "tcf_"
#: How often subscribers are asked to poll (an RFC 5545 duration).
REFRESH_INTERVAL = "PT1H"


# ---------------------------------------------------------------------------- feeds
def _require_feed_admin(principal: Principal, calendar: CalendarRecord) -> None:
    """A feed publishes the calendar to whoever holds its URL: the owner or an admin decides,
    with a token that may edit calendars (:mod:`teamcal.access`, rule 11)."""
    require(principal, Action.MANAGE_FEED, calendar)


def _feed(record: FeedRecord) -> Feed:
    return Feed(
        calendar_id=record.calendar_id,
        hint=str(record.hint),
        created=record.created,
        created_by=record.created_by,
    )


def create_feed(stores: IcalStores, principal: Principal, calendar_id: int, now: int) -> tuple[Feed, str]:
    """Create (or replace: the old URL stops working) the calendar's feed; returns it and its
    secret (shown once; only its SHA-256 is stored).

    Raises:
        NotFoundError: calendar absent or not viewable. ForbiddenError: not owner/admin, or the
        token may not edit calendars. ConflictError: a concurrent change of the feed.
    """
    calendar = active_calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    record = FeedRecord(
        calendar_id=calendar.id,
        token_hash=hash_token(secret),
        hint=secret[-4:],
        created=now,
        created_by=principal.user,
    )
    stores.feeds.replace(record, stores.feeds.of_calendar(calendar.id))
    return _feed(record), secret


def get_feed(stores: IcalStores, principal: Principal, calendar_id: int) -> Feed:
    """The calendar's feed without its secret. Raises NotFoundError (no feed, or calendar
    absent / not viewable), ForbiddenError (see :func:`create_feed`)."""
    calendar = active_calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    record = stores.feeds.of_calendar(calendar.id)
    if record is None:
        raise NotFoundError(f"calendar {calendar_id} has no subscription feed")
    return _feed(record)


def revoke_feed(stores: IcalStores, principal: Principal, calendar_id: int) -> Feed:
    """Revoke the calendar's feed (its URL answers 404 from now on); returns it.

    Raises:
        NotFoundError / ForbiddenError: as :func:`get_feed`. ConflictError: changed meanwhile.
    """
    calendar = active_calendar(stores, principal, calendar_id)
    _require_feed_admin(principal, calendar)
    record = stores.feeds.of_calendar(calendar.id)
    if record is None:
        raise NotFoundError(f"calendar {calendar_id} has no subscription feed")
    stores.feeds.delete(record)
    return _feed(record)


def _feed_calendar(stores: IcalStores, secret: str) -> tuple[CalendarRecord, list[SourceRecord]]:
    if not secret.startswith(FEED_PREFIX) or len(secret) > 100:
        raise NotFoundError("no such feed")
    record = stores.feeds.by_hash(hash_token(secret))
    if record is None:
        raise NotFoundError("no such feed")
    calendar = active_calendar(stores, None, record.calendar_id)
    return calendar, event_sources(stores, calendar, None)


def feed_answer(
    stores: IcalStores, secret: str, now: int, if_none_match: str | None = None, if_modified_since: str | None = None
) -> IcsAnswer:
    """``GET`` / ``HEAD /feed/{feedToken}``: the feed's validators and, unless the client's copy
    is current (:func:`teamcal.conditional.not_modified`), its .ics (see :func:`feed_ics`).

    Raises:
        NotFoundError: unknown or revoked secret, or the calendar is gone.
    """
    calendar, sources = _feed_calendar(stores, secret)
    validators = ics_validators(stores, calendar, sources, "feed", now)
    if not_modified(if_none_match, if_modified_since, validators):
        return IcsAnswer(calendar.id, validators, None)
    return IcsAnswer(calendar.id, validators, _feed_text(stores, calendar, sources, now))


def feed_ics(stores: IcalStores, secret: str, now: int) -> str:
    """The .ics of the feed whose secret is ``secret``: every event that can reach
    [now - 3 months, now + 1 year), recurring ones as their rule with exceptions. Its reader is
    anonymous: private Google events are never in it (:mod:`teamcal.access`, rule 10). The
    calendar tells subscribers to poll every :data:`REFRESH_INTERVAL` (RFC 7986 §5.7
    REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL).

    Raises:
        NotFoundError: unknown or revoked secret, or the calendar is gone.
    """
    calendar, sources = _feed_calendar(stores, secret)
    return _feed_text(stores, calendar, sources, now)


def _feed_text(stores: IcalStores, calendar: CalendarRecord, sources: list[SourceRecord], now: int) -> str:
    wanted = {s.id for s in sources}
    start, end = now - FEED_PAST_MS, now + FEED_FUTURE_MS
    found: dict[int, EventRecord] = {}
    for event in stores.events.masters(calendar.id, start, end):
        if event.event_type_config_id in wanted:
            found[event.id] = event
    child_ids = [int(o["id"]) for m in found.values() for o in m.overrides.values()]
    found.update(stores.events.get_many(child_ids) if child_ids else {})
    for event in stores.events.in_window(calendar.id, start, end):
        if event.event_type_config_id in wanted:
            found.setdefault(event.id, event)
    writer = CalendarWriter(calendar_name(calendar), source_colors(sources), refresh_interval=REFRESH_INTERVAL)
    shown = visible_items(None, calendar, found.values())
    return writer.write([r.to_item() for r in shown], horizon_year=year_of(end) + 1)
