"""The EventBridge Scheduler driver: fires the schedules the functions create at run time.

moto stores schedules (CreateSchedule, UpdateSchedule, …) but never invokes their targets. This
driver polls the template's schedule groups (``AWS::Scheduler::ScheduleGroup``) on the moto
server and, for every ``ENABLED`` schedule whose target is a template function, invokes that
function with the target's ``Input`` (JSON) as the event, as Scheduler does:

* ``rate(N minute|minutes|hour|hours|day|days)``: first at ``StartDate`` (else creation) + N, then
  every N after the previous run; a schedule changed by UpdateSchedule starts over.
* ``at(YYYY-MM-DDTHH:MM:SS)``: once (UTC), then deleted when ``ActionAfterCompletion`` is
  ``DELETE``.
* ``cron(...)``: not emulated (logged once); :meth:`SchedulerDriver.fire` still runs it.

:meth:`SchedulerDriver.fire` runs schedules on demand (tests, a developer who does not want to
wait 15 minutes); :meth:`SchedulerDriver.run_due` is one polling step (``now`` injectable).
Flexible time windows are ignored (a schedule fires at the start of its window). Invocations are
synchronous, one at a time; a failing target is logged and kept in :attr:`SchedulerDriver.fired`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.drivers import FunctionError, FunctionTimeout, Invoke
from devstack.template import Template

log = logging.getLogger("devstack.scheduler")

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_HISTORY = 200


@dataclass(frozen=True)
class Fired:
    """One invocation the driver made: the schedule, the function, and its result or error."""

    group: str
    name: str
    function: str
    event: dict[str, Any]
    ok: bool
    result: Any = None
    error: str | None = None


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


class SchedulerDriver:
    """Drive the schedules of ``tpl``'s schedule groups; ``endpoint`` has ``client(service)``
    (boto3 pointed at the moto server), ``invoke`` runs a function by logical id, ``clock`` is
    epoch seconds (tests pass a fake), ``poll_seconds`` the polling interval."""

    def __init__(
        self,
        tpl: Template,
        invoke: Invoke,
        endpoint: Any,
        *,
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._groups = [tpl.physical_name(lid) for lid, _ in tpl.of_type("AWS::Scheduler::ScheduleGroup")]
        self._functions = {tpl.arn(lid): lid for lid, _ in tpl.of_type("AWS::Serverless::Function")}
        self._invoke = invoke
        self._endpoint = endpoint
        self._client: Any = None
        self._poll = poll_seconds
        self._clock = clock
        self._due: dict[tuple[str, float], float] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired: list[Fired] = []

    # ------------------------------------------------------------------ driver
    def start(self) -> None:
        """Poll in a background thread (nothing to do when the template declares no group)."""
        if not self._groups:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="devstack-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (an invocation under way finishes first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self._poll):
            try:
                self.run_due()
            except (OSError, BotoCoreError, ClientError) as e:  # moto is gone (stopping) or refused once
                log.debug("scheduler poll failed: %s", e)

    # ------------------------------------------------------------------ schedules
    def _scheduler(self) -> Any:
        if self._client is None:
            self._client = self._endpoint.client("scheduler")
        return self._client

    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule of the template's groups, as GetSchedule returns it (with ``Target``)."""
        client = self._scheduler()
        out = []
        for group in self._groups:
            token: str | None = None
            while True:
                page = client.list_schedules(GroupName=group, **({"NextToken": token} if token else {}))
                for item in page.get("Schedules", []):
                    out.append(client.get_schedule(Name=item["Name"], GroupName=group))
                token = page.get("NextToken")
                if not token:
                    break
        return out

    def _next_run(self, schedule: dict[str, Any], now: float) -> float | None:
        """When ``schedule`` fires next (epoch s), or ``None`` (not driven / done)."""
        expression = str(schedule.get("ScheduleExpression") or "")
        key = (str(schedule["Arn"]), _epoch(schedule.get("LastModificationDate")) or 0.0)
        rate = _RATE.match(expression)
        if rate:
            period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2)]
            if key not in self._due:
                base = _epoch(schedule.get("StartDate")) or _epoch(schedule.get("CreationDate")) or now
                self._due[key] = base + period
            return self._due[key]
        at = _AT.match(expression)
        if at:
            if self._due.get(key) == float("inf"):
                return None
            return dt.datetime.fromisoformat(at.group(1)).replace(tzinfo=dt.UTC).timestamp()
        if expression not in self._warned:
            self._warned.add(expression)
            log.warning("schedule expression not emulated (fire() still runs it): %s", expression)
        return None

    def run_due(self, now: float | None = None) -> list[Fired]:
        """Fire every ENABLED schedule that is due at ``now`` (epoch s; default the clock)."""
        when = self._clock() if now is None else now
        fired = []
        with self._lock:
            for schedule in self.schedules():
                if schedule.get("State") != "ENABLED":
                    continue
                due = self._next_run(schedule, when)
                if due is None or due > when:
                    continue
                fired.append(self._fire(schedule))
                self._after(schedule, when)
        return fired

    def _after(self, schedule: dict[str, Any], now: float) -> None:
        key = (str(schedule["Arn"]), _epoch(schedule.get("LastModificationDate")) or 0.0)
        rate = _RATE.match(str(schedule.get("ScheduleExpression") or ""))
        if rate:
            self._due[key] = now + int(rate.group(1)) * _UNIT_SECONDS[rate.group(2)]
            return
        self._due[key] = float("inf")
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self._scheduler().delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])

    def fire(self, name: str | None = None) -> list[Fired]:
        """Run now every ENABLED schedule (or the one called ``name``), whatever its expression."""
        with self._lock:
            return [
                self._fire(s)
                for s in self.schedules()
                if s.get("State") == "ENABLED" and (name is None or s.get("Name") == name)
            ]

    def _fire(self, schedule: dict[str, Any]) -> Fired:
        target = schedule.get("Target") or {}
        arn = ":".join(str(target.get("Arn", "")).split(":")[:7])
        function = self._functions.get(arn, "")
        raw = target.get("Input")
        event = json.loads(raw) if raw else {}
        group, name = str(schedule.get("GroupName")), str(schedule.get("Name"))
        if not function:
            outcome = Fired(group, name, "", event, False, error=f"target {arn} is not a function of the template")
        else:
            try:
                outcome = Fired(group, name, function, event, True, result=self._invoke(function, event))
            except (FunctionError, FunctionTimeout) as e:
                outcome = Fired(group, name, function, event, False, error=str(e))
        if not outcome.ok:
            log.warning("schedule %s/%s failed: %s", group, name, outcome.error)
        self.fired = [*self.fired[-(_HISTORY - 1) :], outcome]
        return outcome
