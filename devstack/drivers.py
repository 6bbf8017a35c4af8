"""The contract between the function runtime and the event-source drivers.

A driver turns something that happens (an HTTP request, an object put in S3, a schedule firing, a
message on a queue, a stream record) into the event AWS would deliver, and calls
:class:`Invoke` with the target function's logical id. The API gateway
(:class:`devstack.gateway.ApiGateway`) is the first driver; drivers for the other event sources a
template declares plug into :class:`devstack.stack.LocalStack` the same way: construct with the
template and ``invoke``, then ``start()`` / ``stop()``.

Event sources that no driver handles yet are listed by :func:`undriven_event_sources`, and the
stack warns about each at start, so the local stack never silently diverges from the template.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from devstack.template import Template

#: SAM event ``Type`` values some driver handles.
DRIVEN_EVENT_TYPES = frozenset({"Api", "DynamoDB", "SQS", "S3"})


class FunctionError(Exception):
    """The function raised (or failed to initialise); Lambda's error payload, by field."""

    def __init__(self, logical_id: str, payload: Mapping[str, Any]) -> None:
        self.logical_id = logical_id
        self.error_type = str(payload.get("errorType", ""))
        self.error_message = str(payload.get("errorMessage", ""))
        self.stack_trace = [str(line) for line in payload.get("stackTrace") or []]
        super().__init__(f"{logical_id}: {self.error_type}: {self.error_message}")


class FunctionTimeout(Exception):
    """The function did not answer within the allowed time (its template ``Timeout`` by default)."""


class Invoke(Protocol):
    """Synchronous (``RequestResponse``) invocation of a template function by logical id.

    Returns the handler's result after a JSON round trip. Raises :class:`FunctionError` when the
    handler raises, :class:`FunctionTimeout` after ``timeout`` seconds, ``KeyError`` for an
    unknown logical id.
    """

    def __call__(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any: ...


class Driver(Protocol):
    """An event source: started after the functions and resources exist, stopped before them."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def undriven_event_sources(tpl: Template) -> list[str]:
    """``"Function.Event (Type)"`` for every function event no driver handles yet."""
    found = []
    for logical_id, resource in tpl.of_type("AWS::Serverless::Function"):
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") not in DRIVEN_EVENT_TYPES:
                found.append(f"{logical_id}.{name} ({event.get('Type')})")
    return found


class PollingDriver:
    """A driver that polls one event source per thread (queues, streams).

    Subclasses set ``sources`` (items with a ``function`` attribute), ``_thread_name`` and
    ``_join_seconds`` and implement ``_run(source)``, which loops until ``_stopping`` is set.
    """

    _thread_name = "devstack-poll"
    _join_seconds = 65.0

    def __init__(self, sources: list[Any]) -> None:
        self.sources = sources
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def _run(self, source: Any) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Start one polling thread per source (returns at once)."""
        self._stopping.clear()
        for source in self.sources:
            thread = threading.Thread(
                target=self._run, args=(source,), name=f"{self._thread_name}-{source.function}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling (an invocation under way finishes first)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self._join_seconds)
        self._threads = []
