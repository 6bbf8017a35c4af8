"""Process-wide Powertools Logger, Metrics and Tracer.

The service name and metrics namespace come from ``POWERTOOLS_SERVICE_NAME`` and
``POWERTOOLS_METRICS_NAMESPACE`` (template.yaml Globals, overridden per function).

Tracing: on Lambda with active tracing, Powertools' Tracer drives the X-Ray SDK. Where tracing is
off (``POWERTOOLS_TRACE_DISABLED=true``, outside Lambda, tests, the local stack), the Tracer gets a
no-op provider: Powertools would otherwise import and initialise the X-Ray SDK anyway (about
140 ms, most of a function's import time) only to disable it.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class _NoTracing(BaseProvider):
    """A tracing provider that records nothing (used only while tracing is disabled)."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError("teamcal has no async handlers")

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


logger = Logger()
metrics = Metrics()
# Powertools' own rule for "tracing is off" (env var, not on Lambda, SAM local).
tracer = Tracer(provider=_NoTracing()) if Tracer._is_tracer_disabled() else Tracer()
