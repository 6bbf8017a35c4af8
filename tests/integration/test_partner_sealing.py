"""Sealed invitation secrets (teamcal.storage.sealing) over moto's KMS with the template's key:
round trip, and no opening when moved to another synchronization, altered or malformed."""

from __future__ import annotations

import base64

import boto3
import pytest

from teamcal.storage.sealing import Sealer, SealError
from tests.conftest import TEMPLATE

pytestmark = pytest.mark.integration

SECRET = b"\x01" * 32


@pytest.fixture
def sealer(aws: None) -> Sealer:
    return Sealer(boto3.client("kms"), TEMPLATE.ref("SealingKey"))


def test_a_sealed_secret_opens_for_its_synchronization_only(sealer: Sealer) -> None:
    sealed = sealer.seal(SECRET, 1)
    assert sealer.unseal(sealed, 1) == SECRET
    assert SECRET not in base64.b64decode(sealed)
    with pytest.raises(SealError):
        sealer.unseal(sealed, 2)


def test_the_template_key_is_created_with_rotation_on(aws: None) -> None:
    status = boto3.client("kms").get_key_rotation_status(KeyId=TEMPLATE.ref("SealingKey"))
    assert status["KeyRotationEnabled"] is True


@pytest.mark.parametrize("bad", ["", "not base64!", "é"])
def test_malformed_sealed_values_are_refused(sealer: Sealer, bad: str) -> None:
    with pytest.raises(SealError):
        sealer.unseal(bad, 1)


def test_an_altered_sealed_value_is_refused(sealer: Sealer) -> None:
    raw = bytearray(base64.b64decode(sealer.seal(SECRET, 1)))
    raw[-5] ^= 0xFF
    with pytest.raises(SealError):
        sealer.unseal(base64.b64encode(bytes(raw)).decode(), 1)
