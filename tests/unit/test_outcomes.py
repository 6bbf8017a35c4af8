"""Outcomes are enums whose members are their wire strings; AWS event shapes are decoded with
Powertools' data classes, numbers made plain at that boundary."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent

from teamcal.models.ical import ImportJob, ImportOutcome
from teamcal.models.outcomes import SyncOutcome
from teamcal.partners.protocol import ChangeOutcome, ChangeResult
from teamcal.storage.dynamo import deserialize, plain, serialize

pytestmark = pytest.mark.unit


def test_each_import_outcome_names_the_jobs_counter() -> None:
    counters = {name for name, field in ImportJob.model_fields.items() if field.annotation in (int, "int")}
    assert {o.value for o in ImportOutcome} <= counters
    assert [o.value for o in ImportOutcome] == ["created", "updated", "skipped", "failed"]


@pytest.mark.parametrize("outcome", list(SyncOutcome) + list(ImportOutcome) + list(ChangeOutcome))
def test_an_outcome_is_its_wire_string_in_json_and_comparisons(
    outcome: SyncOutcome | ImportOutcome | ChangeOutcome,
) -> None:
    assert json.dumps({"outcome": outcome}) == json.dumps({"outcome": outcome.value})
    assert outcome == outcome.value
    assert f"{outcome}" == outcome.value


def test_a_partners_change_result_reads_and_writes_the_protocols_strings() -> None:
    answer = ChangeResult.model_validate({"result": "applied", "eventId": 7})
    assert answer.result is ChangeOutcome.APPLIED
    assert json.loads(answer.model_dump_json(by_alias=True, exclude_none=True)) == {"result": "applied", "eventId": 7}
    with pytest.raises(ValueError, match="result"):
        ChangeResult.model_validate({"result": "overwritten"})


def test_a_stream_image_is_the_plain_item_the_repositories_read() -> None:
    # Given an event item with integral, fractional, nested and set numbers, as a stream record
    item: dict[str, Any] = {
        "id": 1_234_567_890_123,
        "calendarId": 5,
        "ratio": 0.5,
        "overrides": {"20260302": {"id": 8, "startDate": 1_767_225_600_000}},
        "userKeys": ["ann"],
    }
    attributes = serialize(item) | {"tags": {"NS": ["3", "1"]}}
    event = DynamoDBStreamEvent({"Records": [{"eventID": "e1", "dynamodb": {"NewImage": attributes}}]})
    stream = next(event.records).dynamodb
    assert stream is not None
    # When Powertools decodes it (Decimal numbers) and it is made plain
    decoded = stream.new_image
    assert isinstance(decoded["id"], Decimal)
    image = plain(decoded)
    # Then it is what the repositories' deserializer gives: ints stay ints, others float
    assert image == deserialize(attributes)
    assert type(image["id"]) is int
    assert type(image["ratio"]) is float
    assert sorted(image["tags"]) == [1, 3]
