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
        for i in range(12):  # 1.2 MB in one partition: moto pages a Query by its 1 MB size limit
            c.put_item(TableName="t", Item={**_item(i), "pk": {"S": "BIG"}, "text": {"S": "y" * 100_000}})
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
    "table range below (search)": _q(
        KeyConditionExpression="pk = :p AND sk < :e",
        ExpressionAttributeValues={":p": {"S": "P#1"}, ":e": {"S": "00040"}},
    ),
    "table size-limited pages": _q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "BIG"}}),
    "table count": _q(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P#2"}}, Select="COUNT"),
    "gsi string": _q(
        IndexName="gsi1",
        KeyConditionExpression="g1 = :g AND g1s >= :s",
        ExpressionAttributeValues={":g": {"S": "G#1"}, ":s": {"S": "004"}},
    ),
    "gsi range + filter (search masters)": _q(
        IndexName="gsi1",
        KeyConditionExpression="g1 = :g AND g1s >= :s",
        FilterExpression="num < :n",
        ExpressionAttributeValues={":g": {"S": "G#0"}, ":s": {"S": "002"}, ":n": {"N": "40"}},
    ),
    "gsi keys only": _q(
        IndexName="gsin",
        KeyConditionExpression="gn = :g",
        ExpressionAttributeValues={":g": {"N": "1"}},
        ScanIndexForward=False,
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


def test_reads_leave_stored_items_alone_and_untracked(client: Any) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    # Given the speed-ups and a first answer
    moto_speed.install()
    first = [_pages(client, CALLS[name], None) for name in sorted(CALLS)]
    # When every read runs again (projections, filters, index projections included)
    again = [_pages(client, CALLS[name], None) for name in sorted(CALLS)]
    # Then the stored items were not changed by the first reads
    assert again == first
    # And a search's Queries (no projection) leave no moto Item behind (moto's deep copies stayed
    # in Item.instances_tracked for good; projections and Scan still build tracked Items)
    tracked = len(Item.instances_tracked)
    for name in ("table partition", "table range below (search)", "gsi range + filter (search masters)"):
        assert _pages(client, CALLS[name], 7)
    assert len(Item.instances_tracked) == tracked


def _tree(rng: Any, depth: int = 0, plain: bool = True) -> Any:
    """A random node of what moto converts: DynamoType values of every type, nested, inside
    plain dicts and lists (``plain``: may itself be a dict or a list)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    kinds = ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL"] + (["M", "L"] if depth < 3 else [])
    kinds += ["dict", "list"] if plain and depth < 3 else []
    kind = rng.choice(kinds)
    scalar = {
        "S": lambda: {"S": rng.choice(["", "a", "é ✓"])},
        "N": lambda: {"N": str(rng.randint(-5, 5))},
        "B": lambda: {"B": rng.choice([b"", b"\x00\xff", "AAE="])},
        "SS": lambda: {"SS": ["a", "b"]},
        "NS": lambda: {"NS": ["1", "2.5"]},
        "BS": lambda: {"BS": [b"x", "eQ=="]},
        "BOOL": lambda: {"BOOL": rng.random() < 0.5},
        "NULL": lambda: {"NULL": True},
    }
    if kind in scalar:
        return DynamoType(scalar[kind]())
    if kind == "M":
        return DynamoType({"M": {f"k{i}": _tree(rng, depth + 1, plain=False) for i in range(rng.randint(0, 3))}})
    if kind == "L":
        return DynamoType({"L": [_tree(rng, depth + 1, plain=False) for _ in range(rng.randint(0, 3))]})
    if kind == "dict":
        return {f"d{i}": _tree(rng, depth + 1) for i in range(rng.randint(0, 3))}
    return [_tree(rng, depth + 1), 1, 2.5, None, True, "s"]


def test_fast_to_dict_equals_moto_s_dynamo_to_dict() -> None:
    import datetime as dt
    import random

    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.dynamodb.models.utilities import dynamo_to_dict

    fast = moto_speed.fast_to_dict(dynamo_to_dict)
    rng = random.Random(7)
    for _ in range(500):
        tree = _tree(rng)
        assert fast(tree) == dynamo_to_dict(tree)
    attrs = LimitedSizeDict()
    attrs["a"] = _tree(rng, plain=False)
    odd = {"when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "attrs": attrs, "bytes": b"\x01", "tuple": (1, 2)}
    assert fast(odd) == dynamo_to_dict(odd)
    assert type(fast(odd)["when"]) is dt.datetime


def test_item_size_equals_moto_s() -> None:
    import random

    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    rng = random.Random(11)
    for i in range(300):
        attrs = {f"a{j}": _tree(rng, plain=False).to_json() for j in range(rng.randint(1, 6))}
        attrs["pk"] = {"S": f"p{i}"}
        attrs["sk"] = {"N": str(i)}
        item = Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), attrs)
        assert moto_speed.item_size(item) == item.size()


def test_uninstall_restores_moto(client: Any) -> None:
    from moto.dynamodb import responses
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    def patched() -> tuple[Any, ...]:
        return (Table.query, DynamoResult.execute_result, getattr(responses, "dynamo_to_dict"))  # noqa: B009

    before = patched()
    moto_speed.install()
    moto_speed.install()  # idempotent
    assert all(a is not b for a, b in zip(patched(), before, strict=True))
    moto_speed.uninstall()
    assert patched() == before


def test_a_changed_item_is_measured_again(client: Any) -> None:
    # Given the speed-ups, and a size-limited Query read once (every item's size remembered)
    moto_speed.install()
    call = CALLS["table size-limited pages"]
    first = _pages(client, call, None)
    assert len(first) == 2  # 1.2 MB: moto pages at 1 MB
    # When items of the partition shrink and grow (UpdateItem changes a stored item in place)
    for sk, text in (("00000", "small"), ("00001", "small"), ("00002", "small"), ("00011", "z" * 300_000)):
        client.update_item(
            TableName="t",
            Key={"pk": {"S": "BIG"}, "sk": {"S": sk}},
            UpdateExpression="SET #t = :t",
            ExpressionAttributeNames={"#t": "text"},
            ExpressionAttributeValues={":t": {"S": text}},
        )
    # Then the pages are moto's own for the changed items, not the first ones' page cuts
    got = _pages(client, call, None)
    moto_speed.uninstall()
    assert got == _pages(client, call, None)
    assert [len(p["Items"]) for p in got] != [len(p["Items"]) for p in first]


def _query_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count moto's own Query runs (beneath the speed-ups' answer memory)."""
    from moto.dynamodb.models.table import Table

    calls: list[int] = []
    original = Table.query

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Table, "query", counted)
    return calls


def test_a_repeated_query_gets_the_same_answer_without_running_again(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the speed-ups, and a Query answered once
    moto_speed.install()
    calls = _query_calls(monkeypatch)
    call = CALLS["gsi range + filter (search masters)"]
    first = call(client)
    assert len(calls) == 1
    # When the same request comes again (a search's next page)
    second = call(client)
    # Then moto does not run it again, and the answer is the same but for a new request id
    assert len(calls) == 1
    ids = [a.pop("ResponseMetadata")["RequestId"] for a in (first, second)]
    assert first == second
    assert first["Items"]
    assert ids[0] != ids[1]
    # and a different request is answered by moto
    CALLS["gsi string"](client)
    assert len(calls) == 2


def test_a_write_forgets_the_remembered_answers(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the speed-ups, and a Query answered once
    moto_speed.install()
    calls = _query_calls(monkeypatch)
    call = CALLS["table partition"]
    before = call(client)["Items"]
    # When an item of its partition is written (any call that is not an item read)
    client.put_item(TableName="t", Item={"pk": {"S": "P#1"}, "sk": {"S": "new"}})
    # Then the same Query runs again and finds it
    after = call(client)["Items"]
    assert len(calls) == 2
    assert len(after) == len(before) + 1
    assert {"pk": {"S": "P#1"}, "sk": {"S": "new"}} in after


def test_a_failed_query_is_not_remembered(client: Any) -> None:
    from botocore.exceptions import ClientError

    moto_speed.install()
    for _ in range(2):
        with pytest.raises(ClientError):
            client.query(
                TableName="absent", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "x"}}
            )
    assert not moto_speed._answers
