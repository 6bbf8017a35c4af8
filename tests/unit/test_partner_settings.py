"""The partners function's sealing key setting: required (fail fast), read from
``TEAMCAL_SEALING_KEY_ID``."""

from __future__ import annotations

import pytest

from teamcal.errors import SettingsError
from teamcal.settings import PartnerSettings, _from_environment

pytestmark = pytest.mark.unit


def test_the_sealing_key_id_is_required_where_it_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEAMCAL_SEALING_KEY_ID", raising=False)
    with pytest.raises(SettingsError, match="TEAMCAL_SEALING_KEY_ID"):
        _from_environment(PartnerSettings).require_sealing_key_id()
    monkeypatch.setenv("TEAMCAL_SEALING_KEY_ID", "")
    with pytest.raises(SettingsError, match="TEAMCAL_SEALING_KEY_ID"):
        _from_environment(PartnerSettings)
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    monkeypatch.setenv("TEAMCAL_SEALING_KEY_ID", key)
    assert _from_environment(PartnerSettings).require_sealing_key_id() == key
