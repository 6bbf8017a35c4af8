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

from teamcal.google.secrets import GoogleSecret, OAuthClient
from teamcal.storage.secret_strings import SecretStrings
from teamcal.storage.secret_strings import error_code as _code
from teamcal.storage.secret_strings import translate as _translate


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
        description = f"teamcal Google Calendar credentials of calendar {calendar_id}"
        SecretStrings(self._client).put(self.name(calendar_id), secret.to_json(), description)

    def get(self, calendar_id: int) -> GoogleSecret | None:
        """The connection's credentials, or ``None`` when it has none (never connected, removed)."""
        text = SecretStrings(self._client).get(self.name(calendar_id))
        return None if text is None else GoogleSecret.from_json(text)

    def delete(self, calendar_id: int) -> None:
        """Delete the connection's secret at once (no recovery window: a reconnect creates it
        again). Idempotent."""
        SecretStrings(self._client).delete(self.name(calendar_id))

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
