"""Sealing a received invitation's one-time secret into its DynamoDB record, with AWS KMS.

A received invitation (``POST /partner/v1/invitations``, callable by anyone) must cost no Secrets
Manager secret until it is accepted, yet the one-time secret is needed to accept or reject it.
It is kept in the invitation's record encrypted under the deployment's customer-managed KMS key
(template.yaml ``SealingKey``, ``TEAMCAL_SEALING_KEY_ID``), so the record expires (DynamoDB TTL,
30 days) with everything the invitation created.

Every Encrypt/Decrypt passes the encryption context ``{"synchronizationId": "<id>"}`` (the key
policy grants the partners function these calls only with that context key): a sealed value
moved to another record does not decrypt. Text form: standard base64 of KMS's ``CiphertextBlob``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError

#: The encryption-context key (also the IAM condition key ``kms:EncryptionContext:synchronizationId``).
CONTEXT_KEY = "synchronizationId"
_RETRYABLE = {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"}
_REFUSED = {"InvalidCiphertextException", "IncorrectKeyException", "ValidationException"}


class SealError(ValueError):
    """A sealed value that does not open for this synchronization (malformed, altered, moved, or another key)."""


class Sealer:
    """Seals and opens one-time secrets; ``client`` is a boto3 KMS client, ``key_id`` the key's id or ARN."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def seal(self, secret: bytes, sync_id: int) -> str:
        """``secret`` (at most 4096 bytes) encrypted for synchronization ``sync_id``, as base64 text.

        Raises:
            RetryableError: KMS is throttling or failing.
        """
        try:
            out = self._client.encrypt(KeyId=self._key_id, Plaintext=secret, EncryptionContext=_context(sync_id))
        except ClientError as e:
            raise _translate(e) from e
        return base64.b64encode(out["CiphertextBlob"]).decode("ascii")

    def unseal(self, sealed: str, sync_id: int) -> bytes:
        """The secret :meth:`seal` sealed for ``sync_id``.

        Raises:
            SealError: the text is malformed, altered, sealed for another synchronization or key.
            RetryableError: KMS is throttling or failing.
        """
        try:
            blob = base64.b64decode(sealed.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as e:
            raise SealError("not a sealed value") from e
        if not blob:
            raise SealError("not a sealed value")
        try:
            out = self._client.decrypt(KeyId=self._key_id, CiphertextBlob=blob, EncryptionContext=_context(sync_id))
        except ClientError as e:
            if _code(e) in _REFUSED:
                raise SealError("the sealed value does not open for this synchronization") from e
            raise _translate(e) from e
        return bytes(out["Plaintext"])


def _context(sync_id: int) -> dict[str, str]:
    return {CONTEXT_KEY: str(sync_id)}


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _translate(e: ClientError) -> Exception:
    if _code(e) in _RETRYABLE:
        return RetryableError("KMS is busy; try again")
    return e
