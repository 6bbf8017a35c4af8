"""Echo handler: returns what a function sees (its environment, event and context), or fails on
request. Used by tests/integration/test_devstack_lambdas.py through the local stack's workers."""

from __future__ import annotations

import os
import sys
from typing import Any

#: Read at import, as teamcal functions read their settings at cold start.
COLD_START_GREETING = os.environ.get("GREETING")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if event.get("raise"):
        raise RuntimeError(event["raise"])
    if event.get("unserializable"):
        return {"value": {1, 2}}
    return {
        "environment": dict(os.environ),
        "greeting_at_import": COLD_START_GREETING,
        "event": event,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "heavy_modules": sorted(m for m in ("moto", "yaml", "devstack.template", "devstack.stack") if m in sys.modules),
    }
