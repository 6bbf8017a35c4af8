"""Request signatures between partner deployments (pure: no I/O).

Every partner webhook call carries three headers:

* ``X-Teamcal-Timestamp`` — when it was signed, epoch seconds (UTC), decimal;
* ``X-Teamcal-Nonce`` — 16 to 64 characters of ``[A-Za-z0-9_-]``, never used twice;
* ``X-Teamcal-Signature`` — ``v1=`` + lower-case hex HMAC-SHA256 (RFC 2104) under the shared key
  of the string to sign::

      TEAMCAL-HMAC-SHA256-V1 \\n METHOD \\n path \\n timestamp \\n nonce \\n hex(SHA-256(body))

  ``path`` is the route below the API base path (``/partner/v1/...``), so stage names, custom
  domains and base-path mappings in front of either deployment do not change it; ``body`` is the
  exact bytes sent (empty for GET).

A receiver refuses (401) a call whose headers are missing or malformed, whose timestamp is more
than :data:`MAX_SKEW_SECONDS` away from its clock, or whose signature does not match; the caller
of :func:`verify` then refuses a nonce it has seen before (the replay table, see
:mod:`teamcal.storage.invitations`). The comparison is constant-time (``hmac.compare_digest``).

Keys: the invitation carries a one-time secret; the accept call (signed with it) sends a random
salt, and both sides derive the synchronization's signing key with :func:`derive_key`; the
one-time secret is then forgotten. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from teamcal.errors import UnauthorizedError

SCHEME = "TEAMCAL-HMAC-SHA256-V1"
TIMESTAMP_HEADER = "X-Teamcal-Timestamp"
NONCE_HEADER = "X-Teamcal-Nonce"
SIGNATURE_HEADER = "X-Teamcal-Signature"
#: How far a timestamp may be from the receiver's clock, either way (seconds).
MAX_SKEW_SECONDS = 300
#: Bytes of a fresh secret or key (256 bits).
KEY_BYTES = 32
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SIGNATURE = re.compile(r"^v1=([0-9a-f]{64})$")


@dataclass(frozen=True)
class SignedHeaders:
    """The three signature headers of one call."""

    timestamp: int
    nonce: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        """The headers as sent."""
        return {
            TIMESTAMP_HEADER: str(self.timestamp),
            NONCE_HEADER: self.nonce,
            SIGNATURE_HEADER: f"v1={self.signature}",
        }


def new_secret() -> bytes:
    """A fresh 256-bit secret (the invitation's one-time secret, a key-derivation salt)."""
    return secrets.token_bytes(KEY_BYTES)


def new_nonce() -> str:
    """A fresh nonce: 128 random bits, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(16)


def derive_key(invitation_secret: bytes, salt: bytes, inviter_id: int, invitee_id: int) -> bytes:
    """The synchronization's signing key: HMAC-SHA256(one-time secret, label | salt | both ids).

    Both sides compute it once the invitee has accepted; the key itself never travels.
    """
    message = b"teamcal-sync-key-v1|" + salt + f"|{inviter_id}|{invitee_id}".encode()
    return hmac.new(invitation_secret, message, hashlib.sha256).digest()


def string_to_sign(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The canonical string (see the module docstring)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{SCHEME}\n{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def sign(key: bytes, method: str, path: str, body: bytes, now_seconds: int, nonce: str | None = None) -> SignedHeaders:
    """Sign one call; ``now_seconds`` is epoch seconds, ``nonce`` fresh unless given (tests)."""
    used = nonce if nonce is not None else new_nonce()
    mac = hmac.new(key, string_to_sign(method, path, now_seconds, used, body), hashlib.sha256).hexdigest()
    return SignedHeaders(now_seconds, used, mac)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def read_headers(headers: Mapping[str, str], now_seconds: int) -> SignedHeaders:
    """Parse the signature headers and check the timestamp (case-insensitive header names).

    Raises:
        UnauthorizedError: a header is missing or malformed, or the timestamp is more than
            :data:`MAX_SKEW_SECONDS` from ``now_seconds``.
    """
    timestamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
    nonce = (_header(headers, NONCE_HEADER) or "").strip()
    signature = _SIGNATURE.match((_header(headers, SIGNATURE_HEADER) or "").strip())
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise UnauthorizedError(f"missing or malformed {TIMESTAMP_HEADER} header (epoch seconds)")
    if not _NONCE.match(nonce):
        raise UnauthorizedError(f"missing or malformed {NONCE_HEADER} header")
    if signature is None:
        raise UnauthorizedError(f"missing or malformed {SIGNATURE_HEADER} header (v1=<hex HMAC-SHA256>)")
    if abs(now_seconds - int(timestamp)) > MAX_SKEW_SECONDS:
        raise UnauthorizedError("the request timestamp is more than 5 minutes away from this deployment's clock")
    return SignedHeaders(int(timestamp), nonce, signature.group(1))


def verify(key: bytes, method: str, path: str, body: bytes, signed: SignedHeaders) -> None:
    """Check the signature of a call whose headers :func:`read_headers` accepted.

    Raises:
        UnauthorizedError: the signature does not match (wrong key, tampered method, path,
            timestamp, nonce or body).
    """
    expected = hmac.new(
        key, string_to_sign(method, path, signed.timestamp, signed.nonce, body), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        raise UnauthorizedError("the request signature does not match")
