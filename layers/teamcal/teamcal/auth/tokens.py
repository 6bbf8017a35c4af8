"""Token secrets: generation, parsing of the Authorization header, hashing.

Tokens are 256-bit random strings, so a plain SHA-256 (no salt, no slow KDF) is the right hash
at rest: nothing can be brute-forced from it, and the authorizer finds a token with one GetItem on
its hash. The plaintext exists only in the response that created it.
"""

from __future__ import annotations

import hashlib
import secrets

from teamcal.errors import UnauthorizedError

TOKEN_PREFIX = "tcal_"
_MAX_HEADER = 512


def generate_token() -> str:
    """A new token plaintext: ``tcal_`` followed by 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    """A short, non-secret reminder of a token for listings: its prefix and first 4 characters."""
    return token[: len(TOKEN_PREFIX) + 4] + "…"


def parse_bearer(header: str | None) -> str:
    """Extract the token from an ``Authorization: Bearer <token>`` header value (RFC 6750 §2.1).

    Raises:
        UnauthorizedError: the header is missing, not a Bearer credential, or malformed.
    """
    if not header or len(header) > _MAX_HEADER:
        raise UnauthorizedError("missing or malformed Authorization header")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        raise UnauthorizedError("missing or malformed Authorization header")
    return credential
