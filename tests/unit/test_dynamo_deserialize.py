"""storage.dynamo.deserialize gives what boto3's TypeDeserializer followed by the Decimal → int /
float step gives, for every attribute value form (its direct reading of the common forms is only
faster), and fails where that fails."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import given, settings
from hypothesis import strategies as st

from teamcal.storage import dynamo

pytestmark = pytest.mark.unit

_DESER = TypeDeserializer()


def _reference(item: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | set):
            return [plain(v) for v in value]
        return value

    return {k: plain(_DESER.deserialize(v)) for k, v in item.items()}


def _outcome(fn: Any, item: dict[str, Any]) -> tuple[str, Any]:
    try:
        out = fn(item)
    except Exception as e:  # noqa: BLE001 - the failure itself is compared
        return "error", type(e)
    return "ok", repr(out)  # int vs float vs bool, key order; NaN equals itself here


NUMBERS = [
    "0",
    "-0",
    "7",
    "-7",
    "007",
    "1.5",
    "-1.50",
    "1e3",
    "1E-2",
    "+5",
    " 5",
    "12345678901234567890123456789012345678",
    "-12345678901234567890123456789012345678",
    "123456789012345678901234567890123456789",
    "²",
    "1_000",
    "",
    "-",
    "NaN",
    "1.0",
    "100000000000000000000000000000000000000000",
]
EDGE = [{"N": n} for n in NUMBERS] + [
    {"S": ""},
    {"S": "é ✓"},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"NULL": False},
    {"B": b"\x00\x01"},
    {"SS": ["a", "b"]},
    {"NS": ["1", "2.5"]},
    {"BS": [b"x"]},
    {"L": []},
    {"M": {}},
    {"s": "lower"},
    {"n": "3"},
    {"S": "a", "N": "1"},
    {"N": "1", "S": "a"},
    {"BOOL": 1},
    {"N": 5},
    {"S": 5},
    {"L": "x"},
    {"M": []},
    {},
    {"X": "1"},
    {"M": {"a": {"L": [{"N": "1"}, {"M": {"b": {"NULL": True}}}, {"SS": ["z"]}]}}},
]


@pytest.mark.parametrize("value", EDGE, ids=[repr(v)[:40] for v in EDGE])
def test_edge_forms_give_the_same_result_or_the_same_error(value: dict[str, Any]) -> None:
    item = {"a": value}
    assert _outcome(dynamo.deserialize, item) == _outcome(_reference, item)


_numbers = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{0,3})?", fullmatch=True),
)
_scalars = st.one_of(
    st.text(max_size=5).map(lambda s: {"S": s}),
    _numbers.map(lambda n: {"N": n}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.binary(max_size=3).map(lambda b: {"B": b}),
    st.sets(st.text(max_size=3), min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(max_size=3), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _values, max_size=5))
def test_any_item_gives_the_same_result_or_the_same_error(item: dict[str, Any]) -> None:
    assert _outcome(dynamo.deserialize, item) == _outcome(_reference, item)
