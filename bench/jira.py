"""Jira sync benchmark (a script, not a test): a full sync of 5,000 issues (plus a board's sprints
and a project's versions), then an incremental sync of 50 changed issues, then a run with nothing
changed and a full reconciliation, against the fake Jira site on loopback
(``tests/jira_fake.py``, Cloud flavour: ``search/jql`` with ``nextPageToken``) and moto in-process.

Per phase it prints the wall time, the Jira requests (search pages, field list, sprint and version
pages) and the DynamoDB calls by operation (counted with a botocore ``before-call`` hook on the
client the function uses). moto's speed is not DynamoDB's: the call counts are the figures that
transfer. The incremental phase must cost in proportion to the changes, not to the 5,000 issues.

The issues (last updated a day before the first run): every one has a due date (an all-day
event), every other one also a start date (a second event: the range from the start date to the
due date): 7,500 events.

    .venv/bin/python -m bench.jira [--issues 5000] [--changes 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws

from tests.jira_fake import JiraFake

EMAIL, TOKEN = "bench@example.com", "bench-token"
PROJECT, BOARD, VERSIONS_PROJECT = 10336, 132, 10371
START = dt.date(2026, 1, 5)


def _env() -> None:
    from devstack.template import REGION, Template

    tpl = Template.from_file(stack="bench")
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION})
    os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(tpl.function_environment("JiraFunction"))
    os.environ["TEAMCAL_ALLOW_LOOPBACK_PARTNERS"] = "true"


def build(fake: JiraFake, count: int, rng: random.Random) -> None:
    """``count`` issues, 30 sprints, 20 versions."""
    fake.add_account(EMAIL, TOKEN)
    fake.add_field("customfield_10015", "Start date", "date")
    for n in range(count):
        due = START + dt.timedelta(days=rng.randrange(0, 365))
        fields: dict[str, Any] = {"summary": f"issue {n}", "duedate": due.isoformat()}
        if n % 2:
            fields["customfield_10015"] = (due - dt.timedelta(days=rng.randrange(1, 20))).isoformat()
        fake.put_issue(f"DEV-{n}", PROJECT, **fields)
    for issue in fake.issues.values():  # last updated a day ago: only the changes are newer
        issue.updated_ms -= 86_400_000
    for n in range(30):
        first = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC) + dt.timedelta(days=14 * n)
        end = first + dt.timedelta(days=11, hours=8)
        state = "closed" if n < 20 else "active" if n == 20 else "future"
        fake.add_sprint(BOARD, n + 1, f"Sprint {n + 1}", state, first.isoformat(), end.isoformat())
    for n in range(20):
        release = START + dt.timedelta(days=18 * n)
        fake.add_version(VERSIONS_PROJECT, 500 + n, f"1.{n}", released=n < 15, release_date=release.isoformat())


def change(fake: JiraFake, count: int, rng: random.Random) -> None:
    """``count`` issues get a new due date (a third of them lose their start date)."""
    for n in rng.sample(range(len(fake.issues)), count):
        due = START + dt.timedelta(days=rng.randrange(0, 365))
        fields: dict[str, Any] = {"duedate": due.isoformat()}
        if n % 3 == 0:
            fields["customfield_10015"] = None
        fake.put_issue(f"DEV-{n}", PROJECT, **fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(15)
    fake = JiraFake(flavor="cloud").start()
    try:
        with mock_aws():
            _env()
            from devstack.template import Template, create_resources
            from functions.jira import app
            from teamcal import aws
            from teamcal.auth.principal import Principal
            from teamcal.models.calendars import CalendarCreate
            from teamcal.models.jira import ConnectionRequest
            from teamcal.models.sources import SourceCreate
            from teamcal.services import calendars, jira, sources
            from teamcal.services.google_sync import SyncClock
            from teamcal.services.jira_sync import SyncOptions, run_sync

            create_resources(Template.from_file(stack="bench"), boto3)
            build(fake, args.issues, rng)
            stores = app.stores()
            admin = Principal(token_id=1, user="bench", all_calendars=True, edit_calendars=True, edit_sources=True)
            admin = Principal(**{**admin.__dict__, "admin": True})
            calendar = calendars.create_calendar(
                stores.config, admin, CalendarCreate.model_validate({"value": '{"name": "Bench"}'})
            )
            values = {
                "jira": {
                    "name": "Issues",
                    "color": "#057fff",
                    "projectId": PROJECT,
                    "singleDates": ["duedate"],
                    "dateRanges": [["customfield_10015", "duedate"]],
                },
                "sprint": {"name": "Sprints", "color": "#cc6fcc", "boardId": BOARD, "state": 0, "show": 0},
                "version": {"name": "Versions", "color": "#ff3e05", "projectId": VERSIONS_PROJECT, "releasedStatus": 0},
            }
            for kind, value in values.items():
                body = {"eventTypeId": kind, "calendarConfigurationId": calendar.id, "value": json.dumps(value)}
                sources.create_source(stores.config, admin, SourceCreate.model_validate(body))
            connect = ConnectionRequest.model_validate({"baseUrl": fake.url, "email": EMAIL, "apiToken": TOKEN})
            jira.connect(
                stores, app.client_for, admin, connect, app.config(), "arn:aws:lambda:us-east-1:1:function:b", 0
            )

            calls: Counter[str] = Counter()
            aws.client("dynamodb").meta.events.register(
                "before-call.dynamodb", lambda model, **_: calls.update([model.name])
            )
            print(f"Jira issues: {args.issues} (7,500 events with the ranges), 30 sprints, 20 versions")

            def phase(name: str, full: bool = False) -> None:
                calls.clear()
                before = Counter({p: fake.count(p) for p in ("/search/jql", "/field", "/sprint", "/version")})
                started = time.perf_counter()
                result = run_sync(
                    stores,
                    app.client_for,
                    SyncClock(time_left_ms=lambda: 10**9),
                    SyncOptions(full=full),
                    trigger="schedule",
                )
                elapsed = time.perf_counter() - started
                after = Counter({p: fake.count(p) for p in before})
                jira_calls = after - before
                print(f"\n{name}: outcome {result.outcome}, {elapsed:.2f} s wall")
                shown = ", ".join(f"{k.strip('/')} {v}" for k, v in sorted(jira_calls.items()))
                print(f"  Jira requests: {sum(jira_calls.values())} ({shown})")
                for report in result.sources:
                    print(
                        f"  {report['type']:8} {report['mode']:11} pages {report['pages']:3}  "
                        f"created {report['created']}, updated {report['updated']}, "
                        f"deleted {report['deleted']}, unchanged {report['unchanged']}"
                    )
                by_operation = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
                print(f"  DynamoDB calls: {sum(calls.values())} ({by_operation})")

            phase("first run (full)")
            change(fake, args.changes, rng)
            phase(f"incremental run after {args.changes} changed issues")
            phase("incremental run, nothing changed (the changes are still within the 5-minute margin)")
            phase("full reconciliation, nothing changed", full=True)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
