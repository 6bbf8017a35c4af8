"""The function workers' cheaper DynamoDB parsing gives exactly botocore's own parse
(devstack.boto_speed)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.handlers
import botocore.parsers
import botocore.session
import pytest
from moto import mock_aws

from devstack import boto_speed
from devstack.template import ROOT


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _wire_item(i: int) -> dict[str, Any]:
    """One item as DynamoDB's JSON carries it: every attribute value type, nested."""
    return {
        "pk": {"S": f"P#{i}"},
        "sk": {"S": 'é ✓ "quoted" \\ "B": x'},
        "num": {"N": f"{i}.50"},
        "strs": {"SS": ["a", f"s{i}"]},
        "nums": {"NS": ["1", str(i)]},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "nested": {"M": {"l": {"L": [{"S": "x"}, {"N": "-3"}, {"M": {"k": {"BOOL": False}}}]}, "e": {"M": {}}}},
        "empty": {"L": []},
    }


def _with_binary(i: int) -> dict[str, Any]:
    return {
        **_wire_item(i),
        "bin": {"B": _b64(bytes([i % 256, 255, 0]))},
        "bins": {"BS": [_b64(b"x"), _b64(bytes([i % 256]))]},
        "deep": {"M": {"l": {"L": [{"B": _b64(b"\x00")}, {"M": {"k": {"BS": [_b64(b"\x01")]}}}]}}},
    }


def _parse(operation: str, body: bytes, fast: bool, status: int = 200) -> Any:
    model = botocore.session.get_session().get_service_model("dynamodb").operation_model(operation)
    response = {"status_code": status, "headers": {"x-amzn-requestid": "req"}, "body": body}
    custom: dict[str, Any] = {}
    if fast:
        boto_speed.before_parse(operation_model=model, response_dict=response, customized_response_dict=custom)
    parsed = botocore.parsers.create_parser("json").parse(response, model.output_shape)
    parsed.update(custom)
    return parsed


def _query(items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"Count": len(items), "ScannedCount": len(items) + 1, "Items": items, **extra}


BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "query plain": ("Query", _query([_wire_item(i) for i in range(5)])),
    "query binary + paged": (
        "Query",
        _query(
            [_with_binary(i) for i in range(5)],
            LastEvaluatedKey={"pk": {"S": "P#4"}, "bk": {"B": _b64(b"\x02")}},
            ConsumedCapacity={"TableName": "t", "CapacityUnits": 1.5},
        ),
    ),
    "query empty": ("Query", _query([])),
    "query count only": ("Query", {"Count": 3, "ScannedCount": 3}),
    "query null in a string": ("Query", _query([{"pk": {"S": "null"}, "b": {"B": _b64(b"\x01")}}])),
    "query attribute named B": ("Query", _query([{"B": {"S": "not binary"}, "BS": {"N": "1"}}])),
    "scan": ("Scan", _query([_with_binary(i) for i in range(3)])),
    "get": ("GetItem", {"Item": _with_binary(1)}),
    "get plain": ("GetItem", {"Item": _wire_item(2)}),
    "get absent": ("GetItem", {}),
    "batch get": (
        "BatchGetItem",
        {
            "Responses": {"t": [_with_binary(i) for i in range(3)], "u": [_wire_item(9)]},
            "UnprocessedKeys": {"t": {"Keys": [{"pk": {"S": "P#7"}, "bk": {"B": _b64(b"\x03")}}]}},
        },
    ),
}


@pytest.mark.parametrize("spaced", [False, True])
@pytest.mark.parametrize("name", sorted(BODIES))
def test_parse_equals_botocore_s(name: str, spaced: bool) -> None:
    # Given a DynamoDB answer, compact (moto's) or with white space around the colons
    operation, body = BODIES[name]
    raw = json.dumps(body, separators=(", ", " \n: ") if spaced else (",", ":")).encode("utf-8")
    # When botocore parses it with and without the handler
    expected = _parse(operation, raw, fast=False)
    got = _parse(operation, raw, fast=True)
    # Then both parses are equal (bytes for B/BS at any depth, strings for N, metadata included)
    assert got == expected
    if "binary" in name or name in ("scan", "get", "batch get"):
        assert "BYTES" in json.dumps(got, default=lambda b: "BYTES")  # binary values became bytes


