"""Wire models of the token admin API (``/token``): teamcal's own resource, CCJ-style names."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from teamcal.ids import MAX_ID
from teamcal.models.common import SHOWN_ONCE
from teamcal.models.text import LineText


class TokenCreate(BaseModel):
    """Body of ``POST /token``.

    CCJ: "an admin has to generate a token tied either to specific calendars or all calendars";
    the flags decide whether calendars and sources may be edited and deleted.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    name: LineText = Field(min_length=1, max_length=200)
    user: LineText = Field(min_length=1, max_length=200, description="the user the token acts as")
    all_calendars: bool = Field(default=False, alias="allCalendars")
    calendar_ids: list[int] = Field(default_factory=list, alias="calendarIds", max_length=1000)
    groups: list[Annotated[LineText, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list,
        max_length=100,
        description="groups the user belongs to (for calendar permissions)",
    )
    edit_calendars: bool = Field(default=False, alias="editCalendars")
    delete_calendars: bool = Field(default=False, alias="deleteCalendars")
    edit_sources: bool = Field(default=False, alias="editSources")
    delete_sources: bool = Field(default=False, alias="deleteSources")
    admin: bool = False

    @model_validator(mode="after")
    def _scope_is_consistent(self) -> TokenCreate:
        if self.all_calendars and self.calendar_ids:
            raise ValueError("calendarIds must be empty when allCalendars is true")
        if any(i <= 0 or i > MAX_ID for i in self.calendar_ids):
            raise ValueError("calendarIds must be positive integers below 2^53")
        self.calendar_ids = sorted(set(self.calendar_ids))
        self.groups = sorted(set(self.groups))
        return self


class Token(BaseModel):
    """A token as the API shows it: never the plaintext (except once, in :class:`CreatedToken`),
    never the hash. ``created`` is epoch ms (UTC)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    id: int
    name: str
    user: str
    all_calendars: bool = Field(alias="allCalendars")
    calendar_ids: list[int] = Field(alias="calendarIds")
    groups: list[str] = Field(default_factory=list)
    edit_calendars: bool = Field(alias="editCalendars")
    delete_calendars: bool = Field(alias="deleteCalendars")
    edit_sources: bool = Field(alias="editSources")
    delete_sources: bool = Field(alias="deleteSources")
    admin: bool
    hint: str = Field(description="the token's first characters, to recognise it; not a secret")
    created: int
    created_by: int | None = Field(default=None, alias="createdBy")


class CreatedToken(Token):
    """The response of ``POST /token``: the token plus its plaintext, shown this one time."""

    token: str | None = Field(description=f"the plaintext; {SHOWN_ONCE}")
