"""within_budget counts exactly what counting each value's JSON one by one counts (it encodes
values a chunk at a time), for every budget, non-ASCII text, models and values JSON cannot encode."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import BaseModel

from teamcal.models.common import within_budget

pytestmark = pytest.mark.unit


def _reference(values: list[Any], budget: int) -> int:
    """within_budget as it was (b2dfca2): every value encoded by itself."""
    used = 0
    for count, item in enumerate(values):
        data = item.model_dump(by_alias=True, mode="json") if isinstance(item, BaseModel) else item
        used += len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")) + 1
        if used > budget and count > 0:
            return count
    return len(values)


class _Model(BaseModel):
    name: str
    when: int


def _outcome(fn: Any, values: list[Any], budget: int) -> Any:
    try:
        return fn(values, budget)
    except Exception as e:  # noqa: BLE001 - the failure itself is compared
        return type(e)


def _value(rng: random.Random, i: int) -> Any:
    text = "".join(rng.choice('aé✓𝄞"\\\n') for _ in range(rng.randint(0, 40)))
    kind = i % 5
    if kind == 0:
        return _Model(name=text, when=i)
    if kind == 1:
        return {"summary": text, "userKeys": [text, "u"], "n": i, "f": 1.5, "none": None, "ok": True}
    if kind == 2:
        return {"when": {1, 2} if i % 10 == 2 else i}  # default=str: a set is written as its str
    return {"id": i, "text": text * rng.randint(1, 30)}


@pytest.mark.parametrize("count", [0, 1, 255, 256, 257, 1300])
def test_the_count_is_the_one_by_one_count_for_every_budget(count: int) -> None:
    rng = random.Random(count)
    values = [_value(rng, i) for i in range(count)]
    whole = sum(
        len(
            json.dumps(
                v if not isinstance(v, BaseModel) else v.model_dump(mode="json"), ensure_ascii=False, default=str
            ).encode()
        )
        + 1
        for v in values
    )
    budgets = {0, 1, 50, whole - 1, whole, whole + 1, *(rng.randint(0, max(whole, 1)) for _ in range(40))}
    for budget in sorted(budgets):
        assert within_budget(values, budget) == _reference(values, budget), budget


def test_a_value_json_cannot_encode_fails_only_where_counting_one_by_one_fails() -> None:
    values: list[Any] = [{"t": "x" * 100} for _ in range(300)]
    values[280] = {"t": "\ud800"}  # a lone surrogate: no UTF-8 form
    for budget in (500, 20_000, 28_000, 29_000, 10**6):
        assert _outcome(within_budget, values, budget) == _outcome(_reference, values, budget)
