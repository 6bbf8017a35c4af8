"""Process settings, read once from the environment at cold start.

No other module reads ``os.environ``. A missing required variable raises :class:`SettingsError`
when :func:`get_settings` first runs, so a misconfigured function fails at cold start, not on the
first request that happens to need the value.

The settings are frozen dataclasses, not pydantic models: every function reads them at import,
and pydantic's model machinery alone costs about 60 ms of a cold start (issue 13), while the
request models that need pydantic load on first use. Each field names its environment variable
and its bounds with :func:`env`; :func:`_from_environment` converts and checks them the way
pydantic's lax mode did (``"true"``/``"1"``/``"yes"``/``"on"`` for booleans, numbers from their
decimal text) and reports every bad variable at once.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from teamcal.errors import SettingsError

_S = TypeVar("_S")
_MISSING: Any = dataclasses.MISSING
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def env(
    name: str,
    default: Any = _MISSING,
    *,
    min_length: int | None = None,
    pattern: str | None = None,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """A settings field read from the environment variable ``name`` (required unless ``default``
    is given), with optional bounds: ``min_length``/``pattern`` (``re.search``) for text,
    ``gt``/``ge``/``le`` for numbers. Returns a :func:`dataclasses.field`."""
    rules = {"env": name, "min_length": min_length, "pattern": pattern, "gt": gt, "ge": ge, "le": le}
    return dataclasses.field(default=default, metadata=rules)


def _convert(kind: Any, raw: str) -> Any:
    """``raw`` as the field type ``kind`` (str, int, float, bool, or one of them or None).

    Raises:
        ValueError: ``raw`` is not a value of that type.
    """
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if kind is bool:
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError(raw)
    if kind is int:
        return int(raw.strip())
    if kind is float:
        return float(raw.strip())
    return raw


def _valid(value: Any, rules: dict[str, Any]) -> bool:
    """Whether ``value`` keeps the field's bounds."""
    if isinstance(value, str):
        if rules["min_length"] is not None and len(value) < rules["min_length"]:
            return False
        return rules["pattern"] is None or re.search(rules["pattern"], value) is not None
    if isinstance(value, bool):
        return True
    return not (
        (rules["gt"] is not None and not value > rules["gt"])
        or (rules["ge"] is not None and not value >= rules["ge"])
        or (rules["le"] is not None and not value <= rules["le"])
    )


