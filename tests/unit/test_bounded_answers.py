"""Bounded answers (issue 16 item 3): every listing ends its page at a byte budget, and a storage
``ValidationException`` (an item over DynamoDB's 400 KB) is a clear 4xx, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from teamcal.errors import ConflictError, InvalidInputError, PayloadTooLargeError
from teamcal.models.common import RESPONSE_BYTE_BUDGET, Page, within_budget
from teamcal.models.events import EventFields
from teamcal.models.text import MAX_DESCRIPTION, MAX_SUMMARY, MAX_USER_KEY, MAX_USER_KEYS
from teamcal.storage.dynamo import serialize, translate

pytestmark = pytest.mark.unit


def client_error(code: str, message: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, "PutItem")


def test_an_item_over_400_kb_is_413_and_other_validation_errors_are_400() -> None:
    too_big = translate(client_error("ValidationException", "Item size has exceeded the maximum allowed size"))
    assert isinstance(too_big, PayloadTooLargeError)
    other = translate(client_error("ValidationException", "One or more parameter values were invalid: gsi1pk"))
    assert isinstance(other, InvalidInputError)
    assert "gsi1pk" not in other.message
    in_transaction = translate(
        client_error(
            "TransactionCanceledException",
            "Transaction cancelled",
            CancellationReasons=[
                {"Code": "None"},
                {"Code": "ValidationError", "Message": "Item size to update has exceeded the maximum allowed size"},
            ],
        )
    )
    assert isinstance(in_transaction, PayloadTooLargeError)
    conflict = translate(
        client_error("TransactionCanceledException", "x", CancellationReasons=[{"Code": "ConditionalCheckFailed"}])
    )
    assert isinstance(conflict, ConflictError)


def test_a_listing_page_ends_at_the_byte_budget_and_says_it_is_not_the_last() -> None:
    # Given 300 values of 20 KB each (6 MB in all)
    items = [{"id": i, "value": "x" * 20_000} for i in range(300)]
    # When they are listed without maxResults
    page = Page[dict[str, Any]].of(items)
    # Then the page ends before the budget and says more follow
    assert page.is_last is False
    assert 0 < len(page.values) < 300
    assert len(json.dumps(page.model_dump(by_alias=True))) < RESPONSE_BYTE_BUDGET + 10_000
    # and the next page starts where it ended
    following = Page[dict[str, Any]].of(items, start_at=len(page.values))
    assert following.values[0]["id"] == len(page.values)


def test_one_value_larger_than_the_budget_still_moves_paging_on() -> None:
    assert within_budget([{"v": "x" * 10}], budget=5) == 1


def test_the_largest_event_the_limits_allow_stays_well_under_400_kb() -> None:
    # Given an event at every limit, in 4-byte UTF-8 characters
    wide = "\U0001f600"
    fields = EventFields.model_validate(
        {
            "summary": wide * MAX_SUMMARY,
            "description": wide * MAX_DESCRIPTION,
            "userKeys": [f"{i:03d}" + wide * (MAX_USER_KEY - 3) for i in range(MAX_USER_KEYS)],
            "exdate": [f"2026{m:02d}{d:02d}T101010Z" for m in range(1, 13) for d in range(1, 29)] * 14,
            "rdate": ([f"2027{m:02d}{d:02d}T101010Z" for m in range(1, 13) for d in range(1, 29)] * 3)[:1000],
        }
    )
    item = serialize(fields.model_dump(by_alias=True))
    # Then the stored item is well under DynamoDB's 400 KB (its size: names and values in UTF-8,
    # and a byte or so per list element; counted here generously as the JSON of the item)
    size = len(json.dumps(item, ensure_ascii=False).encode("utf-8"))
    assert size < 350_000, size
