"""Sealed invitation secrets (teamcal.partners.sealing): round trip, and no opening when altered,
moved to another record or opened with another key."""

from __future__ import annotations

import pytest

from teamcal.partners.sealing import SealError, seal, unseal

pytestmark = pytest.mark.unit

KEY = bytes(range(32))
SECRET = b"\x01" * 32


def test_a_sealed_secret_opens_with_its_key_and_context_only() -> None:
    sealed = seal(KEY, SECRET, "invitation:1")
    assert unseal(KEY, sealed, "invitation:1") == SECRET
    assert SECRET.hex() not in sealed
    assert seal(KEY, SECRET, "invitation:1") != sealed  # a fresh nonce each time
    with pytest.raises(SealError):
        unseal(KEY, sealed, "invitation:2")
    with pytest.raises(SealError):
        unseal(bytes(32), sealed, "invitation:1")


@pytest.mark.parametrize("bad", ["", "not base64!", "AAAA", "é"])
def test_malformed_sealed_values_are_refused(bad: str) -> None:
    with pytest.raises(SealError):
        unseal(KEY, bad, "invitation:1")


def test_an_altered_sealed_value_is_refused() -> None:
    sealed = seal(KEY, SECRET, "invitation:1")
    flipped = sealed[:30] + ("A" if sealed[30] != "A" else "B") + sealed[31:]
    with pytest.raises(SealError):
        unseal(KEY, flipped, "invitation:1")
