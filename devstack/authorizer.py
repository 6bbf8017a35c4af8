"""API Gateway's Lambda TOKEN authorizer: call, policy evaluation, result cache.

What API Gateway does, and so what this does:

* identity header missing or empty (or not matching ``ValidationExpression``) → 401
  ``UNAUTHORIZED`` without calling the function;
* the function raises an error whose message is exactly ``Unauthorized`` → 401 ``UNAUTHORIZED``;
* any other error or a timeout → 500 ``AUTHORIZER_FAILURE``; an output that is not a valid
  policy (no ``principalId``, no ``policyDocument``, a context value that is an object, an array
  or null) → 500 ``AUTHORIZER_CONFIGURATION_ERROR``;
* a policy with an explicit Deny for the method ARN, or without an Allow covering it → 403
  ``ACCESS_DENIED``;
* the returned policy and context are cached per identity-header value for ``ReauthorizeEvery``
  seconds (0: no cache), and a cached policy is evaluated again against each request's method ARN
  (a policy that only allows the first route denies the others while cached);
* context values reach the function as strings: booleans ``"true"`` / ``"false"``, numbers in
  their JSON spelling.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devstack.drivers import FunctionError, FunctionTimeout, Invoke
from devstack.routing import ApiSpec, TokenAuthorizerSpec
from devstack.template import ACCOUNT, REGION


class AuthorizerOutputError(ValueError):
    """The authorizer returned something API Gateway rejects (``AUTHORIZER_CONFIGURATION_ERROR``)."""


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement: ``effect`` ``Allow``/``Deny``, action and resource patterns."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizerResult:
    """A validated authorizer output; ``context`` already stringified."""

    principal_id: str
    statements: tuple[Statement, ...]
    context: dict[str, str]


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: ``refusal`` is a gateway response type, or ``None`` when
    allowed, in which case ``authorizer`` is the event's ``requestContext.authorizer``.
    ``message`` is ``$context.error.message``; ``detail`` is for the stack's log only."""

    refusal: str | None = None
    message: str | None = None
    authorizer: dict[str, Any] | None = None
    detail: str = ""


def method_arn(api: ApiSpec, method: str, path: str) -> str:
    """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path without leading /}``."""
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api.api_id}/{api.stage}/{method.upper()}/{path.lstrip('/')}"


def stringify(value: Any) -> str:
    """One context value as API Gateway passes it on: ``True`` → ``"true"``, ``3`` → ``"3"``.

    Raises:
        AuthorizerOutputError: an object, an array or null (API Gateway allows string, number,
            boolean only).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(int(value) if isinstance(value, float) and value.is_integer() else value)
    raise AuthorizerOutputError(f"context values must be strings, numbers or booleans, got {value!r}")


def stringify_context(context: Mapping[str, Any] | None) -> dict[str, str]:
    """The authorizer's ``context`` with every value stringified (see :func:`stringify`)."""
    return {str(k): stringify(v) for k, v in (context or {}).items()}


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        raise AuthorizerOutputError(f"policy statement {what} must be a string or a list of strings")
    return tuple(items)


def parse_output(output: Any) -> AuthorizerResult:
    """Validate a TOKEN authorizer's output (``principalId``, ``policyDocument``, ``context``).

    Raises:
        AuthorizerOutputError: the output is not what API Gateway accepts.
    """
    if not isinstance(output, Mapping) or not output.get("principalId"):
        raise AuthorizerOutputError("the authorizer output needs a principalId")
    document = output.get("policyDocument")
    raw = document.get("Statement") if isinstance(document, Mapping) else None
    raw_list = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else None
    if not raw_list:
        raise AuthorizerOutputError("the authorizer output needs a policyDocument with a Statement")
    statements = []
    for st in raw_list:
        if not isinstance(st, Mapping) or st.get("Effect") not in ("Allow", "Deny"):
            raise AuthorizerOutputError("each policy statement needs Effect Allow or Deny")
        statements.append(
            Statement(st["Effect"], _strings(st.get("Action"), "Action"), _strings(st.get("Resource"), "Resource"))
        )
    context = output.get("context")
    if context is not None and not isinstance(context, Mapping):
        raise AuthorizerOutputError("the authorizer context must be an object")
    return AuthorizerResult(str(output["principalId"]), tuple(statements), stringify_context(context))


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _covers(statement: Statement, arn: str) -> bool:
    return any(_wildcard(a, "execute-api:Invoke", ignore_case=True) for a in statement.actions) and any(
        _wildcard(r, arn) for r in statement.resources
    )


def evaluate(statements: tuple[Statement, ...], arn: str) -> str | None:
    """``None`` if the policy allows ``execute-api:Invoke`` on ``arn``, else the denial message.

    An explicit Deny wins over any Allow (IAM evaluation logic).
    """
    covering = [s for s in statements if _covers(s, arn)]
    if any(s.effect == "Deny" for s in covering):
        return "User is not authorized to access this resource with an explicit deny"
    if not any(s.effect == "Allow" for s in covering):
        return "User is not authorized to access this resource"
    return None


class AuthorizerCache:
    """Authorizer results per identity value for ``ttl_seconds`` on ``clock`` (seconds)."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, AuthorizerResult]] = {}
        self._lock = threading.Lock()

    def get(self, identity: str) -> AuthorizerResult | None:
        """The cached result, or ``None`` if absent or expired (an entry lives ``ttl`` seconds)."""
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[identity]
                return None
            return entry[1]

    def clear(self) -> None:
        """Forget every result (API Gateway's ``FlushStageAuthorizersCache``)."""
        with self._lock:
            self._entries = {}

    def put(self, identity: str, result: AuthorizerResult) -> None:
        """Remember ``result`` until now + ttl; with ttl 0 nothing is kept."""
        if self.ttl_seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[identity] = (now + self.ttl_seconds, result)


class TokenAuthorizer:
    """One TOKEN authorizer of the API, calling its function through ``invoke``."""

    def __init__(self, spec: TokenAuthorizerSpec, invoke: Invoke, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self._invoke = invoke
        self._clock = clock
        self.cache = AuthorizerCache(spec.ttl_seconds, clock)

    def authorize(self, identity: str | None, arn: str) -> Decision:
        """Decide on one request whose identity header value is ``identity`` (see module doc)."""
        if not identity or (
            self.spec.validation_expression is not None
            and re.fullmatch(self.spec.validation_expression, identity) is None
        ):
            return Decision(refusal="UNAUTHORIZED")
        latency_ms = 0
        result = self.cache.get(identity)
        if result is None:
            started = self._clock()
            event = {"type": "TOKEN", "authorizationToken": identity, "methodArn": arn}
            try:
                output = self._invoke(self.spec.function, event)
            except FunctionError as e:
                if e.error_message == "Unauthorized":
                    return Decision(refusal="UNAUTHORIZED")
                return Decision(refusal="AUTHORIZER_FAILURE", detail=str(e))
            except FunctionTimeout as e:
                return Decision(refusal="AUTHORIZER_FAILURE", detail=str(e))
            try:
                result = parse_output(output)
            except AuthorizerOutputError as e:
                return Decision(refusal="AUTHORIZER_CONFIGURATION_ERROR", detail=str(e))
            latency_ms = int((self._clock() - started) * 1000)
            self.cache.put(identity, result)
        denied = evaluate(result.statements, arn)
        if denied is not None:
            return Decision(refusal="ACCESS_DENIED", message=denied)
        return Decision(
            authorizer={"principalId": result.principal_id, **result.context, "integrationLatency": latency_ms}
        )
