"""What a Google connection authenticates with. Held in Secrets Manager, never logged or returned.

Three kinds (issue #6, "Connect"):

* ``oauth`` - an OAuth 2.0 client (``clientId``, ``clientSecret``) and a ``refreshToken`` obtained
  with offline access (RFC 6749 §6 refresh grant at the token endpoint);
* ``serviceAccount`` - a service-account JSON key (JWT bearer grant, RFC 7523), optionally acting
  for ``subject`` (domain-wide delegation);
* ``apiKey`` - an API key alone: enough for public calendars only.

An ``apiKey`` may accompany the first two; it is used to tell public Google calendars from
private ones (a calendar an anonymous, key-only request can read is public).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from teamcal.errors import InvalidInputError

SecretKind = Literal["oauth", "serviceAccount", "apiKey"]

#: The read-only Calendar scope (least privilege: teamcal never writes to Google).
READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"

_SA_FIELDS = ("type", "client_email", "private_key")


@dataclass(frozen=True)
class GoogleSecret:
    """A connection's credentials. ``repr`` shows no secret value."""

    kind: SecretKind
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    service_account_key: Mapping[str, Any] | None = field(default=None, repr=False)
    subject: str | None = None
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "oauth" and not (self.client_id and self.client_secret and self.refresh_token):
            raise InvalidInputError.for_field(
                "refreshToken", "OAuth credentials need clientId, clientSecret and refreshToken"
            )
        if self.kind == "serviceAccount":
            key = self.service_account_key or {}
            missing = [f for f in _SA_FIELDS if not isinstance(key.get(f), str) or not key.get(f)]
            if missing or key.get("type") != "service_account":
                raise InvalidInputError.for_field(
                    "serviceAccountKey", "is not a Google service-account JSON key (type, client_email, private_key)"
                )
        if self.kind == "apiKey" and not self.api_key:
            raise InvalidInputError.for_field("apiKey", "is required")

    @property
    def account_hint(self) -> str | None:
        """A non-secret label of the credentials: the OAuth client id or the service account's email."""
        if self.kind == "serviceAccount" and self.service_account_key:
            return str(self.service_account_key.get("client_email"))
        return self.client_id

    def to_json(self) -> str:
        """The Secrets Manager ``SecretString`` (JSON object; absent values omitted)."""
        data = {
            "kind": self.kind,
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "refreshToken": self.refresh_token,
            "serviceAccountKey": dict(self.service_account_key) if self.service_account_key else None,
            "subject": self.subject,
            "apiKey": self.api_key,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> GoogleSecret:
        """Parse :meth:`to_json`'s output. Raises InvalidInputError on a corrupt secret."""
        try:
            data = json.loads(text)
        except ValueError as e:
            raise InvalidInputError("the stored Google credentials are corrupt; PUT them again") from e
        if not isinstance(data, dict) or data.get("kind") not in ("oauth", "serviceAccount", "apiKey"):
            raise InvalidInputError("the stored Google credentials are corrupt; PUT them again")
        return cls(
            kind=data["kind"],
            client_id=data.get("clientId"),
            client_secret=data.get("clientSecret"),
            refresh_token=data.get("refreshToken"),
            service_account_key=data.get("serviceAccountKey"),
            subject=data.get("subject"),
            api_key=data.get("apiKey"),
        )


@dataclass(frozen=True)
class OAuthClient:
    """The deployment's OAuth 2.0 web client (the "global integration settings" of the CCJ
    reference), used by the authorization-code flow. ``api_key`` is the deployment's API key,
    used to tell public calendars from private ones when a connection has none of its own."""

    client_id: str
    client_secret: str = field(repr=False)
    api_key: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        """Both the client id and secret are set."""
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_json(cls, text: str) -> OAuthClient:
        """Parse the deployment secret ``{"clientId", "clientSecret", "apiKey"}`` (empty strings
        mean "not configured")."""
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(
            client_id=str(data.get("clientId") or ""),
            client_secret=str(data.get("clientSecret") or ""),
            api_key=str(data.get("apiKey") or "") or None,
        )
