"""Helpers for the versioned configuration items: calendars, sources, custom event types.

Every attribute name goes through ``ExpressionAttributeNames``: many of ours (``user``, ``value``,
``order``, ``status``, ``version``, ``name``) are DynamoDB reserved words.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError
from teamcal.storage.dynamo import deserialize, translate, value

_BATCH_GET_MAX = 100


def versioned_update(
    changes: Mapping[str, Any], expected_version: int, now_ms: int, *, extra_condition: str = ""
) -> dict[str, Any]:
    """UpdateItem arguments that SET ``changes`` (``None`` values are REMOVEd), bump ``version``
    and stamp ``updated``, on condition that the stored ``version`` is ``expected_version``.

    ``extra_condition`` is ANDed to the condition; it may use ``#status`` and ``:active``.
    """
    names: dict[str, str] = {"#version": "version", "#updated": "updated"}
    values: dict[str, Any] = {
        ":expected": value(expected_version),
        ":next": value(expected_version + 1),
        ":now": value(now_ms),
    }
    sets = ["#version = :next", "#updated = :now"]
    removes: list[str] = []
    for i, (name, new) in enumerate(changes.items()):
        names[f"#a{i}"] = name
        if new is None:
            removes.append(f"#a{i}")
        else:
            values[f":a{i}"] = value(new)
            sets.append(f"#a{i} = :a{i}")
    condition = "#version = :expected"
    if extra_condition:
        condition += f" AND {extra_condition}"
        names["#status"] = "status"
        values[":active"] = value("ACTIVE")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def cancellation_codes(e: ClientError) -> Sequence[str]:
    """The per-action codes of a cancelled TransactWriteItems (``"None"`` for actions that passed)."""
    return [str(r.get("Code") or "None") for r in e.response.get("CancellationReasons") or []]


def error_code(e: ClientError) -> str:
    """The DynamoDB error code of ``e`` (``ConditionalCheckFailedException``, …)."""
    return str(e.response.get("Error", {}).get("Code", ""))


def batch_get(client: Any, table: str, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Strongly consistent BatchGetItem of ``(pk, sk)`` keys, 100 a call, retrying unprocessed
    keys with backoff; returns the deserialized items found, in no particular order.

    Raises:
        RetryableError: DynamoDB kept returning unprocessed keys (throttling).
    """
    found: list[dict[str, Any]] = []
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _BATCH_GET_MAX):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"pk": value(pk), "sk": value(sk)} for pk, sk in unique[start : start + _BATCH_GET_MAX]],
                "ConsistentRead": True,
            }
        }
        delay = 0.05
        for _ in range(8):
            try:
                out = client.batch_get_item(RequestItems=request)
            except ClientError as e:
                raise translate(e) from e
            found.extend(deserialize(i) for i in out.get("Responses", {}).get(table, []))
            request = out.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        else:
            raise RetryableError("the data store is busy; retry the request")
    return found