@pytest.mark.parametrize(
    "value",
    [
        {"S": None},  # a null member: botocore leaves it out
        {"NULL": True, "S": None},
        {"X": "unknown"},  # unknown type: botocore drops it
        {},
        {"M": {"n": {"S": None}}},
    ],
)
def test_odd_attribute_values_are_left_to_botocore(value: dict[str, Any]) -> None:
    body = json.dumps(_query([{"pk": {"S": "p"}, "odd": value}, {"bin": {"B": _b64(b"\x01")}}])).encode()
    assert _parse("Query", body, fast=True) == _parse("Query", body, fast=False)


def test_errors_and_other_operations_are_untouched() -> None:
    model = botocore.session.get_session().get_service_model("dynamodb")
    error = {"status_code": 400, "headers": {}, "body": b'{"__type":"x#ValidationException","message":"m"}'}
    put = {"status_code": 200, "headers": {}, "body": b'{"Attributes":{"b":{"B":"AA=="}}}'}
    for op, response in (("Query", error), ("PutItem", put)):
        before = dict(response)
        custom: dict[str, Any] = {}
        boto_speed.before_parse(
            operation_model=model.operation_model(op), response_dict=response, customized_response_dict=custom
        )
        assert response == before
        assert custom == {}


@pytest.fixture
def tables() -> Iterator[tuple[Any, Any]]:
    """(a client created before install, one created after) on one moto table with every type."""
    with mock_aws():
        plain = boto3.session.Session().client("dynamodb", region_name="us-east-1")
        boto_speed.install()
        try:
            fast = boto3.session.Session().client("dynamodb", region_name="us-east-1")
            plain.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            for i in range(30):
                item = _with_binary(i) if i % 3 == 0 else _wire_item(i)
                item = json.loads(json.dumps(item))
                for name in ("bin", "bins", "deep"):
                    item.pop(name, None)
                if i % 3 == 0:
                    item["bin"] = {"B": bytes([i, 0])}
                    item["deep"] = {"M": {"l": {"L": [{"B": b"\x00\xff"}, {"BS": [b"a", b"b"]}]}}}
                item["pk"] = {"S": f"P#{i % 2}"}
                item["sk"] = {"S": f"{i:03d}"}
                plain.put_item(TableName="t", Item=item)
            yield plain, fast
        finally:
            boto_speed.uninstall()


def test_clients_parse_moto_s_answers_alike(tables: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    plain, fast = tables
    calls: list[str] = []
    real = boto_speed.parse_items
    monkeypatch.setattr(boto_speed, "parse_items", lambda op, raw: calls.append(op) or real(op, raw))

    def reads(client: Any) -> list[Any]:
        out = []
        start: dict[str, Any] = {}
        for _ in range(20):  # every page of a paged Query
            page = client.query(
                TableName="t",
                KeyConditionExpression="pk = :p AND sk < :e",
                ExpressionAttributeValues={":p": {"S": "P#0"}, ":e": {"S": "025"}},
                Limit=4,
                **start,
            )
            out.append(page)
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        out.append(client.scan(TableName="t", FilterExpression="attribute_exists(bin)"))
        out.append(client.get_item(TableName="t", Key={"pk": {"S": "P#0"}, "sk": {"S": "000"}}))
        keys = [{"pk": {"S": f"P#{i % 2}"}, "sk": {"S": f"{i:03d}"}} for i in range(10)]
        out.append(client.batch_get_item(RequestItems={"t": {"Keys": keys}}))
        for page in out:
            page.pop("ResponseMetadata")
        return out

    expected = reads(plain)
    assert calls == []  # the client made before install does not use the handler
    got = reads(fast)
    assert got == expected
    assert {"Query", "Scan", "GetItem", "BatchGetItem"} <= set(calls)


def test_install_registers_when_botocore_is_imported_later() -> None:
    # A worker installs before its function imports botocore; installing must not import it
    code = (
        "import sys\n"
        "from devstack import boto_speed\n"
        "boto_speed.install()\n"
        "assert 'botocore' not in sys.modules\n"
        "import boto3, botocore.handlers\n"
        "print(sum(h[1] is boto_speed.before_parse for h in botocore.handlers.BUILTIN_HANDLERS))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(len(boto_speed.ITEM_MEMBERS))


def test_install_is_idempotent_and_uninstall_removes_it() -> None:
    boto_speed.install()
    boto_speed.install()
    try:
        mine = [h for h in botocore.handlers.BUILTIN_HANDLERS if h[1] is boto_speed.before_parse]
        assert len(mine) == len(boto_speed.ITEM_MEMBERS)
    finally:
        boto_speed.uninstall()
    assert not [h for h in botocore.handlers.BUILTIN_HANDLERS if h[1] is boto_speed.before_parse]
