"""Wire models of the Google Calendar sync routes (teamcal's own: ``/calendar/{calendarId}/google…``
and ``/google/oauth/callback``; issue #6).

Secrets (client secret, refresh token, service-account key, API key) are accepted as
:class:`pydantic.SecretStr` / a key object and never appear in a response or a log line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: How many Google calendars one teamcal calendar may sync.
MAX_SELECTED = 20


class CredentialsRequest(BaseModel):
    """Body of ``PUT /calendar/{calendarId}/google/credentials``: exactly one of

    * ``{"clientId", "clientSecret", "refreshToken"}`` (an OAuth client and a refresh token
      obtained with offline access and the ``calendar.readonly`` scope),
    * ``{"serviceAccountKey": {…}}`` (a service-account JSON key; ``subject`` = the user it acts
      for with domain-wide delegation),
    * ``{"apiKey"}`` alone (public Google calendars only);

    ``apiKey`` may accompany the first two: it tells public Google calendars from private ones.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid", defer_build=True)

    client_id: str | None = Field(default=None, alias="clientId", min_length=1, max_length=512)
    client_secret: SecretStr | None = Field(default=None, alias="clientSecret", min_length=1, max_length=512)
    refresh_token: SecretStr | None = Field(default=None, alias="refreshToken", min_length=1, max_length=4096)
    service_account_key: dict[str, Any] | None = Field(default=None, alias="serviceAccountKey")
    subject: str | None = Field(default=None, min_length=3, max_length=320, description="user to impersonate")
    api_key: SecretStr | None = Field(default=None, alias="apiKey", min_length=1, max_length=512)


class SelectedCalendar(BaseModel):
    """One Google calendar to sync, by its Google id (``primary`` is not accepted: name it)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    id: str = Field(min_length=1, max_length=1024)


class SelectionRequest(BaseModel):
    """Body of ``PUT /calendar/{calendarId}/google`` ("Save"): the Google calendars to sync (the
    whole selection: absent ones stop syncing and their events go), the schedule's rate, and
    ``confirm`` (CCJ reference, sharing case 3: selecting a private Google calendar for a shared
    calendar removes the shares only when confirmed)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", defer_build=True)

    calendars: list[str | SelectedCalendar] = Field(max_length=MAX_SELECTED)
    rate_minutes: int | None = Field(default=None, alias="rateMinutes", ge=1, le=1440)
    confirm: bool = False

    @field_validator("calendars")
    @classmethod
    def _ids(cls, value: list[str | SelectedCalendar]) -> list[str | SelectedCalendar]:
        ids = [v if isinstance(v, str) else v.id for v in value]
        if any(not i or len(i) > 1024 for i in ids):
            raise ValueError("each calendar is a Google calendar id")
        if len(set(ids)) != len(ids):
            raise ValueError("a Google calendar is listed twice")
        return value

    def ids(self) -> list[str]:
        """The selected Google calendar ids, in the order sent."""
        return [v if isinstance(v, str) else v.id for v in self.calendars]


class GoogleCalendarItem(BaseModel):
    """An item of ``GET /calendar/{calendarId}/google/calendars``: a Google calendar the
    credentials can read (``calendarList.list``), whether it is public (readable with an API key
    alone) and whether it is selected."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: str
    summary: str | None = None
    description: str | None = None
    time_zone: str | None = Field(default=None, alias="timeZone")
    access_role: str | None = Field(default=None, alias="accessRole")
    primary: bool = False
    public: bool
    selected: bool


class AuthorizeResponse(BaseModel):
    """Answer of ``GET /calendar/{calendarId}/google/authorize``: the consent ``url`` to send the
    user to (offline access, read-only scope, ``state``, PKCE S256), its ``state``, the fixed
    ``redirectUri`` and when the consent expires (epoch ms)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    url: str
    state: str
    redirect_uri: str = Field(alias="redirectUri")
    expires_at: int = Field(alias="expiresAt")


class SyncedCalendarStatus(BaseModel):
    """One selected Google calendar in the status."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: str
    summary: str | None = None
    public: bool
    source_id: int | None = Field(default=None, alias="sourceId")
    mode: Literal["full", "incremental"]
    last_sync_at: int | None = Field(default=None, alias="lastSyncAt", description="epoch ms")
    event_count: int = Field(default=0, alias="eventCount")
    full_syncs: int = Field(default=0, alias="fullSyncs")
    last_run: dict[str, Any] | None = Field(default=None, alias="lastRun")
    error: str | None = None


class ConnectionStatus(BaseModel):
    """``GET /calendar/{calendarId}/google`` (and the answer of the other connection routes).

    ``status`` is ``connected`` or ``needs_reauth`` (``needsReauth`` says the same as a flag: the
    grant was revoked, the schedule is paused until new credentials arrive). ``schedule`` is
    ``{"name", "rateMinutes", "state"}`` once calendars are selected. ``lastSyncAt`` (epoch ms) is
    the end of the last run without error; ``lastRun`` the last run's report (counts, errors).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    calendar_id: int = Field(alias="calendarId")
    connected: bool
    status: Literal["connected", "needs_reauth", "disconnected"]
    needs_reauth: bool = Field(alias="needsReauth")
    auth_type: str | None = Field(default=None, alias="authType")
    account: str | None = Field(default=None, description="the OAuth client id or the service account's address")
    google_account: str | None = Field(
        default=None,
        alias="googleAccount",
        description="the Google account connected (its primary calendar's id, an address): whose calendars these are",
    )
    schedule: dict[str, Any] | None = None
    last_sync_at: int | None = Field(default=None, alias="lastSyncAt")
    last_run: dict[str, Any] | None = Field(default=None, alias="lastRun")
    last_error: str | None = Field(default=None, alias="lastError")
    calendars: list[SyncedCalendarStatus] = Field(default_factory=list)
