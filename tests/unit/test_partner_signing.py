"""Partner request signatures (teamcal.partners.signing): HMAC-SHA256 over method, path,
timestamp, nonce and body; the 5-minute window; the key both sides derive on acceptance."""

from __future__ import annotations

import pytest

from teamcal.errors import UnauthorizedError
from teamcal.partners.signing import (
    MAX_SKEW_SECONDS,
    derive_key,
    new_nonce,
    new_secret,
    read_headers,
    sign,
    verify,
)

pytestmark = pytest.mark.unit

KEY = bytes(range(32))
NOW = 1_772_442_000
PATH = "/partner/v1/synchronization/7/events"
BODY = b'{"changeId":"ev1v1u"}'


def signed(**changes: object) -> dict[str, str]:
    return sign(KEY, "POST", PATH, BODY, NOW, nonce="abcdefghijklmnopqrstuv").as_dict() | {
        k: str(v) for k, v in changes.items()
    }


def test_a_signed_call_verifies_with_lower_case_header_names() -> None:
    headers = {k.lower(): v for k, v in signed().items()}
    verify(KEY, "post", PATH, BODY, read_headers(headers, NOW + MAX_SKEW_SECONDS))


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("PUT", PATH, BODY, KEY),
        ("POST", "/partner/v1/synchronization/8/events", BODY, KEY),
        ("POST", PATH, BODY + b" ", KEY),
        ("POST", PATH, BODY, bytes(32)),
    ],
    ids=["method", "path", "body", "key"],
)
def test_any_tampering_breaks_the_signature(method: str, path: str, body: bytes, key: bytes) -> None:
    with pytest.raises(UnauthorizedError, match="signature does not match"):
        verify(key, method, path, body, read_headers(signed(), NOW))


def test_a_changed_timestamp_or_nonce_breaks_the_signature() -> None:
    for header, value in (("X-Teamcal-Timestamp", NOW + 1), ("X-Teamcal-Nonce", "bbcdefghijklmnopqrstuv")):
        with pytest.raises(UnauthorizedError):
            verify(KEY, "POST", PATH, BODY, read_headers(signed(**{header: value}), NOW))


@pytest.mark.parametrize("skew", [MAX_SKEW_SECONDS + 1, -MAX_SKEW_SECONDS - 1])
def test_a_timestamp_more_than_five_minutes_off_is_refused(skew: int) -> None:
    with pytest.raises(UnauthorizedError, match="5 minutes"):
        read_headers(signed(), NOW + skew)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Teamcal-Timestamp": "soon"},
        {"X-Teamcal-Nonce": "short"},
        {"X-Teamcal-Signature": "v2=" + "0" * 64},
        {"X-Teamcal-Signature": "v1=" + "Z" * 64},
    ],
)
def test_missing_or_malformed_headers_are_refused(headers: dict[str, str]) -> None:
    base = signed() if headers else {}
    with pytest.raises(UnauthorizedError, match="missing or malformed"):
        read_headers(base | headers, NOW)


def test_both_sides_derive_the_same_key_and_it_depends_on_every_input() -> None:
    secret, salt = new_secret(), new_secret()
    key = derive_key(secret, salt, inviter_id=1, invitee_id=2)
    assert key == derive_key(secret, salt, inviter_id=1, invitee_id=2)
    assert len(key) == 32
    assert (
        len({key, derive_key(secret, new_secret(), 1, 2), derive_key(secret, salt, 2, 1), derive_key(salt, salt, 1, 2)})
        == 4
    )


def test_nonces_are_fresh_and_well_formed() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    read_headers(sign(KEY, "GET", "/x", b"", NOW).as_dict(), NOW)
