"""Settings read from the environment (teamcal.settings): types, bounds, every bad variable named,
and no pydantic model machinery loaded at import (cold start, issue 13)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from teamcal.errors import SettingsError
from teamcal.settings import GoogleSettings, IcalSettings, JiraSettings, PartnerSettings, Settings, _from_environment

pytestmark = pytest.mark.unit

_BASE = {
    "CALENDARS_TABLE": "c",
    "SOURCES_TABLE": "s",
    "EVENTS_TABLE": "e",
    "TOKENS_TABLE": "t",
    "INVITATIONS_TABLE": "i",
    "SNAPSHOTS_BUCKET": "b",
}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for cls in (Settings, PartnerSettings, GoogleSettings, IcalSettings, JiraSettings):
        for f in cls.__dataclass_fields__.values():
            monkeypatch.delenv(f.metadata["env"], raising=False)
    for k, v in _BASE.items():
        monkeypatch.setenv(k, v)
    return monkeypatch


def test_required_values_defaults_and_types(environ: pytest.MonkeyPatch) -> None:
    s = _from_environment(Settings)
    assert (s.calendars_table, s.snapshots_bucket, s.idempotency_table, s.max_body_bytes) == ("c", "b", None, 1_048_576)
    environ.setenv("TEAMCAL_MAX_BODY_BYTES", " 2048 ")
    environ.setenv("IDEMPOTENCY_TABLE", "idem")
    s = _from_environment(Settings)
    assert (s.max_body_bytes, s.idempotency_table) == (2048, "idem")
    environ.setenv("TEAMCAL_PARTNER_TIMEOUT_SECONDS", "2.5")
    environ.setenv("TEAMCAL_ALLOW_LOOPBACK_PARTNERS", "True")
    p = _from_environment(PartnerSettings)
    assert (p.partner_timeout_seconds, p.allow_loopback_partners) == (2.5, True)
    environ.setenv("TEAMCAL_ALLOW_LOOPBACK_PARTNERS", "off")
    assert _from_environment(PartnerSettings).allow_loopback_partners is False


@pytest.mark.parametrize(
    ("cls", "name", "raw"),
    [
        (Settings, "TEAMCAL_MAX_BODY_BYTES", "0"),  # gt=0
        (Settings, "TEAMCAL_MAX_BODY_BYTES", "ten"),
        (PartnerSettings, "TEAMCAL_PARTNER_TIMEOUT_SECONDS", "26"),  # le=25
        (PartnerSettings, "TEAMCAL_PARTNER_TIMEOUT_SECONDS", "nan"),
        (PartnerSettings, "TEAMCAL_SYNC_RETRY_BASE_SECONDS", "0"),  # ge=1
        (PartnerSettings, "TEAMCAL_ALLOW_LOOPBACK_PARTNERS", "maybe"),
        (PartnerSettings, "TEAMCAL_PARTNER_SECRETS_PREFIX", "has space"),  # pattern
        (IcalSettings, "ICAL_PUBLIC_BASE_URL", "ftp://x"),
        (PartnerSettings, "SYNC_QUEUE_URL", ""),  # min_length=1
    ],
)
def test_a_bad_value_is_refused_by_name(environ: pytest.MonkeyPatch, cls: type, name: str, raw: str) -> None:
    environ.setenv(name, raw)
    with pytest.raises(SettingsError, match=name):
        _from_environment(cls)


def test_every_missing_variable_is_named(environ: pytest.MonkeyPatch) -> None:
    environ.delenv("EVENTS_TABLE")
    environ.delenv("TOKENS_TABLE")
    with pytest.raises(SettingsError, match="EVENTS_TABLE, TOKENS_TABLE"):
        _from_environment(Settings)
    with pytest.raises(SettingsError, match="JIRA_SECRET_NAME"):
        _from_environment(JiraSettings)


def test_settings_are_frozen_and_copied_with_changes(environ: pytest.MonkeyPatch) -> None:
    s = _from_environment(IcalSettings)
    with pytest.raises(AttributeError):
        s.max_upload_bytes = 1  # type: ignore[misc]
    assert s.model_copy(update={"max_upload_bytes": 1}).max_upload_bytes == 1
    assert s.max_upload_bytes == 25 * 1024 * 1024


def test_reading_settings_loads_no_pydantic_model_machinery() -> None:
    code = (
        "import os, sys\n"
        + "".join(f"os.environ[{k!r}] = {v!r}\n" for k, v in _BASE.items())
        + "from teamcal.settings import get_settings\nget_settings()\n"
        "print('pydantic.main' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
