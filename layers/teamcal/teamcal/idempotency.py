"""``Idempotency-Key`` on every POST: a retried POST returns the first response and creates nothing.

Powertools Idempotency with a DynamoDB persistence layer (the ``IdempotencyTable`` of
template.yaml, ``IDEMPOTENCY_TABLE``). The key is the header's value scoped to the token, the
method and the path, so two clients cannot collide and one key cannot replay another route. The
request body is part of the record: the same key with a different body is refused (409), as is a
retry that arrives while the first request is still running (409, retry later).

Only answers a client would want replayed are kept: 2xx and 4xx other than 409 / 429. A 409, a
throttle or a server error is not stored (the record is released), so the retry runs again.
Records expire after :data:`EXPIRES_AFTER_SECONDS`. A POST without the header is not affected.

What is never made idempotent or stored (abuse resistance):

* Reads that use POST (:data:`READ_ONLY`: ``POST /event/search``): a retry simply reads again.
* Requests without a token (``Auth: NONE`` routes: partner webhooks, which carry their own
  signatures): the key would be shared by every anonymous caller.
* Secrets. Answers that carry one (:data:`SECRET_FIELDS`: the plaintext of ``POST /token``, a
  feed's secret URLs, presigned download URLs, upload forms with their signed policy) are stored
  with those fields set to ``null``; the first caller gets the whole answer, a retry gets the stored one with the header
  :data:`SHOWN_ONCE_HEADER` saying the secret was shown once and how to get a new one (revoke the
  token and create another; create the feed again; ask for a new URL).
* Answers larger than :data:`MAX_STORED_BYTES` (a DynamoDB item holds 400 KB): not stored, the
  retry runs again.

A record that cannot be written (DynamoDB throttled, unavailable) never turns a good answer into
an error: the handler's answer is returned (and logged); before the handler ran, it runs without
the idempotency guarantee.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import aws
from teamcal.errors import ConflictError, InvalidInputError
from teamcal.observability import logger

HEADER = "idempotency-key"
EXPIRES_AFTER_SECONDS = 24 * 3600
_MAX_KEY = 255
#: POST routes (API resources below the base path) that only read.
READ_ONLY = frozenset({"/event/search"})
#: POST routes whose answer carries a secret, and the JSON fields that hold it.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "/token": ("token",),
    "/calendar/{calendarId}/feed": ("url", "webcalUrl"),
    "/calendar/{calendarId}/export": ("url",),
    "/calendar/{calendarId}/import-url": ("url", "fields"),
}
#: Header of a replayed answer whose secret was left out.
SHOWN_ONCE_HEADER = "X-Teamcal-Secret-Shown-Once"
#: Largest answer body kept, in bytes.
MAX_STORED_BYTES = 300_000
_BASE_PATH = "/rest/brizo-calendar/api/1"
_SHOWN_ONCE = (
    "this is a replay: the secret ({fields}) was shown once, in the first answer, and is not kept; "
    "to get a new one revoke and create the token again, create the feed again, or ask for a new URL"
)


class _Uncacheable(Exception):  # noqa: N818 - control flow: tells Powertools not to keep the record
    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("response not kept")
        self.response = response


def idempotency_key(event: Mapping[str, Any]) -> str | None:
    """The ``Idempotency-Key`` of a POST proxy event, or None (other methods, no header, a read
    (:data:`READ_ONLY`), no token: see the module docstring).

    Raises:
        InvalidInputError: the header is empty or longer than 255 characters.
    """
    if event.get("httpMethod") != "POST" or _resource(event) in READ_ONLY:
        return None
    if "tokenId" not in ((event.get("requestContext") or {}).get("authorizer") or {}):
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
    def run(request: dict[str, str], handler: Callable[[], dict[str, Any]], answer: _Answer) -> dict[str, Any]:
        response = handler()
        answer.response = response
        status = int(response.get("statusCode", 500))
        if status >= 500 or status in (409, 429) or len(str(response.get("body") or "")) > MAX_STORED_BYTES:
            raise _Uncacheable(response)
        return _without_secrets(response, answer.secret_fields)

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
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    scope = f"{ctx.get('tokenId', '-')}|{event.get('httpMethod')}|{event.get('path')}|{key}"
    body = str(event.get("body") or "")
    request = {"key": scope, "body": hashlib.sha256(body.encode("utf-8")).hexdigest()}
    run, config = _once(table)
    config.register_lambda_context(context)
    answer = _Answer(SECRET_FIELDS.get(_resource(event), ()))
    try:
        stored = run(request=request, handler=handler, answer=answer)
    except _Uncacheable as e:
        return e.response
    except IdempotencyValidationError as e:
        raise ConflictError("this Idempotency-Key was already used with a different request body") from e
    except IdempotencyAlreadyInProgressError as e:
        raise ConflictError("a request with this Idempotency-Key is still in progress; retry later") from e
    except IdempotencyPersistenceLayerError as e:
        # the record could not be read or written: never the client's problem
        logger.warning("idempotency record not stored", extra={"reason": type(e.__cause__ or e).__name__})
        return answer.response if answer.response is not None else handler()
    return answer.response if answer.response is not None else stored


class _Answer:
    """What the handler answered in this invocation (the stored record may lack its secrets)."""

    def __init__(self, secret_fields: tuple[str, ...]) -> None:
        self.secret_fields = secret_fields
        self.response: dict[str, Any] | None = None


def _resource(event: Mapping[str, Any]) -> str:
    return str(event.get("resource") or "").removeprefix(_BASE_PATH) or "/"


def _without_secrets(response: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The proxy ``response`` as it may be stored: ``fields`` of its JSON body set to null and the
    :data:`SHOWN_ONCE_HEADER` added (unchanged when there is no such field)."""
    if not fields:
        return response
    try:
        body = json.loads(str(response.get("body") or ""))
    except ValueError:
        body = None
    if not isinstance(body, dict) or not any(body.get(f) is not None for f in fields):
        return response
    headers = dict(response.get("headers") or {})
    headers[SHOWN_ONCE_HEADER] = _SHOWN_ONCE.format(fields=", ".join(fields))
    redacted = {**body, **dict.fromkeys(fields)}
    return {**response, "headers": headers, "body": json.dumps(redacted, separators=(",", ":"))}
