"""The local stack's moto speed-ups answer exactly what moto itself answers (devstack.moto_speed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack import moto_speed

Call = Callable[[Any], Any]


def _item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"P#{i % 3}"},
        "sk": {"S": f"{i:05d}"},
        "g1": {"S": f"G#{i % 2}"},
        "g1s": {"S": f"{(i * 7) % 11:03d}"},
        "gn": {"N": str(i % 4)},
        "num": {"N": f"{i}.50"},
        "bin": {"B": bytes([i % 256, 255, 0])},
        "bins": {"BS": [b"x", bytes([i % 256])]},
        "strs": {"SS": ["a", f"s{i}"]},
        "nums": {"NS": ["1", str(i)]},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "nested": {"M": {"l": {"L": [{"S": "é ✓"}, {"N": "-3"}, {"M": {"k": {"B": b"\x00"}}}]}}},
        "text": {"S": "x" * (i * 10)},
    }


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": t}
                for a, t in (("pk", "S"), ("sk", "S"), ("g1", "S"), ("g1s", "S"), ("gn", "N"))
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "g1", "KeyType": "HASH"},
                        {"AttributeName": "g1s", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "gsin",
                    "KeySchema": [{"AttributeName": "gn", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(60):
            c.put_item(TableName="t", Item=_item(i))
        c.put_item(TableName="t", Item={"pk": {"S": "P#0"}, "sk": {"S": "zz-sparse"}})  # in no index
        yield c
        moto_speed.uninstall()


def _q(**kw: Any) -> Call:
    return lambda c: c.query(TableName="t", **kw)


CALLS: dict[str, Call] = {
    "table partition": _q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#1"}}),
    "table range": _q(
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":p": {"S": "P#0"}, ":a": {"S": "00010"}, ":b": {"S": "00040"}},
        ScanIndexForward=False,
    ),
    "table absent partition": _q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "nope"}}),
    "table filter + projection": _q(
        KeyConditionExpression="pk = :p",
        FilterExpression="num > :n",
        ProjectionExpression="sk, nested, bin",
        ExpressionAttributeValues={":p": {"S": "P#2"}, ":n": {"N": "20"}},
        ReturnConsumedCapacity="TOTAL",
    ),
    "table count": _q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#2"}}, Select="COUNT"),
    "gsi string": _q(
        IndexName="gsi1",
        KeyConditionExpression="g1 = :g AND g1s >= :s",
        ExpressionAttributeValues={":g": {"S": "G#1"}, ":s": {"S": "004"}},
    ),
    "gsi number": _q(
        IndexName="gsin", KeyConditionExpression="gn = :g", ExpressionAttributeValues={":g": {"N": "2.0"}}
    ),
    "scan": lambda c: c.scan(
        TableName="t", FilterExpression="flag = :f", ExpressionAttributeValues={":f": {"BOOL": True}}
    ),
    "get": lambda c: c.get_item(TableName="t", Key={"pk": {"S": "P#1"}, "sk": {"S": "00004"}}),
    "get absent": lambda c: c.get_item(TableName="t", Key={"pk": {"S": "P#1"}, "sk": {"S": "none"}}),
    "batch get": lambda c: c.batch_get_item(
        RequestItems={"t": {"Keys": [{"pk": {"S": "P#0"}, "sk": {"S": f"{i:05d}"}} for i in (0, 3, 5, 6)]}},
        ReturnConsumedCapacity="TOTAL",
    ),
}


def _pages(client: Any, call: Call, limit: int | None) -> list[Any]:
    """Every page of ``call`` (following LastEvaluatedKey), without the request metadata."""
    out = []
    start: dict[str, Any] = {}
    for _ in range(100):

        def paged(c: Any, start: dict[str, Any] = start) -> Any:
            return call(_Limited(c, limit, start))

        page = paged(client)
        page.pop("ResponseMetadata", None)
        out.append(page)
        if "LastEvaluatedKey" not in page:
            return out
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    raise AssertionError("more than 100 pages")


class _Limited:
    """A client whose query/scan add ``Limit`` and ``ExclusiveStartKey``."""

    def __init__(self, client: Any, limit: int | None, start: dict[str, Any]) -> None:
        self._client, self._limit, self._start = client, limit, start

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in ("query", "scan") or (self._limit is None and not self._start):
            return method
        extra = {**self._start, **({"Limit": self._limit} if self._limit else {})}
        return lambda **kw: method(**kw, **extra)


@pytest.mark.parametrize("limit", [None, 7])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_answers_are_moto_s_own(client: Any, name: str, limit: int | None) -> None:
    # Given moto's own answers (every page) to a read
    expected = _pages(client, CALLS[name], limit)
    # When the speed-ups are installed and the same read runs again
    moto_speed.install()
    got = _pages(client, CALLS[name], limit)
    # Then boto3 parses exactly the same answers
    assert got == expected
    found = any(page.get("Items") or page.get("Item") or page.get("Responses") or page.get("Count") for page in got)
    assert found is ("absent" not in name)


def test_uninstall_restores_moto(client: Any) -> None:
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    before = (Table.query, DynamoResult.execute_result)
    moto_speed.install()
    moto_speed.install()  # idempotent
    assert (Table.query, DynamoResult.execute_result) != before
    moto_speed.uninstall()
    assert (Table.query, DynamoResult.execute_result) == before
