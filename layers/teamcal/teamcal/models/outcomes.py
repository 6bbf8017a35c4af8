"""Outcomes of the scheduled sync runs (Google Calendar and Jira), as ``StrEnum`` members: a
member is its wire string, so logs, JSON answers and comparisons with the string are unchanged."""

from __future__ import annotations

from enum import StrEnum


class SyncOutcome(StrEnum):
    """What one sync run of a connection did.

    ``synced``: every source complete; ``partial``: stopped by the time budget, throttling or an
    error (it resumes next run); ``needs_reauth``: the stored credentials were refused;
    ``busy``: another run holds the lease; ``not_connected``: no connection (or it was removed
    while the run went on); ``calendar_deleted``: the calendar is gone (the connection was
    cleaned up; Google only).
    """

    SYNCED = "synced"
    PARTIAL = "partial"
    NEEDS_REAUTH = "needs_reauth"
    BUSY = "busy"
    NOT_CONNECTED = "not_connected"
    CALENDAR_DELETED = "calendar_deleted"
