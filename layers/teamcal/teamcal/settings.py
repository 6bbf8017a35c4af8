"""Process settings, read once from the environment at cold start.

No other module reads ``os.environ``. A missing required variable raises :class:`SettingsError`
when :func:`get_settings` first runs, so a misconfigured function fails at cold start, not on the
first request that happens to need the value.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamcal.errors import SettingsError


class Settings(BaseModel):
    """Names of the AWS resources and the knobs every function shares.

    Field aliases are the environment variable names that template.yaml's Globals set.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    calendars_table: str = Field(alias="CALENDARS_TABLE", min_length=1)
    sources_table: str = Field(alias="SOURCES_TABLE", min_length=1)
    events_table: str = Field(alias="EVENTS_TABLE", min_length=1)
    tokens_table: str = Field(alias="TOKENS_TABLE", min_length=1)
    invitations_table: str = Field(alias="INVITATIONS_TABLE", min_length=1)
    snapshots_bucket: str = Field(alias="SNAPSHOTS_BUCKET", min_length=1)
    #: Largest request body a route accepts, in bytes (API Gateway's own limit is 10 MiB).
    max_body_bytes: int = Field(default=1_048_576, alias="TEAMCAL_MAX_BODY_BYTES", gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, reading the environment on the first call only.

    Raises:
        SettingsError: a required variable is missing or has an invalid value.
    """
    fields = {f.alias for f in Settings.model_fields.values() if f.alias}
    try:
        return Settings.model_validate({k: v for k, v in os.environ.items() if k in fields})
    except ValidationError as e:
        missing = ", ".join(str(err["loc"][0]) for err in e.errors())
        raise SettingsError(f"missing or invalid environment variables: {missing}") from e
