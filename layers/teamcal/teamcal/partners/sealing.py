"""Sealing a received invitation's one-time secret into its DynamoDB record.

A received invitation (``POST /partner/v1/invitations``, callable by anyone) must cost no Secrets
Manager secret until it is accepted, yet the one-time secret is needed to accept or reject it.
It is kept in the invitation's record sealed with the deployment's sealing key (one Secrets
Manager secret for the whole deployment, :meth:`teamcal.storage.secrets.SecretStore.sealing_key`),
so the record expires (DynamoDB TTL, 30 days) with everything the invitation created.

Construction (standard library only): HMAC-SHA256 as a PRF in counter mode for the key stream,
encrypt-then-MAC with HMAC-SHA256 over a context string (the synchronization id: a sealed value
cannot be moved to another record), the nonce and the ciphertext; encryption and MAC keys are
derived from the sealing key with distinct labels. Text form: URL-safe base64 of
``nonce (16) || ciphertext || tag (32)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

_NONCE = 16
_TAG = 32


class SealError(ValueError):
    """A sealed value that does not open with this key and context (altered, moved, or another key)."""


def _subkey(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, b"teamcal-seal-v1:" + label, hashlib.sha256).digest()


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range((size + 31) // 32))
    return b"".join(blocks)[:size]


def _tag(key: bytes, context: str, nonce: bytes, ciphertext: bytes) -> bytes:
    return hmac.new(key, context.encode() + b"\x00" + nonce + ciphertext, hashlib.sha256).digest()


def seal(key: bytes, plaintext: bytes, context: str) -> str:
    """``plaintext`` sealed under ``key`` for ``context`` (e.g. ``"invitation:123"``)."""
    nonce = secrets.token_bytes(_NONCE)
    stream = _stream(_subkey(key, b"enc"), nonce, len(plaintext))
    ciphertext = bytes(a ^ b for a, b in zip(plaintext, stream, strict=True))
    tag = _tag(_subkey(key, b"mac"), context, nonce, ciphertext)
    return base64.urlsafe_b64encode(nonce + ciphertext + tag).decode("ascii")


def unseal(key: bytes, sealed: str, context: str) -> bytes:
    """The plaintext of :func:`seal`'s output.

    Raises:
        SealError: the text is malformed, altered, sealed for another context or under another key.
    """
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise SealError("not a sealed value") from e
    if len(raw) < _NONCE + _TAG:
        raise SealError("not a sealed value")
    nonce, ciphertext, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, _tag(_subkey(key, b"mac"), context, nonce, ciphertext)):
        raise SealError("the sealed value does not open with this key and context")
    stream = _stream(_subkey(key, b"enc"), nonce, len(ciphertext))
    return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True))
