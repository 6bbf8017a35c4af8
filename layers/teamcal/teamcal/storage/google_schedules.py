"""The EventBridge Scheduler schedules that run the Google sync, one per connection.

A schedule is named ``google-sync-<calendarId>`` in the template's schedule group
(``GOOGLE_SCHEDULE_GROUP``), fires ``rate(<n> minutes)`` and invokes the sync function with the
input :func:`schedule_input` through the role ``GOOGLE_SCHEDULER_ROLE_ARN`` (which may invoke
that function and nothing else). A flexible window spreads the connections' runs.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import RetryableError

#: ``source`` of the scheduled event: the sync function routes events by this shape.
SCHEDULE_SOURCE = "teamcal.google-sync"


def schedule_input(calendar_id: int) -> dict[str, Any]:
    """The event a schedule delivers: ``{"source": "teamcal.google-sync", "calendarId": <id>}``."""
    return {"source": SCHEDULE_SOURCE, "calendarId": calendar_id}


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _translate(e: ClientError) -> Exception:
    if _code(e) in ("ThrottlingException", "InternalServerException", "ServiceQuotaExceededException"):
        return RetryableError("the scheduler is busy; retry the request")
    unchanged: Exception = e
    return unchanged


class ScheduleStore:
    """Sync schedules. ``client`` is a boto3 ``scheduler`` client. ``prefix`` names the schedules
    (``<prefix><key>``), ``source`` is the ``source`` of the event they deliver and ``what`` their
    description (``{key}`` replaced): the Google sync's by default; the Jira sync passes its own."""

    def __init__(
        self,
        client: Any,
        group: str,
        role_arn: str,
        *,
        prefix: str = "google-sync-",
        source: str = SCHEDULE_SOURCE,
        what: str = "sync Google calendars into calendar {key}",
    ) -> None:
        self._client = client
        self._group = group
        self._role_arn = role_arn
        self._prefix = prefix
        self._source = source
        self._what = what

    @staticmethod
    def name(calendar_id: int) -> str:
        """The Google sync schedule's name for calendar ``calendar_id``."""
        return f"google-sync-{calendar_id}"

    def schedule_name(self, key: int) -> str:
        """This store's schedule name for ``key`` (a calendar id; the Jira sync's connection: 0)."""
        return f"{self._prefix}{key}"

    def _spec(self, calendar_id: int, rate_minutes: int, target_arn: str, enabled: bool) -> dict[str, Any]:
        unit = "minute" if rate_minutes == 1 else "minutes"
        return {
            "Name": self.schedule_name(calendar_id),
            "GroupName": self._group,
            "ScheduleExpression": f"rate({rate_minutes} {unit})",
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": max(1, min(rate_minutes // 3, 15))},
            "Target": {
                "Arn": target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps({**schedule_input(calendar_id), "source": self._source}),
                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
            },
            "State": "ENABLED" if enabled else "DISABLED",
            "Description": "teamcal: " + self._what.format(key=calendar_id),
        }

    def put(self, calendar_id: int, rate_minutes: int, target_arn: str, *, enabled: bool = True) -> None:
        """Create the schedule, or replace its rate, target and state when it exists."""
        spec = self._spec(calendar_id, rate_minutes, target_arn, enabled)
        try:
            self._client.create_schedule(**spec)
            return
        except ClientError as e:
            if _code(e) != "ConflictException":
                raise _translate(e) from e
        try:
            self._client.update_schedule(**spec)
        except ClientError as e:
            raise _translate(e) from e

    def get(self, calendar_id: int) -> dict[str, Any] | None:
        """The schedule as GetSchedule returns it, or ``None``."""
        try:
            out: dict[str, Any] = self._client.get_schedule(Name=self.schedule_name(calendar_id), GroupName=self._group)
        except ClientError as e:
            if _code(e) == "ResourceNotFoundException":
                return None
            raise _translate(e) from e
        return out

    def set_enabled(self, calendar_id: int, enabled: bool) -> bool:
        """Pause (``DISABLED``) or resume a schedule, keeping its rate and target; False when
        there is no schedule."""
        current = self.get(calendar_id)
        if current is None:
            return False
        spec = {
            k: current[k]
            for k in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target", "Description")
            if current.get(k) is not None
        }
        spec["State"] = "ENABLED" if enabled else "DISABLED"
        try:
            self._client.update_schedule(**spec)
        except ClientError as e:
            raise _translate(e) from e
        return True

    def delete(self, calendar_id: int) -> None:
        """Delete the schedule (idempotent)."""
        try:
            self._client.delete_schedule(Name=self.schedule_name(calendar_id), GroupName=self._group)
        except ClientError as e:
            if _code(e) != "ResourceNotFoundException":
                raise _translate(e) from e
