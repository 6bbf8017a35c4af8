"""The partners function's sealing key setting: required (fail fast), read from
``TEAMCAL_SEALING_KEY_ID``."""

from __future__ import annotations

import pytest

from teamcal.errors import SettingsError
from teamcal.settings import PartnerSettings

pytestmark = pytest.mark.unit


def test_the_sealing_key_id_is_required_where_it_is_asked_for() -> None:
    with pytest.raises(SettingsError, match="TEAMCAL_SEALING_KEY_ID"):
        PartnerSettings.model_validate({}).require_sealing_key_id()
    with pytest.raises(ValueError, match="TEAMCAL_SEALING_KEY_ID"):
        PartnerSettings.model_validate({"TEAMCAL_SEALING_KEY_ID": ""})
    key = "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert PartnerSettings.model_validate({"TEAMCAL_SEALING_KEY_ID": key}).require_sealing_key_id() == key
