"""Process settings, read once from the environment at cold start.

No other module reads ``os.environ``. A missing required variable raises :class:`SettingsError`
when :func:`get_settings` first runs, so a misconfigured function fails at cold start, not on the
first request that happens to need the value.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamcal.errors import SettingsError

_M = TypeVar("_M", bound=BaseModel)


def _from_environment(model: type[_M]) -> _M:
    """Build a settings model from the environment variables named by its field aliases.

    Raises:
        SettingsError: a required variable is missing, or one has an invalid value.
    """
    fields = {f.alias for f in model.model_fields.values() if f.alias}
    try:
        return model.model_validate({k: v for k, v in os.environ.items() if k in fields})
    except ValidationError as e:
        names = ", ".join(str(err["loc"][0]) for err in e.errors())
        raise SettingsError(f"missing or invalid environment variables: {names}") from e


class Settings(BaseModel):
    """Names of the AWS resources and the knobs every function shares.

    Field aliases are the environment variable names that template.yaml's Globals set.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    calendars_table: str = Field(alias="CALENDARS_TABLE", min_length=1)
    sources_table: str = Field(alias="SOURCES_TABLE", min_length=1)
    events_table: str = Field(alias="EVENTS_TABLE", min_length=1)
    tokens_table: str = Field(alias="TOKENS_TABLE", min_length=1)
    invitations_table: str = Field(alias="INVITATIONS_TABLE", min_length=1)
    snapshots_bucket: str = Field(alias="SNAPSHOTS_BUCKET", min_length=1)
    #: Powertools Idempotency records for ``Idempotency-Key`` on POST (None: the feature is off).
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE", min_length=1)
    #: Largest request body a route accepts, in bytes (API Gateway's own limit is 10 MiB).
    max_body_bytes: int = Field(default=1_048_576, alias="TEAMCAL_MAX_BODY_BYTES", gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, reading the environment on the first call only.

    Raises:
        SettingsError: a required variable is missing or has an invalid value.
    """
    return _from_environment(Settings)


class PartnerSettings(BaseModel):
    """Knobs of the synchronization functions (``functions/partners*``, issue 7); other functions
        never read them. Every field has a safe default except the queue, which only the functions that
        touch it require (:meth:`require_queue_url`, called at their cold start), and the sealing key,
    which the partners function requires (:meth:`require_sealing_key_id`).

        Field aliases are the environment variable names template.yaml sets on those functions.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    #: Let ``partnerUrl`` be plain ``http://`` to a loopback address (local development only:
    #: template parameter ``AllowLoopbackPartners``, false on AWS, true in the local stack).
    allow_loopback_partners: bool = Field(default=False, alias="TEAMCAL_ALLOW_LOOPBACK_PARTNERS")
    #: Secrets Manager name prefix of the per-synchronization signing secrets (``<prefix>/<id>``).
    secrets_prefix: str = Field(
        default="teamcal/partners", alias="TEAMCAL_PARTNER_SECRETS_PREFIX", min_length=1, pattern=r"^[\w/+=.@-]+$"
    )
    #: Id (or ARN) of the KMS key that seals received invitations' one-time secrets (the partners
    #: function only: :meth:`require_sealing_key_id` at its cold start).
    sealing_key_id: str | None = Field(default=None, alias="TEAMCAL_SEALING_KEY_ID", min_length=1)
    #: URL of the FIFO queue between the events stream and the sender (outbox and sender only).
    sync_queue_url: str | None = Field(default=None, alias="SYNC_QUEUE_URL", min_length=1)
    #: Seconds a call to a partner may take to connect, and again to answer (each).
    partner_timeout_seconds: float = Field(default=8.0, alias="TEAMCAL_PARTNER_TIMEOUT_SECONDS", gt=0, le=25)
    #: First retry delay of a change the partner did not take (doubles per attempt, up to 15 min).
    sync_retry_base_seconds: int = Field(default=5, alias="TEAMCAL_SYNC_RETRY_BASE_SECONDS", ge=1, le=900)

    def require_queue_url(self) -> str:
        """The sync queue URL.

        Raises:
            SettingsError: ``SYNC_QUEUE_URL`` is not set (a template mistake).
        """
        if not self.sync_queue_url:
            raise SettingsError("missing or invalid environment variables: SYNC_QUEUE_URL")
        return self.sync_queue_url

    def require_sealing_key_id(self) -> str:
        """The sealing KMS key id.

        Raises:
            SettingsError: ``TEAMCAL_SEALING_KEY_ID`` is not set (a template mistake).
        """
        if not self.sealing_key_id:
            raise SettingsError("missing or invalid environment variables: TEAMCAL_SEALING_KEY_ID")
        return self.sealing_key_id


@lru_cache(maxsize=1)
def get_partner_settings() -> PartnerSettings:
    """The synchronization settings, read from the environment on the first call only.

    Raises:
        SettingsError: a variable has an invalid value.
    """
    return _from_environment(PartnerSettings)


class GoogleSettings(BaseModel):
    """Knobs of the Google Calendar sync function (``functions/google``, issue 6); other functions
    never read them. The endpoints default to Google's own; the local stack and the tests point
    them at a fake (template parameters ``GoogleCalendarApiEndpoint``, ``GoogleOAuthTokenUri``).

    Field aliases are the environment variable names template.yaml sets on that function.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    #: Base URL of Calendar API v3, with the trailing ``/calendar/v3/`` (google-api-python-client's
    #: ``client_options.api_endpoint`` replaces the discovery document's whole base URL).
    calendar_api_endpoint: str = Field(
        default="https://www.googleapis.com/calendar/v3/", alias="GOOGLE_CALENDAR_API_ENDPOINT", pattern=r"^https?://"
    )
    #: OAuth 2.0 token endpoint (refresh, authorization-code and JWT-bearer grants).
    oauth_token_uri: str = Field(
        default="https://oauth2.googleapis.com/token", alias="GOOGLE_OAUTH_TOKEN_URI", pattern=r"^https?://"
    )
    #: OAuth 2.0 authorization endpoint (the consent page the user is sent to).
    oauth_auth_uri: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth", alias="GOOGLE_OAUTH_AUTH_URI", pattern=r"^https?://"
    )
    #: The one redirect URI the consent flow uses (registered with the OAuth client), or ``none``
    #: while the deployment has none configured (the authorize route then answers 400).
    oauth_redirect_uri: str = Field(alias="GOOGLE_OAUTH_REDIRECT_URI", pattern=r"^(https?://\S+|none)$")
    #: Secrets Manager id of the deployment's OAuth client ``{"clientId", "clientSecret", "apiKey"}``.
    oauth_client_secret_id: str = Field(alias="GOOGLE_OAUTH_CLIENT_SECRET_ID", min_length=1)
    #: Secrets Manager name prefix of the per-connection credentials (``<prefix><calendarId>``).
    secret_prefix: str = Field(alias="GOOGLE_SECRET_PREFIX", min_length=1, pattern=r"^[\w/+=.@-]+$")
    #: EventBridge Scheduler group of the sync schedules, and the role they invoke the function with.
    schedule_group: str = Field(alias="GOOGLE_SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = Field(alias="GOOGLE_SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    #: Default minutes between two scheduled syncs of a connection (EventBridge ``rate(...)``).
    sync_rate_minutes: int = Field(default=15, alias="GOOGLE_SYNC_RATE_MINUTES", ge=1, le=1440)
    #: Seconds one HTTP call to Google may take.
    http_timeout_seconds: float = Field(default=20.0, alias="GOOGLE_HTTP_TIMEOUT_SECONDS", gt=0, le=60)

    @property
    def redirect_uri(self) -> str | None:
        """The configured redirect URI, or ``None`` when it is ``none``."""
        return None if self.oauth_redirect_uri == "none" else self.oauth_redirect_uri


@lru_cache(maxsize=1)
def get_google_settings() -> GoogleSettings:
    """The Google sync settings, read from the environment on the first call only (the Google
    function calls it at cold start).

    Raises:
        SettingsError: a variable is missing or has an invalid value.
    """
    return _from_environment(GoogleSettings)


class IcalSettings(BaseModel):
    """Knobs of the iCalendar function (``functions/ical``, issue 5); other functions never read
    them. Every field has a default. The largest inline import is the shared
    ``TEAMCAL_MAX_BODY_BYTES`` (raised for that function in template.yaml).

    Field aliases are the environment variable names template.yaml sets on that function.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    #: Largest file accepted through the upload URL, in bytes.
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, alias="ICAL_MAX_UPLOAD_BYTES", gt=0)
    #: Seconds a presigned upload or download URL stays valid.
    url_expiry_seconds: int = Field(default=900, alias="ICAL_URL_EXPIRY_SECONDS", ge=60, le=604_800)
    #: Seconds a presigned upload form stays valid (short: it is for the file the caller has now).
    upload_expiry_seconds: int = Field(default=300, alias="ICAL_UPLOAD_EXPIRY_SECONDS", ge=60, le=3600)
    #: Public base URL of the API for feed links (``https://cal.example.com``, no trailing slash);
    #: empty: derived from each request (the execute-api host and stage).
    public_base_url: str = Field(default="", alias="ICAL_PUBLIC_BASE_URL", pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")


@lru_cache(maxsize=1)
def get_ical_settings() -> IcalSettings:
    """The iCalendar settings, read from the environment on the first call only.

    Raises:
        SettingsError: a variable has an invalid value.
    """
    return _from_environment(IcalSettings)


class JiraSettings(BaseModel):
    """Knobs of the Jira sync function (``functions/jira``, issue 15); other functions never read
    them. Field aliases are the environment variable names template.yaml sets on that function.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    #: Secrets Manager name of the connection's credentials (the function's IAM policy names it).
    secret_name: str = Field(alias="JIRA_SECRET_NAME", min_length=1, pattern=r"^[\w/+=.@-]+$")
    #: EventBridge Scheduler group of the sync schedule, and the role it invokes the function with.
    schedule_group: str = Field(alias="JIRA_SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = Field(alias="JIRA_SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    #: Default minutes between two scheduled syncs (template parameter ``JiraSyncRateMinutes``).
    sync_rate_minutes: int = Field(default=15, alias="JIRA_SYNC_RATE_MINUTES", ge=1, le=1440)
    #: Hours between two full reconciliations of a source (template parameter ``JiraFullSyncHours``).
    full_sync_hours: int = Field(default=24, alias="JIRA_FULL_SYNC_HOURS", ge=1, le=720)
    #: Seconds one HTTP call to Jira may take to connect, and again to answer.
    http_timeout_seconds: float = Field(default=10.0, alias="JIRA_HTTP_TIMEOUT_SECONDS", gt=0, le=25)
    #: Let ``baseUrl`` be plain http to loopback (local development only; ``AllowLoopbackPartners``).
    allow_loopback: bool = Field(default=False, alias="TEAMCAL_ALLOW_LOOPBACK_PARTNERS")


@lru_cache(maxsize=1)
def get_jira_settings() -> JiraSettings:
    """The Jira sync settings, read from the environment on the first call only.

    Raises:
        SettingsError: a variable is missing or has an invalid value.
    """
    return _from_environment(JiraSettings)
