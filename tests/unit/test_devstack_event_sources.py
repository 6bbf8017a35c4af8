"""The local stack's DynamoDB stream and SQS drivers: reading their sources from template.yaml,
Lambda's event-filtering subset, the record shapes, and ReportBatchItemFailures answers."""

from __future__ import annotations

import datetime as dt

import pytest

from devstack.drivers import undriven_event_sources
from devstack.routing import TemplateError
from devstack.sqs_driver import failed_ids, queue_sources
from devstack.sqs_driver import lambda_record as sqs_record
from devstack.stream_driver import lambda_record, matches, stream_sources
from devstack.template import Template

pytestmark = pytest.mark.unit

TPL = Template.from_file(stack="teamcal-local")
EV = {"dynamodb": {"Keys": {"pk": {"S": "EV#1"}, "sk": {"S": "EV"}}}, "eventName": "INSERT"}
BUCKET = {"dynamodb": {"Keys": {"pk": {"S": "CAL#1#B#2026-03"}, "sk": {"S": "x"}}}, "eventName": "INSERT"}


def test_the_outbox_stream_and_the_sync_queue_are_read_from_the_template() -> None:
    (stream,) = stream_sources(TPL)
    assert (stream.function, stream.table, stream.starting_position) == (
        "PartnersOutboxFunction",
        "teamcal-local-EventsTable",
        "TRIM_HORIZON",
    )
    assert stream.report_failures
    assert stream.bisect
    assert matches(stream.filters[0], EV)
    assert not matches(stream.filters[0], BUCKET)
    (queue,) = queue_sources(TPL)
    assert (queue.function, queue.queue, queue.batch_size, queue.report_failures) == (
        "PartnersSenderFunction",
        "teamcal-local-SyncQueue.fifo",
        10,
        True,
    )
    assert not [s for s in undriven_event_sources(TPL) if "(DynamoDB)" in s or "(SQS)" in s]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "EV#"}]}}}}, True),
        ({"dynamodb": {"NewImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"Keys": [{"exists": True}]}}, True),
        ({"eventName": [{"anything-but": ["INSERT"]}]}, False),
        ({"missing": {"deeper": ["x"]}}, False),
    ],
)
def test_event_filtering(pattern: dict[str, object], expected: bool) -> None:
    assert matches(pattern, EV) is expected


def test_filters_with_operators_not_emulated_are_refused_at_start() -> None:
    data = Template.from_file().data
    props = data["Resources"]["PartnersOutboxFunction"]["Properties"]["Events"]["EventsStream"]["Properties"]
    props["FilterCriteria"] = {"Filters": [{"Pattern": '{"eventName": [{"numeric": [">", 1]}]}'}]}
    with pytest.raises(TemplateError, match="not emulated"):
        stream_sources(Template(data))


def test_records_get_lambdas_shape() -> None:
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
            "Keys": {"b": {"B": b"\x00"}},
        },
    }
    out = lambda_record(record, "arn:stream")
    assert (out["eventSourceARN"], out["dynamodb"]["ApproximateCreationDateTime"]) == ("arn:stream", 1772409600)
    assert out["dynamodb"]["Keys"]["b"]["B"] == "AA=="
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "Attributes": {"MessageGroupId": "g"},
        "MD5OfBody": "x",
    }
    shaped = sqs_record(message, "arn:queue")
    assert (shaped["messageId"], shaped["attributes"]["MessageGroupId"], shaped["eventSource"]) == (
        "m1",
        "g",
        "aws:sqs",
    )


def test_batch_item_failures_name_messages_of_the_batch() -> None:
    batch = [{"messageId": "a"}, {"messageId": "b"}]
    assert failed_ids({"batchItemFailures": []}, batch) == set()
    assert failed_ids(None, batch) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, batch) == {"b"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, batch) is None
    assert failed_ids({"batchItemFailures": [{"id": "b"}]}, batch) is None


def test_idle_sources_are_polled_less_and_less_often_up_to_once_a_second() -> None:
    from devstack.stream_driver import MAX_IDLE_WAIT, idle_wait

    assert [idle_wait(0.2, n) for n in (1, 2, 3)] == [0.2, 0.4, 0.8]
    assert idle_wait(0.2, 50) == MAX_IDLE_WAIT


class _FakeStream:
    """A one-shard stream holding ``records``, served ``limit`` at a time; new records can be
    appended while a driver reads it."""

    def __init__(self, records: list[dict[str, object]]) -> None:
        self.records = records

    def client(self, service: str) -> _FakeStream:
        return self

    def describe_table(self, TableName: str) -> dict[str, object]:  # noqa: N803 - boto3's names
        return {"Table": {"LatestStreamArn": "arn:stream"}}

    def describe_stream(self, StreamArn: str) -> dict[str, object]:  # noqa: N803
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(self, **_: object) -> dict[str, str]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, object]:  # noqa: N803
        at = int(ShardIterator)
        got = self.records[at : at + min(Limit, 7)]
        return {"Records": got, "NextShardIterator": str(at + len(got))}


def _ev(n: int) -> dict[str, object]:
    return {"eventID": f"e{n}", "eventName": "INSERT", "dynamodb": {**EV["dynamodb"], "SequenceNumber": str(n)}}


def test_wait_idle_returns_once_every_record_written_before_it_is_delivered() -> None:
    import threading

    from devstack.stream_driver import StreamDriver

    delivered: list[str] = []
    slow = threading.Event()

    def invoke(logical_id: str, event: dict[str, list[dict[str, object]]], timeout: float | None = None) -> object:
        slow.wait(0.01)  # a function that takes a moment per batch
        delivered.extend(r["eventID"] for r in event["Records"])  # type: ignore[misc]
        return {"batchItemFailures": []}

    stream = _FakeStream([_ev(n) for n in range(40)])
    driver = StreamDriver(TPL, invoke, stream, poll_seconds=0.01)
    driver.start()
    try:
        assert driver.wait_idle(timeout=10)
        assert len(delivered) == 40
        stream.records += [_ev(n) for n in range(40, 45)]  # written after the stream went idle
        assert driver.wait_idle(timeout=10)
        assert delivered == [f"e{n}" for n in range(45)]
    finally:
        driver.stop()


def test_wait_idle_gives_up_while_a_batch_keeps_failing() -> None:
    from devstack.drivers import FunctionError
    from devstack.stream_driver import StreamDriver

    def invoke(logical_id: str, event: object, timeout: float | None = None) -> object:
        raise FunctionError(logical_id, {"errorType": "Boom", "errorMessage": "always"})

    driver = StreamDriver(TPL, invoke, _FakeStream([_ev(1)]), poll_seconds=0.01, retry_seconds=0.01)
    driver.start()
    try:
        assert not driver.wait_idle(timeout=0.5)
    finally:
        driver.stop()
