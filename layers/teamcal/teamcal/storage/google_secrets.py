"""Google credentials in AWS Secrets Manager: one secret per connection, plus the deployment's
OAuth client.

A connection's secret is named ``<prefix><calendarId>`` (``GOOGLE_SECRET_PREFIX``, e.g.
``teamcal/google/connections/1959``); its ``SecretString`` is
:meth:`teamcal.google.secrets.GoogleSecret.to_json`. The function's IAM policy covers exactly
that prefix. Nothing here logs or returns a secret value to an API caller.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError
from teamcal.google.secrets import GoogleSecret, OAuthClient

_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "InternalServiceError", "LimitExceededException"}


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _translate(e: ClientError) -> Exception:
    if _code(e) in _THROTTLED:
        return RetryableError("the secret store is busy; retry the request")
    unchanged: Exception = e
    return unchanged


class GoogleSecretStore:
    """Per-connection credentials. ``client`` is a boto3 Secrets Manager client."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def name(self, calendar_id: int) -> str:
        """The secret's name for calendar ``calendar_id``."""
        return f"{self._prefix}{calendar_id}"

    def put(self, calendar_id: int, secret: GoogleSecret) -> None:
        """Create the connection's secret, or store a new version when it exists."""
        name = self.name(calendar_id)
        try:
            self._client.create_secret(
                Name=name,
                SecretString=secret.to_json(),
                Description=f"teamcal Google Calendar credentials of calendar {calendar_id}",
            )
            return
        except ClientError as e:
            if _code(e) != "ResourceExistsException":
                raise _translate(e) from e
        try:
            self._client.put_secret_value(SecretId=name, SecretString=secret.to_json())
        except ClientError as e:
            raise _translate(e) from e

    def get(self, calendar_id: int) -> GoogleSecret | None:
        """The connection's credentials, or ``None`` when it has none (never connected, removed)."""
        try:
            out = self._client.get_secret_value(SecretId=self.name(calendar_id))
        except ClientError as e:
            if _code(e) in ("ResourceNotFoundException", "InvalidRequestException"):
                return None
            raise _translate(e) from e
        return GoogleSecret.from_json(str(out["SecretString"]))

    def delete(self, calendar_id: int) -> None:
        """Delete the connection's secret at once (no recovery window: a reconnect creates it
        again). Idempotent."""
        try:
            self._client.delete_secret(SecretId=self.name(calendar_id), ForceDeleteWithoutRecovery=True)
        except ClientError as e:
            if _code(e) != "ResourceNotFoundException":
                raise _translate(e) from e

    def oauth_client(self, secret_id: str) -> OAuthClient:
        """The deployment's OAuth client (``{"clientId", "clientSecret", "apiKey"}``, set by an
        admin after deploying); empty when unset."""
        try:
            out = self._client.get_secret_value(SecretId=secret_id)
        except ClientError as e:
            if _code(e) == "ResourceNotFoundException":
                return OAuthClient("", "")
            raise _translate(e) from e
        return OAuthClient.from_json(str(out.get("SecretString") or ""))
