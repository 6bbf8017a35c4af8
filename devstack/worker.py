"""The inside of one emulated Lambda execution environment (runs in a worker process).

A worker process is started with the ``spawn`` method, so it begins with a fresh interpreter; its
initializer :func:`init` replaces the environment with exactly the function's own (template
Globals + the function's variables + the AWS basics the stack adds), then imports the handler's
module once, as Lambda's init phase does. :func:`run` is one invocation.

This module imports the standard library and :mod:`devstack.boto_speed` only (never moto, never
boto3; boto_speed registers its botocore handler when the function itself imports botocore), so a
function's cold start here costs what it costs on Lambda.

Payloads cross the process boundary as JSON text, as they do on Lambda: an event or a result that
does not survive ``json.dumps`` fails here exactly as it would there.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devstack import boto_speed

#: Variables of the developer's shell a process needs to run at all; everything else is dropped.
PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")

_handler: Callable[[Any, Any], Any] | None = None
_init_error: dict[str, Any] | None = None
_identity: dict[str, Any] = {}


@dataclass
class LambdaContext:
    """The context object handed to ``lambda_handler`` (the fields Powertools reads).

    ``deadline_ms`` is epoch ms (UTC) at which the invocation times out.
    """

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline_ms: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "devstack"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout."""
        return max(0, self.deadline_ms - int(time.time() * 1000))


def error_payload(error: BaseException) -> dict[str, Any]:
    """Lambda's error shape: ``{"errorType", "errorMessage", "stackTrace"}``."""
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def init(module: str, handler: str, environment: Mapping[str, str], identity: Mapping[str, Any]) -> None:
    """Worker initializer: set the environment, then import ``module`` (Lambda's init phase).

    ``identity`` holds ``function_name``, ``memory_limit_in_mb``, ``invoked_function_arn`` and
    ``timeout_seconds`` for the context object. An import error is kept and reported by every
    :func:`run`, as Lambda reports ``Runtime.ImportModuleError`` (raising here would break the
    whole pool instead).
    """
    global _handler, _init_error
    # Ctrl-C reaches the whole process group; the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    kept = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ}
    os.environ.clear()
    os.environ.update({**kept, **environment})
    if hasattr(time, "tzset"):
        time.tzset()
    _identity.update(identity)
    boto_speed.install()  # same parsed answers, a fraction of botocore's time on large item reads
    try:
        _handler = getattr(importlib.import_module(module), handler)
    except Exception as e:  # noqa: BLE001 - the runtime boundary: any init failure is reported
        _init_error = {**error_payload(e), "errorType": "Runtime.ImportModuleError"}


def run(event_json: str) -> tuple[bool, str]:
    """One invocation: ``(True, result JSON)`` or ``(False, Lambda error payload JSON)``.

    Any exception the handler raises is caught and returned as Lambda's error payload, as the
    Lambda runtime does; the caller (the gateway, a driver) decides what it means.
    """
    if _init_error is not None or _handler is None:
        return False, json.dumps(_init_error or {"errorType": "Runtime.NoHandler", "errorMessage": ""})
    context = LambdaContext(
        function_name=str(_identity["function_name"]),
        memory_limit_in_mb=int(_identity["memory_limit_in_mb"]),
        invoked_function_arn=str(_identity["invoked_function_arn"]),
        deadline_ms=int(time.time() * 1000) + int(_identity["timeout_seconds"]) * 1000,
    )
    try:
        result = _handler(json.loads(event_json), context)
    except Exception as e:  # noqa: BLE001 - the runtime boundary, as Lambda's own runtime does
        return False, json.dumps(error_payload(e))
    try:
        return True, json.dumps(result)
    except (TypeError, ValueError) as e:
        return False, json.dumps({**error_payload(e), "errorType": "Runtime.MarshalError"})
