"""``Idempotency-Key`` on every POST: a retried POST returns the first response and creates nothing.

Powertools Idempotency with a DynamoDB persistence layer (the ``IdempotencyTable`` of
template.yaml, ``IDEMPOTENCY_TABLE``). The key is the header's value scoped to the token, the
method and the path, so two clients cannot collide and one key cannot replay another route. The
request body is part of the record: the same key with a different body is refused (409), as is a
retry that arrives while the first request is still running (409, retry later).

Only answers a client would want replayed are kept: 2xx and 4xx other than 409 / 429. A 409, a
throttle or a server error is not stored (the record is released), so the retry runs again.
Records expire after :data:`EXPIRES_AFTER_SECONDS`. A POST without the header is not affected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import aws
from teamcal.errors import ConflictError, InvalidInputError

HEADER = "idempotency-key"
EXPIRES_AFTER_SECONDS = 24 * 3600
_MAX_KEY = 255


class _Uncacheable(Exception):  # noqa: N818 - control flow: tells Powertools not to keep the record
    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("response not kept")
        self.response = response


def idempotency_key(event: Mapping[str, Any]) -> str | None:
    """The ``Idempotency-Key`` of a POST proxy event, or None (other methods, or no header).

    Raises:
        InvalidInputError: the header is empty or longer than 255 characters.
    """
    if event.get("httpMethod") != "POST":
        return None
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    value = headers.get(HEADER)
    if value is None:
        return None
    value = str(value).strip()
    if not value or len(value) > _MAX_KEY:
        raise InvalidInputError.for_field("Idempotency-Key", f"must be 1 to {_MAX_KEY} characters")
    return value


@lru_cache(maxsize=1)
def _once(table: str) -> tuple[Callable[..., dict[str, Any]], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.client("dynamodb"))
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
    )

    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence)
    def run(request: dict[str, str], handler: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        response = handler()
        status = int(response.get("statusCode", 500))
        if status >= 500 or status in (409, 429):
            raise _Uncacheable(response)
        return response

    return run, config


def run_once(
    table: str, key: str, event: Mapping[str, Any], context: LambdaContext, handler: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``handler`` (which resolves the proxy ``event``) at most once per key; see the module
    docstring. Returns the proxy response, the stored one on a replay.

    Raises:
        ConflictError: the key was used with another body, or its first request is still running.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    scope = f"{ctx.get('tokenId', '-')}|{event.get('httpMethod')}|{event.get('path')}|{key}"
    body = str(event.get("body") or "")
    request = {"key": scope, "body": hashlib.sha256(body.encode("utf-8")).hexdigest()}
    run, config = _once(table)
    config.register_lambda_context(context)
    try:
        return run(request=request, handler=handler)
    except _Uncacheable as e:
        return e.response
    except IdempotencyValidationError as e:
        raise ConflictError("this Idempotency-Key was already used with a different request body") from e
    except IdempotencyAlreadyInProgressError as e:
        raise ConflictError("a request with this Idempotency-Key is still in progress; retry later") from e
