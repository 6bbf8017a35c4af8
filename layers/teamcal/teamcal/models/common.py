"""Shapes shared by every resource: Jira's page envelope and error body."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Jira's paging envelope ``{startAt, maxResults, total, isLast, values}``.

    ``startAt`` is the 0-based index of the first value; ``maxResults`` the page size asked for
    (equal to ``total`` when the caller asked for everything).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    start_at: int = Field(alias="startAt")
    max_results: int = Field(alias="maxResults")
    total: int
    is_last: bool = Field(alias="isLast")
    values: list[T]

    @classmethod
    def of(cls, items: list[T], start_at: int = 0, max_results: int | None = None) -> Page[T]:
        """Slice ``items`` into one page; ``max_results=None`` returns everything from ``start_at``."""
        total = len(items)
        end = total if max_results is None else min(total, start_at + max_results)
        return cls.model_validate(
            {
                "startAt": start_at,
                "maxResults": max_results if max_results is not None else max(total - start_at, 0),
                "total": total,
                "isLast": end >= total,
                "values": items[start_at:end],
            }
        )


class JiraErrorBody(BaseModel):
    """Jira's error body, returned with every 4xx and 5xx: ``{"errorMessages": [], "errors": {}}``."""

    model_config = ConfigDict(defer_build=True)

    error_messages: list[str] = Field(alias="errorMessages")
    errors: dict[str, str]
