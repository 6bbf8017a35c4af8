"""Small helpers shared by the DynamoDB repositories.

They use the low-level client (cheaper to create than a resource at cold start) with boto3's own
``TypeSerializer`` / ``TypeDeserializer``, and turn ``ClientError`` codes into domain errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from teamcal.errors import ConflictError, InvalidInputError, PayloadTooLargeError, RetryableError

_SER = TypeSerializer()
_DESER = TypeDeserializer()

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def _dynamo_safe(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _dynamo_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_dynamo_safe(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict → DynamoDB attribute values; ``None`` attributes are dropped."""
    return {k: _SER.serialize(_dynamo_safe(v)) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → a plain dict (integral numbers become ``int``, other numbers
    ``float``, sets lists): ``TypeDeserializer`` followed by the ``Decimal`` → ``int``/``float``
    step, with the common forms (strings, integers, booleans, nulls, maps, lists) read directly
    (the same result at a fraction of the cost on a search's thousands of items)."""
    return {k: _attribute(v) for k, v in item.items()}


def _attribute(av: Any) -> Any:
    if type(av) is dict and av:
        tag, raw = next(iter(av.items()))  # TypeDeserializer reads the first key
        kind = type(raw)
        if tag == "S" and kind is str:
            return raw
        if tag == "N" and kind is str and _is_small_integer(raw):
            return int(raw)  # what Decimal(raw) → int gives, for at most 38 ASCII digits
        if tag == "M" and kind is dict:
            return {k: _attribute(v) for k, v in raw.items()}
        if tag == "L" and kind is list:
            return [_attribute(v) for v in raw]
        if (tag == "BOOL" and kind is bool) or tag == "NULL":
            return None if tag == "NULL" else raw
    return _plain(_DESER.deserialize(av))


def _is_small_integer(text: str) -> bool:
    digits = text[1:] if text[:1] == "-" else text
    return 0 < len(digits) <= 38 and digits.isascii() and digits.isdigit()


def plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item already deserialized with ``Decimal`` numbers (Powertools' ``StreamRecord``
    images, boto3's resource layer) → the plain dict :func:`deserialize` gives: integral
    numbers ``int``, others ``float``, sets lists."""
    return {k: _plain(v) for k, v in item.items()}


def value(v: Any) -> dict[str, Any]:
    """One plain value as a DynamoDB attribute value (for keys and expression values)."""
    return dict(_SER.serialize(_dynamo_safe(v)))


def translate(e: ClientError, conflict_message: str = "the item was changed by another request") -> Exception:
    """Map a ``ClientError`` to a domain error: conditional failures → ConflictError, throttling →
    RetryableError, an item over DynamoDB's 400 KB → PayloadTooLargeError (413), any other
    ``ValidationException`` → InvalidInputError (400, without DynamoDB's text: it names our
    attributes); anything else is returned unchanged for the caller to re-raise."""
    error = e.response.get("Error", {})
    code = error.get("Code", "")
    messages = [str(error.get("Message", ""))]
    if code == "TransactionCanceledException":
        reasons = e.response.get("CancellationReasons") or []
        if any(r.get("Code") == "ValidationError" for r in reasons):
            code = "ValidationException"
            messages = [str(r.get("Message", "")) for r in reasons]
    if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
        return ConflictError(conflict_message)
    if code in _RETRYABLE:
        return RetryableError("the data store is busy; retry the request")
    if code == "ValidationException":
        if any("size" in m.lower() for m in messages):
            return PayloadTooLargeError("the item would be larger than the data store allows (400 KB): shorten it")
        return InvalidInputError("the data store refused the request as invalid")
    return e


def query_all(client: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Run a Query to the end, following ``LastEvaluatedKey``; yields deserialized items."""
    while True:
        try:
            page = client.query(**kwargs)
        except ClientError as e:
            raise translate(e) from e
        for item in page.get("Items", []):
            yield deserialize(item)
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def batch_write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem of at most 25 ``PutRequest`` / ``DeleteRequest`` entries on ``table``,
    retrying unprocessed items with exponential backoff (50 ms doubling to 2 s, 8 tries).

    Raises:
        RetryableError: DynamoDB kept refusing some items (throttling); nothing tells which were
            written, so callers make their batch writes idempotent.
    """
    delay = 0.05
    for _ in range(8):
        try:
            out = client.batch_write_item(RequestItems={table: requests})
        except ClientError as e:
            raise translate(e) from e
        requests = out.get("UnprocessedItems", {}).get(table, [])
        if not requests:
            return
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    raise RetryableError("the data store kept refusing writes; retry the request")
