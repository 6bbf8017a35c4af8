"""Wire pieces shared by calendars and sources: JSON-in-a-string ``value``s, colors, grants.

CCJ sends a calendar's and a source's settings as ``value``: a JSON object encoded as a string,
e.g. ``"{\\"name\\":\\"Development\\",\\"usersFromEvents\\":true}"`` (CCJ reference, GET
/api/1/calendar response sample). teamcal validates the object's content with a pydantic schema
that keeps unknown keys (clients store their own there), then stores and returns the string
exactly as received, byte for byte.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from teamcal.errors import InvalidInputError
from teamcal.models.text import check_strings, check_text

#: The longest ``value`` string accepted, in characters (DynamoDB items are capped at 400 KB).
MAX_VALUE_CHARS = 65_536

#: A CSS hex color as CCJ writes it: ``#rrggbb`` (``#7500ca`` in the reference samples).
HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]

#: A user key (Jira account id, e.g. ``66625976fc0cc7a600b08977``) or a group name.
Principal = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(check_text)]

M = TypeVar("M", bound=BaseModel)


class ValueSchema(BaseModel):
    """Base of every ``value`` schema: strict types, unknown keys kept (``extra="allow"``)."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True, defer_build=True)


class PermissionGrant(BaseModel):
    """``{"groups": [...], "users": [...]}``: who a calendar permission is granted to.

    Empty lists mean "nobody in particular"; what that implies depends on the permission (see
    :mod:`teamcal.access`). At most 100 groups and 100 users each, so a calendar item (three
    grants and a ``value`` of up to 64 Ki characters) stays well below DynamoDB's 400 KB.
    """

    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)

    groups: list[Principal] = Field(default_factory=list, max_length=100)
    users: list[Principal] = Field(default_factory=list, max_length=100)

    def is_empty(self) -> bool:
        """True when neither a group nor a user is listed."""
        return not self.groups and not self.users


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse_value(raw: str, schema: type[M], field: str = "value") -> M:
    """Validate a JSON-in-a-string ``value`` against ``schema``; the string itself is not changed.

    Errors name the wire field: ``value`` when the string is not a JSON object, ``value.color``
    (``value.issueFields.0.showInfo``, …) when a key inside fails its schema.

    Raises:
        InvalidInputError: not valid JSON (NaN and Infinity are not JSON), not an object, nested
            too deeply, a string inside holding a control character (TAB and line breaks aside),
            or failing ``schema``.
    """
    if len(raw) > MAX_VALUE_CHARS:
        raise InvalidInputError.for_field(field, f"must be at most {MAX_VALUE_CHARS} characters")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise InvalidInputError.for_field(field, "must be a JSON object encoded as a string") from e
    if not isinstance(data, dict):
        raise InvalidInputError.for_field(field, "must encode a JSON object, not " + type(data).__name__)
    try:
        check_strings(data, field)
    except ValueError as e:
        raise InvalidInputError.for_field(field, str(e)) from e
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        errors = {f"{field}.{_location(err['loc'])}" if err["loc"] else field: str(err["msg"]) for err in e.errors()}
        first = next(iter(errors.items()))
        raise InvalidInputError(f"{first[0]}: {first[1]}", errors) from e
