"""Shapes shared by every resource: Jira's page envelope and error body."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

#: The most bytes of ``values`` one listing or search response carries (a Lambda response is at
#: most 6 MB; the envelope, headers and API Gateway's own need stay well inside the rest).
RESPONSE_BYTE_BUDGET = 4_000_000
#: How a field holding a secret (token plaintext, presigned or feed URL) is described: the answer
#: replayed for a repeated ``Idempotency-Key`` carries null there (teamcal.idempotency).
SHOWN_ONCE = "null in the answer replayed for a repeated Idempotency-Key: a secret is shown once"


def within_budget(values: Sequence[Any], budget: int = RESPONSE_BYTE_BUDGET) -> int:
    """How many of ``values`` (from the first) fit in ``budget`` bytes of JSON; at least one, so
    that paging with ``startAt`` always moves on. A model value counts as its JSON by alias.

    Each value counts as the UTF-8 length of its JSON plus one. Values are encoded
    :data:`_BUDGET_CHUNK` at a time (a list's JSON is its values' JSON joined by ``", "``, so a
    chunk's count is exact); only a chunk that does not fit whole is counted value by value.
    """
    used = 0
    for first in range(0, len(values), _BUDGET_CHUNK):
        chunk = [_json_data(v) for v in values[first : first + _BUDGET_CHUNK]]
        try:
            size = _json_bytes(chunk) - 2 * len(chunk) + len(chunk)  # "[" "]" and the separators
        except UnicodeEncodeError:
            size = budget + 1  # a value with a lone surrogate: counted (and refused) one by one
        if used + size <= budget:
            used += size
            continue
        for offset, data in enumerate(chunk):
            used += _json_bytes(data) + 1
            if used > budget and first + offset > 0:
                return first + offset
    return len(values)


_BUDGET_CHUNK = 256


def _json_data(item: Any) -> Any:
    return item.model_dump(by_alias=True, mode="json") if isinstance(item, BaseModel) else item


def _json_bytes(data: Any) -> int:
    return len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))


class Page(BaseModel, Generic[T]):
    """Jira's paging envelope ``{startAt, maxResults, total, isLast, values}``.

    ``startAt`` is the 0-based index of the first value; ``maxResults`` the page size asked for
    (equal to ``total`` when the caller asked for everything). A page also ends where its values
    would pass :data:`RESPONSE_BYTE_BUDGET` bytes (``isLast: false``: ask again from ``startAt``
    plus the number of values received).
    """

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    start_at: int = Field(alias="startAt")
    max_results: int = Field(alias="maxResults")
    total: int
    is_last: bool = Field(alias="isLast")
    values: list[T]

    @classmethod
    def of(cls, items: list[T], start_at: int = 0, max_results: int | None = None) -> Page[T]:
        """Slice ``items`` into one page; ``max_results=None`` returns everything from ``start_at``
        (within the byte budget)."""
        total = len(items)
        end = total if max_results is None else min(total, start_at + max_results)
        end = start_at + within_budget(items[start_at:end]) if end > start_at else end
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
