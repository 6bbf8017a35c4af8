"""Signing secrets of synchronizations, in AWS Secrets Manager.

One secret per synchronization, named ``<prefix>/<synchronizationId>`` (``prefix`` is
``TEAMCAL_PARTNER_SECRETS_PREFIX``, the stack name plus ``/partners`` on AWS, so an IAM policy
can grant exactly these). Its value is JSON ``{"stage": "invitation" | "key", "secret": <URL-safe
base64 of 32 bytes>}``: the invitation's one-time secret until the invitation is accepted, then
the derived signing key. Values are never logged.

Reads are cached in the process for five minutes under (synchronization id, ``keyVersion`` of the
synchronization record): a key change bumps ``keyVersion``, so a stale cached value is never used.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError
from teamcal.partners.protocol import decode_secret, encode_secret

_CACHE_SECONDS = 300
_RETRYABLE = {"ThrottlingException", "InternalServiceError", "ServiceUnavailable"}


class SecretStore:
    """Stores and reads synchronization secrets; ``client`` is a boto3 Secrets Manager client."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")
        self._cache: dict[tuple[int, int], tuple[float, str, bytes]] = {}

    def _name(self, sync_id: int) -> str:
        return f"{self._prefix}/{sync_id}"

    def put(self, sync_id: int, stage: str, secret: bytes) -> None:
        """Store (create or overwrite) the secret of ``sync_id``; ``stage`` is ``invitation`` or ``key``.

        Raises:
            RetryableError: Secrets Manager is throttling or failing.
        """
        text = json.dumps({"stage": stage, "secret": encode_secret(secret)})
        self._cache = {k: v for k, v in self._cache.items() if k[0] != sync_id}
        try:
            try:
                self._client.create_secret(
                    Name=self._name(sync_id),
                    SecretString=text,
                    Description="teamcal synchronization signing secret",
                )
            except ClientError as e:
                if _code(e) != "ResourceExistsException":
                    raise
                self._client.put_secret_value(SecretId=self._name(sync_id), SecretString=text)
        except ClientError as e:
            raise _translate(e) from e

    def get(self, sync_id: int, key_version: int) -> tuple[str, bytes] | None:
        """``(stage, secret)`` of ``sync_id``, or None when there is none.

        Raises:
            RetryableError: Secrets Manager is throttling or failing.
        """
        cached = self._cache.get((sync_id, key_version))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        try:
            out = self._client.get_secret_value(SecretId=self._name(sync_id))
        except ClientError as e:
            if _code(e) == "ResourceNotFoundException":
                return None
            raise _translate(e) from e
        parsed = json.loads(out["SecretString"])
        stage, secret = str(parsed["stage"]), decode_secret(str(parsed["secret"]), "secret")
        self._cache[(sync_id, key_version)] = (time.monotonic() + _CACHE_SECONDS, stage, secret)
        return stage, secret

    def delete(self, sync_id: int) -> None:
        """Delete the secret of ``sync_id`` at once (no recovery window); absent is fine.

        Raises:
            RetryableError: Secrets Manager is throttling or failing.
        """
        self._cache = {k: v for k, v in self._cache.items() if k[0] != sync_id}
        try:
            self._client.delete_secret(SecretId=self._name(sync_id), ForceDeleteWithoutRecovery=True)
        except ClientError as e:
            if _code(e) != "ResourceNotFoundException":
                raise _translate(e) from e


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _translate(e: ClientError) -> Exception:
    if _code(e) in _RETRYABLE:
        return RetryableError("the secret store is busy; retry")
    return e