def _from_environment(cls: type[_S]) -> _S:
    """Build the settings dataclass ``cls`` from the environment variables its fields name.

    Raises:
        SettingsError: a required variable is missing, or one has an invalid value (the message
            names every such variable).
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    bad: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        rules = dict(f.metadata)
        raw = os.environ.get(rules["env"])
        if raw is None:
            if f.default is _MISSING:
                bad.append(rules["env"])
            continue
        try:
            value = _convert(hints[f.name], raw)
        except ValueError:
            bad.append(rules["env"])
            continue
        if not _valid(value, rules):
            bad.append(rules["env"])
            continue
        values[f.name] = value
    if bad:
        raise SettingsError(f"missing or invalid environment variables: {', '.join(bad)}")
    return cls(**values)


class _Record:
    """What the settings dataclasses share: ``model_copy(update=...)``, as pydantic models had
    (tests and the local stack change one knob of a function's settings that way)."""

    def model_copy(self: _S, *, update: dict[str, Any]) -> _S:
        """A copy with the fields in ``update`` (by attribute name) replaced; not re-checked."""
        return dataclasses.replace(self, **update)  # type: ignore[type-var]


@dataclass(frozen=True, kw_only=True)
class Settings(_Record):
    """Names of the AWS resources and the knobs every function shares.

    Each field's :func:`env` name is the environment variable that template.yaml's Globals set.
    """

    calendars_table: str = env("CALENDARS_TABLE", min_length=1)
    sources_table: str = env("SOURCES_TABLE", min_length=1)
    events_table: str = env("EVENTS_TABLE", min_length=1)
    tokens_table: str = env("TOKENS_TABLE", min_length=1)
    invitations_table: str = env("INVITATIONS_TABLE", min_length=1)
    snapshots_bucket: str = env("SNAPSHOTS_BUCKET", min_length=1)
    #: Powertools Idempotency records for ``Idempotency-Key`` on POST (None: the feature is off).
    idempotency_table: str | None = env("IDEMPOTENCY_TABLE", None, min_length=1)
    #: Largest request body a route accepts, in bytes (API Gateway's own limit is 10 MiB).
    max_body_bytes: int = env("TEAMCAL_MAX_BODY_BYTES", 1_048_576, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, reading the environment on the first call only.

    Raises:
        SettingsError: a required variable is missing or has an invalid value.
    """
    return _from_environment(Settings)


@dataclass(frozen=True, kw_only=True)
class PartnerSettings(_Record):
    """Knobs of the synchronization functions (``functions/partners*``, issue 7); other functions
    never read them. Every field has a safe default except the queue, which only the functions that
    touch it require (:meth:`require_queue_url`, called at their cold start), and the sealing key,
    which the partners function requires (:meth:`require_sealing_key_id`).

    Each field's :func:`env` name is the environment variable template.yaml sets on those functions.
    """

    #: Let ``partnerUrl`` be plain ``http://`` to a loopback address (local development only:
    #: template parameter ``AllowLoopbackPartners``, false on AWS, true in the local stack).
    allow_loopback_partners: bool = env("TEAMCAL_ALLOW_LOOPBACK_PARTNERS", False)
    #: Secrets Manager name prefix of the per-synchronization signing secrets (``<prefix>/<id>``).
    secrets_prefix: str = env(
        "TEAMCAL_PARTNER_SECRETS_PREFIX", "teamcal/partners", min_length=1, pattern=r"^[\w/+=.@-]+$"
    )
    #: Id (or ARN) of the KMS key that seals received invitations' one-time secrets (the partners
    #: function only: :meth:`require_sealing_key_id` at its cold start).
    sealing_key_id: str | None = env("TEAMCAL_SEALING_KEY_ID", None, min_length=1)
    #: URL of the FIFO queue between the events stream and the sender (outbox and sender only).
    sync_queue_url: str | None = env("SYNC_QUEUE_URL", None, min_length=1)
    #: Seconds a call to a partner may take to connect, and again to answer (each).
    partner_timeout_seconds: float = env("TEAMCAL_PARTNER_TIMEOUT_SECONDS", 8.0, gt=0, le=25)
    #: First retry delay of a change the partner did not take (doubles per attempt, up to 15 min).
    sync_retry_base_seconds: int = env("TEAMCAL_SYNC_RETRY_BASE_SECONDS", 5, ge=1, le=900)

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


@dataclass(frozen=True, kw_only=True)
class GoogleSettings(_Record):
    """Knobs of the Google Calendar sync function (``functions/google``, issue 6); other functions
    never read them. The endpoints default to Google's own; the local stack and the tests point
    them at a fake (template parameters ``GoogleCalendarApiEndpoint``, ``GoogleOAuthTokenUri``).

    Each field's :func:`env` name is the environment variable template.yaml sets on that function.
    """

    #: Base URL of Calendar API v3, with the trailing ``/calendar/v3/`` (google-api-python-client's
    #: ``client_options.api_endpoint`` replaces the discovery document's whole base URL).
    calendar_api_endpoint: str = env(
        "GOOGLE_CALENDAR_API_ENDPOINT", "https://www.googleapis.com/calendar/v3/", pattern=r"^https?://"
    )
    #: OAuth 2.0 token endpoint (refresh, authorization-code and JWT-bearer grants).
    oauth_token_uri: str = env("GOOGLE_OAUTH_TOKEN_URI", "https://oauth2.googleapis.com/token", pattern=r"^https?://")
    #: OAuth 2.0 authorization endpoint (the consent page the user is sent to).
    oauth_auth_uri: str = env(
        "GOOGLE_OAUTH_AUTH_URI", "https://accounts.google.com/o/oauth2/v2/auth", pattern=r"^https?://"
    )
    #: The one redirect URI the consent flow uses (registered with the OAuth client), or ``none``
    #: while the deployment has none configured (the authorize route then answers 400).
    oauth_redirect_uri: str = env("GOOGLE_OAUTH_REDIRECT_URI", pattern=r"^(https?://\S+|none)$")
    #: Secrets Manager id of the deployment's OAuth client ``{"clientId", "clientSecret", "apiKey"}``.
    oauth_client_secret_id: str = env("GOOGLE_OAUTH_CLIENT_SECRET_ID", min_length=1)
    #: Secrets Manager name prefix of the per-connection credentials (``<prefix><calendarId>``).
    secret_prefix: str = env("GOOGLE_SECRET_PREFIX", min_length=1, pattern=r"^[\w/+=.@-]+$")
    #: EventBridge Scheduler group of the sync schedules, and the role they invoke the function with.
    schedule_group: str = env("GOOGLE_SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = env("GOOGLE_SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    #: Default minutes between two scheduled syncs of a connection (EventBridge ``rate(...)``).
    sync_rate_minutes: int = env("GOOGLE_SYNC_RATE_MINUTES", 15, ge=1, le=1440)
    #: Seconds one HTTP call to Google may take.
    http_timeout_seconds: float = env("GOOGLE_HTTP_TIMEOUT_SECONDS", 20.0, gt=0, le=60)

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


@dataclass(frozen=True, kw_only=True)
class IcalSettings(_Record):
    """Knobs of the iCalendar function (``functions/ical``, issue 5); other functions never read
    them. Every field has a default. The largest inline import is the shared
    ``TEAMCAL_MAX_BODY_BYTES`` (raised for that function in template.yaml).

    Each field's :func:`env` name is the environment variable template.yaml sets on that function.
    """

    #: Largest file accepted through the upload URL, in bytes.
    max_upload_bytes: int = env("ICAL_MAX_UPLOAD_BYTES", 25 * 1024 * 1024, gt=0)
    #: Seconds a presigned upload or download URL stays valid.
    url_expiry_seconds: int = env("ICAL_URL_EXPIRY_SECONDS", 900, ge=60, le=604_800)
    #: Seconds a presigned upload form stays valid (short: it is for the file the caller has now).
    upload_expiry_seconds: int = env("ICAL_UPLOAD_EXPIRY_SECONDS", 300, ge=60, le=3600)
    #: Public base URL of the API for feed links (``https://cal.example.com``, no trailing slash);
    #: empty: derived from each request (the execute-api host and stage).
    public_base_url: str = env("ICAL_PUBLIC_BASE_URL", "", pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")


@lru_cache(maxsize=1)
def get_ical_settings() -> IcalSettings:
    """The iCalendar settings, read from the environment on the first call only.

    Raises:
        SettingsError: a variable has an invalid value.
    """
    return _from_environment(IcalSettings)


@dataclass(frozen=True, kw_only=True)
class JiraSettings(_Record):
    """Knobs of the Jira sync function (``functions/jira``, issue 15); other functions never read
    them. Each field's :func:`env` name is the environment variable template.yaml sets on that
    function.
    """

    #: Secrets Manager name of the connection's credentials (the function's IAM policy names it).
    secret_name: str = env("JIRA_SECRET_NAME", min_length=1, pattern=r"^[\w/+=.@-]+$")
    #: EventBridge Scheduler group of the sync schedule, and the role it invokes the function with.
    schedule_group: str = env("JIRA_SCHEDULE_GROUP", min_length=1)
    scheduler_role_arn: str = env("JIRA_SCHEDULER_ROLE_ARN", pattern=r"^arn:")
    #: Default minutes between two scheduled syncs (template parameter ``JiraSyncRateMinutes``).
    sync_rate_minutes: int = env("JIRA_SYNC_RATE_MINUTES", 15, ge=1, le=1440)
    #: Hours between two full reconciliations of a source (template parameter ``JiraFullSyncHours``).
    full_sync_hours: int = env("JIRA_FULL_SYNC_HOURS", 24, ge=1, le=720)
    #: Seconds one HTTP call to Jira may take to connect, and again to answer.
    http_timeout_seconds: float = env("JIRA_HTTP_TIMEOUT_SECONDS", 10.0, gt=0, le=25)
    #: Let ``baseUrl`` be plain http to loopback (local development only; ``AllowLoopbackPartners``).
    allow_loopback: bool = env("TEAMCAL_ALLOW_LOOPBACK_PARTNERS", False)


@lru_cache(maxsize=1)
def get_jira_settings() -> JiraSettings:
    """The Jira sync settings, read from the environment on the first call only.

    Raises:
        SettingsError: a variable is missing or has an invalid value.
    """
    return _from_environment(JiraSettings)
