"""``FeedRecord`` (and the Jira and Google state records): stored items read and written back
without loss (no migration); the repositories write records, never dicts; secrets and token
hashes stay out of a record's repr."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.models.feed_record import FeedRecord
from teamcal.storage.dynamo import deserialize, serialize
from teamcal.storage.feeds import FeedRepository

pytestmark = pytest.mark.unit

TOKEN_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

FEED: dict[str, Any] = {
    "calendarId": 1959,
    "tokenHash": TOKEN_HASH,
    "hint": "xY_z",
    "created": 1_764_547_200_000,
    "createdBy": "ann",
}


@pytest.mark.parametrize(
    "item",
    [FEED, {**FEED, "futureAttribute": {"kept": [1, "a"]}}, {k: v for k, v in FEED.items() if k != "createdBy"}],
    ids=["full", "unknown-attribute", "no-creator"],
)
def test_a_feed_item_round_trips(item: dict[str, Any]) -> None:
    record = FeedRecord.from_item(item)
    assert record.item() == item
    # Through DynamoDB's wire form too (numbers come back as Decimal)
    assert FeedRecord.from_item(deserialize(serialize(item))).item() == item
    assert record.calendar_id == 1959
    assert record.token_hash == TOKEN_HASH


def test_a_feed_built_here_stores_every_attribute() -> None:
    record = FeedRecord(calendar_id=7, token_hash=TOKEN_HASH, hint="abcd", created=5, created_by="bob")
    assert record.item() == {
        "calendarId": 7,
        "tokenHash": TOKEN_HASH,
        "hint": "abcd",
        "created": 5,
        "createdBy": "bob",
    }


def test_a_feed_record_does_not_show_its_token_hash() -> None:
    record = FeedRecord.from_item(FEED)
    assert TOKEN_HASH not in repr(record)
    assert TOKEN_HASH not in str(record)
    assert "xY_z" in repr(record)


def test_the_feed_repository_refuses_dicts() -> None:
    # No client is needed: the refusal comes before any call
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").replace(dict(FEED), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").replace(FeedRecord.from_item(FEED), dict(FEED))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").delete(dict(FEED))  # type: ignore[arg-type]
