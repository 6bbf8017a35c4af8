"""The local stack's moto server keeps DynamoDB transactions all or nothing, streams included, as
AWS does (devstack.moto_fixes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from devstack import moto_fixes

TABLE = "t"


@pytest.fixture
def endpoint(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, bool]]:
    """A moto server on loopback, as moto ships it or with the fixes; a table with a stream."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    fixed = request.param == "fixed"
    if fixed:
        moto_fixes.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        requests.post(f"{url}/moto-api/reset", timeout=10)  # moto's state is the process's
        _dynamodb(url).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield url, fixed
    finally:
        server.stop()
        moto_fixes.uninstall()


def _dynamodb(url: str) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url)


def _iterator(url: str) -> tuple[Any, str]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=url)
    arn = _dynamodb(url).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams, streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]


def _read(streams: Any, iterator: str) -> tuple[list[str], str]:
    out = streams.get_records(ShardIterator=iterator)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]]
    return keys, out["NextShardIterator"]


def _cancelled_transaction(ddb: Any) -> None:
    """A transaction that writes one item, then fails its condition on another (cancelled)."""
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "partial"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )


@pytest.mark.parametrize("endpoint", ["moto", "fixed"], indirect=True)
def test_a_stream_reader_sees_the_writes_after_a_cancelled_transaction(endpoint: tuple[str, bool]) -> None:
    url, fixed = endpoint
    ddb = _dynamodb(url)
    streams, iterator = _iterator(url)
    # Given a reader that has read the stream up to a first write
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}})
    first, iterator = _read(streams, iterator)
    assert first == ["a"]
    # When a transaction is cancelled, and then another item is written
    _cancelled_transaction(ddb)
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "b"}})
    # Then the reader gets that write, and nothing of the cancelled transaction (as on AWS);
    # moto's own server cuts the reader off (it may still see the cancelled partial write)
    after, _ = _read(streams, iterator)
    if fixed:
        assert after == ["b"]
    else:
        assert "b" not in after, "moto's own server keeps the stream now: devstack.moto_fixes may go"
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "partial"}})


@pytest.mark.parametrize("endpoint", ["fixed"], indirect=True)
def test_writes_made_while_transactions_are_cancelled_are_kept(endpoint: tuple[str, bool]) -> None:
    url, _ = endpoint
    ddb = _dynamodb(url)
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}})
    for start in range(0, 200, 25):  # a table large enough that moto's backup copy takes a while
        requests_ = [{"PutRequest": {"Item": {"pk": {"S": f"filler-{i}"}}}} for i in range(start, start + 25)]
        ddb.batch_write_item(RequestItems={TABLE: requests_})
    stop = threading.Event()

    def cancel() -> None:
        other = _dynamodb(url)
        while not stop.is_set():
            _cancelled_transaction(other)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    try:
        # When 60 items are written while transactions are cancelled side by side
        written = [f"w-{i}" for i in range(60)]
        for key in written:
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": key}})
    finally:
        stop.set()
        canceller.join()
    # Then every one of them is there (moto's own server loses some: its rollback puts back a
    # copy of the table taken before them)
    missing = [k for k in written if "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": k}})]
    assert missing == []
