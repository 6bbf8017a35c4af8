"""Secrets Manager as a store of JSON secret strings by name (the Google and Jira connections).

Nothing here logs or returns a secret value to an API caller; throttling becomes RetryableError.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError

_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "InternalServiceError", "LimitExceededException"}


def error_code(e: ClientError) -> str:
    """The AWS error code of ``e``."""
    return str(e.response.get("Error", {}).get("Code", ""))


def translate(e: ClientError) -> Exception:
    """Throttling → RetryableError; anything else unchanged."""
    if error_code(e) in _THROTTLED:
        return RetryableError("the secret store is busy; retry the request")
    unchanged: Exception = e
    return unchanged


class SecretStrings:
    """Secret strings by name. ``client`` is a boto3 Secrets Manager client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def put(self, name: str, text: str, description: str) -> None:
        """Create the secret, or store a new version when it exists."""
        try:
            self._client.create_secret(Name=name, SecretString=text, Description=description)
            return
        except ClientError as e:
            if error_code(e) != "ResourceExistsException":
                raise translate(e) from e
        try:
            self._client.put_secret_value(SecretId=name, SecretString=text)
        except ClientError as e:
            raise translate(e) from e

    def get(self, name: str) -> str | None:
        """The secret string, or ``None`` when there is none (never stored, deleted)."""
        try:
            out = self._client.get_secret_value(SecretId=name)
        except ClientError as e:
            if error_code(e) in ("ResourceNotFoundException", "InvalidRequestException"):
                return None
            raise translate(e) from e
        return str(out.get("SecretString") or "")

    def delete(self, name: str) -> None:
        """Delete the secret at once (no recovery window). Idempotent."""
        try:
            self._client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as e:
            if error_code(e) != "ResourceNotFoundException":
                raise translate(e) from e
