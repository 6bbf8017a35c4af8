"""Run the template's functions in worker processes and invoke them by logical id.

Each ``AWS::Serverless::Function`` gets its own small pool of ``spawn``-ed worker processes
(:mod:`devstack.worker`), because each function has its own environment and reads its settings
when its module is imported. A pool grows on demand up to its size, so a function pays its cold
start on its first invocation, as on Lambda. :meth:`Lambdas.invoke` is the one entry point every
event source (the API gateway, later S3, schedules, queues, streams) uses.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Any

from devstack import worker
from devstack.drivers import FunctionError, FunctionTimeout
from devstack.template import REGION, Template

#: What every function gets besides its template environment (the endpoint is added per stack).
AWS_BASICS = {
    "AWS_ACCESS_KEY_ID": "devstack",
    "AWS_SECRET_ACCESS_KEY": "devstack",
    "AWS_SESSION_TOKEN": "devstack",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TZ": "UTC",
}


@dataclass(frozen=True)
class FunctionSpec:
    """What is needed to run one function: module, handler, environment, limits (seconds, MB)."""

    logical_id: str
    module: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    name: str
    arn: str

    @classmethod
    def from_template(cls, tpl: Template, logical_id: str, extra_env: Mapping[str, str]) -> FunctionSpec:
        """Read a function's module, handler, limits and environment (template's + ``extra_env``)."""
        props = tpl.resources[logical_id].get("Properties") or {}
        glob = tpl.data.get("Globals", {}).get("Function", {})
        handler = str(props.get("Handler") or glob.get("Handler") or "app.lambda_handler")
        name = tpl.physical_name(logical_id)
        spec = cls(
            logical_id=logical_id,
            module=tpl.function_module(logical_id),
            handler=handler.rsplit(".", 1)[1],
            environment={},
            timeout_seconds=int(tpl.resolve(props.get("Timeout", glob.get("Timeout", 3)))),
            memory_mb=int(tpl.resolve(props.get("MemorySize", glob.get("MemorySize", 128)))),
            name=name,
            arn=tpl.arn(logical_id),
        )
        env = {
            **tpl.function_environment(logical_id),
            **extra_env,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "_HANDLER": handler,
        }
        return replace(spec, environment=env)


class Lambdas:
    """The template's functions, each behind a pool of at most ``workers`` processes.

    ``extra_env`` is added to every function's environment (the stack passes
    ``AWS_ENDPOINT_URL`` and :data:`AWS_BASICS`).
    """

    def __init__(self, tpl: Template, extra_env: Mapping[str, str], workers: int = 2) -> None:
        self.specs = {
            logical_id: FunctionSpec.from_template(tpl, logical_id, extra_env)
            for logical_id, _ in tpl.of_type("AWS::Serverless::Function")
        }
        self._workers = workers
        self._pools: dict[str, ProcessPoolExecutor] = {}
        self._lock = threading.Lock()

    def _pool(self, spec: FunctionSpec) -> ProcessPoolExecutor:
        with self._lock:
            return self._pools.get(spec.logical_id) or self._new_pool(spec)

    def _new_pool(self, spec: FunctionSpec) -> ProcessPoolExecutor:
        identity = {
            "function_name": spec.name,
            "memory_limit_in_mb": spec.memory_mb,
            "invoked_function_arn": spec.arn,
            "timeout_seconds": spec.timeout_seconds,
        }
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init,
            initargs=(spec.module, spec.handler, spec.environment, identity),
        )
        self._pools[spec.logical_id] = pool
        return pool

    def invoke(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        """Invoke a function synchronously (``RequestResponse``) and return its JSON result.

        ``timeout`` (seconds) defaults to the function's template ``Timeout``.

        Raises:
            KeyError: the template has no function ``logical_id``.
            FunctionError: the handler raised, or its module failed to import.
            FunctionTimeout: no answer within the timeout (the worker is left to finish).
        """
        spec = self.specs[logical_id]
        future = self._pool(spec).submit(worker.run, json.dumps(event))
        try:
            ok, payload = future.result(timeout=timeout if timeout is not None else spec.timeout_seconds)
        except FutureTimeout as e:
            raise FunctionTimeout(f"{logical_id} timed out") from e
        if not ok:
            raise FunctionError(logical_id, json.loads(payload))
        return json.loads(payload)

    def close(self) -> None:
        """Stop every worker process (pending invocations are cancelled)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
