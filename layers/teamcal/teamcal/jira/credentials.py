"""What the deployment's Jira connection authenticates with. Held in Secrets Manager only, never
logged or returned.

Two kinds (issue 15, item 1):

* ``cloud`` - Jira Cloud: the account's ``email`` and an Atlassian API token, sent as HTTP Basic
  authentication (RFC 7617) ``email:apiToken``; the REST API version is 3.
* ``datacenter`` - Jira Data Center / Server: a personal access token, sent as
  ``Authorization: Bearer <PAT>`` (RFC 6750); the REST API version is 2.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Literal

from teamcal.errors import InvalidInputError

Flavor = Literal["cloud", "datacenter"]


@dataclass(frozen=True)
class JiraCredentials:
    """The connection's credentials. ``repr`` shows no secret value."""

    flavor: Flavor
    email: str | None = None
    api_token: str | None = field(default=None, repr=False)
    personal_access_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.flavor == "cloud" and not (self.email and self.api_token):
            raise InvalidInputError.for_field("apiToken", "Jira Cloud needs email and apiToken")
        if self.flavor == "datacenter" and not self.personal_access_token:
            raise InvalidInputError.for_field("personalAccessToken", "Jira Data Center needs personalAccessToken")

    @property
    def api_version(self) -> str:
        """``"3"`` for Jira Cloud, ``"2"`` for Data Center (the platform REST API version)."""
        return "3" if self.flavor == "cloud" else "2"

    def authorization(self) -> str:
        """The ``Authorization`` header value (Basic for Cloud, Bearer for Data Center)."""
        if self.flavor == "cloud":
            pair = f"{self.email}:{self.api_token}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return f"Bearer {self.personal_access_token}"

    def to_json(self) -> str:
        """The Secrets Manager ``SecretString`` (a JSON object; absent values omitted)."""
        data = {
            "flavor": self.flavor,
            "email": self.email,
            "apiToken": self.api_token,
            "personalAccessToken": self.personal_access_token,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> JiraCredentials:
        """Parse :meth:`to_json`'s output. Raises InvalidInputError on a corrupt secret."""
        try:
            data = json.loads(text)
        except ValueError as e:
            raise InvalidInputError("the stored Jira credentials are corrupt; PUT /jira/connection again") from e
        if not isinstance(data, dict) or data.get("flavor") not in ("cloud", "datacenter"):
            raise InvalidInputError("the stored Jira credentials are corrupt; PUT /jira/connection again")
        return cls(
            flavor=data["flavor"],
            email=data.get("email"),
            api_token=data.get("apiToken"),
            personal_access_token=data.get("personalAccessToken"),
        )
