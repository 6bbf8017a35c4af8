"""The local stack's EventBridge Scheduler driver against moto's Scheduler (in-process): schedules
fire at their rate, once for ``at(...)``, on demand, never when disabled."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import boto3
import pytest

from devstack.drivers import FunctionError
from devstack.scheduler_driver import SchedulerDriver
from tests.conftest import TEMPLATE

pytestmark = pytest.mark.integration

GROUP = TEMPLATE.physical_name("GoogleScheduleGroup")
TARGET = TEMPLATE.arn("GoogleFunction")
ROLE = TEMPLATE.arn("GoogleSchedulerRole")


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        self.calls.append((logical_id, dict(event)))
        if self.fail:
            raise FunctionError(logical_id, {"errorType": "Boom", "errorMessage": "sync failed"})
        return {"outcome": "synced"}


def schedule(name: str, expression: str, *, state: str = "ENABLED", arn: str = TARGET, **extra: Any) -> None:
    boto3.client("scheduler").create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": json.dumps({"calendarId": 7, "name": name})},
        State=state,
        **extra,
    )


def test_rate_schedules_fire_every_period(aws: None) -> None:
    # Given a 15-minute schedule created now
    schedule("every-15", "rate(15 minutes)")
    invoke = Recorder()
    driver = SchedulerDriver(TEMPLATE, invoke, boto3)
    now = time.time()
    # Then it does not fire before 15 minutes, fires once after, and again 15 minutes later
    assert driver.run_due(now + 60) == []
    fired = driver.run_due(now + 15 * 60 + 1)
    assert [(f.name, f.function, f.ok) for f in fired] == [("every-15", "GoogleFunction", True)]
    assert invoke.calls == [("GoogleFunction", {"calendarId": 7, "name": "every-15"})]
    assert driver.run_due(now + 15 * 60 + 2) == []
    assert len(driver.run_due(now + 30 * 60 + 2)) == 1
    assert len(invoke.calls) == 2


def test_disabled_and_foreign_schedules(aws: None) -> None:
    schedule("paused", "rate(1 minute)", state="DISABLED")
    schedule("elsewhere", "rate(1 minute)", arn="arn:aws:lambda:us-east-1:123456789012:function:not-ours")
    invoke = Recorder()
    driver = SchedulerDriver(TEMPLATE, invoke, boto3)
    fired = driver.run_due(time.time() + 3600)
    assert [(f.name, f.ok) for f in fired] == [("elsewhere", False)]
    assert "not a function of the template" in (fired[0].error or "")
    assert invoke.calls == []


def test_one_time_schedules_fire_once_and_are_deleted(aws: None) -> None:
    schedule("once", "at(2026-01-01T00:00:00)", ActionAfterCompletion="DELETE")
    invoke = Recorder()
    driver = SchedulerDriver(TEMPLATE, invoke, boto3)
    assert len(driver.run_due()) == 1
    assert driver.run_due() == []
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []


def test_fire_runs_on_demand_and_keeps_failures(aws: None) -> None:
    schedule("a", "rate(1 day)")
    schedule("b", "cron(0 12 * * ? *)")
    invoke = Recorder(fail=True)
    driver = SchedulerDriver(TEMPLATE, invoke, boto3)
    assert driver.run_due(time.time() + 3600) == []  # cron is not emulated on its own
    fired = driver.fire("b")
    assert [(f.name, f.ok) for f in fired] == [("b", False)]
    assert "sync failed" in (fired[0].error or "")
    assert {f.name for f in driver.fire()} == {"a", "b"}
    assert len(driver.fired) == 3
    assert driver.fired[0].name == "b"
    assert not any(f.ok for f in driver.fired)
