"""Wire models of the Jira connection routes (teamcal's own: ``/jira/connection``, ``/jira/sync``;
issue 15). Secrets (API token, personal access token) are :class:`pydantic.SecretStr` and never
appear in a response or a log line."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ConnectionRequest(BaseModel):
    """Body of ``PUT /jira/connection``: ``baseUrl`` (the site, ``https://example.atlassian.net``)
    and exactly one of ``{"email", "apiToken"}`` (Jira Cloud: basic auth with an Atlassian API
    token) or ``{"personalAccessToken"}`` (Jira Data Center: bearer). ``rateMinutes``: minutes
    between scheduled syncs (default: the template parameter ``JiraSyncRateMinutes``)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", defer_build=True)

    base_url: str = Field(alias="baseUrl", min_length=1, max_length=2048)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    api_token: SecretStr | None = Field(default=None, alias="apiToken", min_length=1, max_length=4096)
    personal_access_token: SecretStr | None = Field(
        default=None, alias="personalAccessToken", min_length=1, max_length=4096
    )
    rate_minutes: int | None = Field(default=None, alias="rateMinutes", ge=1, le=1440)


class SyncRequest(BaseModel):
    """Body of ``POST /jira/sync`` (optional): ``full`` reconciles every source now; ``sourceId``
    syncs that source only (its configuration errors answer 400)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", defer_build=True)

    full: bool = False
    source_id: int | None = Field(default=None, alias="sourceId", gt=0)


class SourceSyncStatus(BaseModel):
    """One Jira-backed source's sync: ``mode`` of its current or last pass, ``pending`` when a
    pass is unfinished (the next run resumes it), ``lastPassAt`` / ``lastFullAt`` (epoch ms the
    last pass / full reconciliation began), ``lastRun`` (counts), ``error``."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    source_id: int = Field(alias="sourceId")
    calendar_id: int | None = Field(default=None, alias="calendarId")
    type: str | None = None
    mode: str | None = None
    pending: bool = False
    last_pass_at: int | None = Field(default=None, alias="lastPassAt")
    last_full_at: int | None = Field(default=None, alias="lastFullAt")
    last_run: dict[str, Any] | None = Field(default=None, alias="lastRun")
    error: str | None = None


class JiraConnectionStatus(BaseModel):
    """``GET /jira/connection`` (and the answer of the other Jira routes).

    ``status``: ``connected``, ``needs_reauth`` (Jira refused the credentials during a sync: the
    schedule is paused until a new PUT) or ``disconnected`` (the answer of DELETE). ``site`` is
    the base URL, ``account`` who the credentials are (``accountId`` / ``key``, ``displayName``,
    ``emailAddress``); never a secret. ``lastSyncAt`` (epoch ms) is the end of the last run
    without error; ``lastRun`` that run's report (per source: created / updated / deleted …).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    connected: bool
    status: Literal["connected", "needs_reauth", "disconnected"]
    needs_reauth: bool = Field(alias="needsReauth")
    site: str | None = None
    flavor: str | None = None
    account: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    last_sync_at: int | None = Field(default=None, alias="lastSyncAt")
    last_run: dict[str, Any] | None = Field(default=None, alias="lastRun")
    last_error: str | None = Field(default=None, alias="lastError")
    sources: list[SourceSyncStatus] = Field(default_factory=list)
