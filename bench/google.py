"""Google sync benchmark (a script, not a test): a full sync of 5,000 Google events, then an
incremental sync of 50 changes, through the real google-api-python-client against the fake Google
on loopback (``tests/google_fake.py``) and moto in-process.

Per phase it prints the wall time, the Google requests (``events.list`` pages, token requests)
and the DynamoDB calls by operation (counted with a botocore ``before-call`` hook on the client
the function uses). moto's speed is not DynamoDB's: the call counts are the figures that transfer.
The incremental phase must cost in proportion to the 50 changes, not to the 5,000 events.

The calendar: single timed events in several zones, all-day events, weekly / daily masters
(bounded and unbounded) with moved and cancelled instances. The changes: edited and deleted
single events, moved and cancelled instances, a renamed master, new events.

    .venv/bin/python -m bench.google [--events 5000] [--changes 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws

from tests.google_fake import GoogleFake, all_day, instance, running, timed

ACCOUNT = "bench@example.com"
CLIENT = ("bench-client", "bench-secret")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _env(fake: GoogleFake) -> None:
    from devstack.template import REGION, Template

    tpl = Template.from_file(stack="bench")
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION})
    os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(tpl.function_environment("GoogleFunction"))
    os.environ.update({"GOOGLE_CALENDAR_API_ENDPOINT": fake.api_endpoint, "GOOGLE_OAUTH_TOKEN_URI": fake.token_uri})


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def build(fake: GoogleFake, count: int, rng: random.Random) -> list[str]:
    """``count`` Google events (masters, instances and singles together); returns the master ids."""
    fake.add_calendar(ACCOUNT, "Bench", ACCOUNT, time_zone="Europe/Berlin")
    masters: list[str] = []
    made = 0
    while made < count:
        i = made
        when = START + dt.timedelta(minutes=30 * rng.randrange(0, 365 * 48))
        zone = ZONES[i % len(ZONES)]
        if i % 10 == 0 and made + 3 <= count:  # a master with a moved and a cancelled instance
            rule = "RRULE:FREQ=WEEKLY;COUNT=20" if i % 20 else "RRULE:FREQ=DAILY"
            master = timed(
                f"m{i}",
                _iso(when),
                _iso(when + dt.timedelta(minutes=45)),
                zone,
                summary=f"series {i}",
                recurrence=[rule],
            )
            fake.put(ACCOUNT, master)
            step = dt.timedelta(days=7 if i % 20 else 1)
            moved = when + 2 * step
            fake.put(
                ACCOUNT,
                instance(
                    f"m{i}",
                    {"dateTime": _iso(moved)},
                    {"dateTime": _iso(moved + dt.timedelta(hours=3))},
                    {"dateTime": _iso(moved + dt.timedelta(hours=4))},
                    summary=f"series {i} (moved)",
                ),
            )
            fake.cancel_instance(ACCOUNT, f"m{i}", {"dateTime": _iso(when + 3 * step)})
            masters.append(f"m{i}")
            made += 3
        elif i % 7 == 0:
            day = when.date()
            fake.put(
                ACCOUNT,
                all_day(f"d{i}", day.isoformat(), (day + dt.timedelta(days=1 + i % 3)).isoformat(), summary=f"day {i}"),
            )
            made += 1
        else:
            fake.put(
                ACCOUNT, timed(f"s{i}", _iso(when), _iso(when + dt.timedelta(minutes=60)), zone, summary=f"single {i}")
            )
            made += 1
    return masters


def change(fake: GoogleFake, masters: list[str], count: int, rng: random.Random) -> None:
    """``count`` changes of every kind."""
    singles = [e for e in fake.calendars[ACCOUNT].events if e.startswith("s")]
    rng.shuffle(singles)
    for n in range(count):
        kind = n % 5
        if kind == 0:
            event = dict(fake.calendars[ACCOUNT].events[singles.pop()])
            fake.put(ACCOUNT, {**event, "summary": f"{event['summary']} (edited)"})
        elif kind == 1:
            fake.delete(ACCOUNT, singles.pop())
        elif kind == 2:
            master = fake.calendars[ACCOUNT].events[rng.choice(masters)]
            first = dt.datetime.fromisoformat(master["start"]["dateTime"])
            step = dt.timedelta(days=7 if "WEEKLY" in master["recurrence"][0] else 1)
            original = first + 5 * step
            fake.put(
                ACCOUNT,
                instance(
                    master["id"],
                    {"dateTime": _iso(original)},
                    {"dateTime": _iso(original + dt.timedelta(hours=1))},
                    {"dateTime": _iso(original + dt.timedelta(hours=2))},
                    summary="moved",
                ),
            )
        elif kind == 3:
            master = fake.calendars[ACCOUNT].events[rng.choice(masters)]
            first = dt.datetime.fromisoformat(master["start"]["dateTime"])
            step = dt.timedelta(days=7 if "WEEKLY" in master["recurrence"][0] else 1)
            fake.cancel_instance(ACCOUNT, master["id"], {"dateTime": _iso(first + 6 * step)})
        else:
            when = START + dt.timedelta(days=rng.randrange(0, 300))
            fake.put(ACCOUNT, timed(f"new{n}", _iso(when), _iso(when + dt.timedelta(hours=1)), summary="new"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(6)
    with running() as fake, mock_aws():
        _env(fake)
        from devstack.template import Template, create_resources
        from functions.google import app
        from teamcal import aws
        from teamcal.auth.principal import Principal
        from teamcal.models.calendars import CalendarCreate
        from teamcal.models.google import CredentialsRequest, SelectionRequest
        from teamcal.services import calendars, google
        from teamcal.services.google_sync import PAGE_SIZE, SyncClock

        create_resources(Template.from_file(stack="bench"), boto3)
        fake.add_client(*CLIENT)
        masters = build(fake, args.events, rng)
        stores, gateway = app.stores(), app.gateway()
        owner = Principal(token_id=1, user="bench", all_calendars=True, edit_calendars=True, edit_sources=True)
        calendar = calendars.create_calendar(
            stores.config, owner, CalendarCreate.model_validate({"value": '{"name": "Bench"}'})
        )
        credentials = {"clientId": CLIENT[0], "clientSecret": CLIENT[1], "refreshToken": fake.grant(ACCOUNT, CLIENT[0])}
        google.put_credentials(stores, gateway, owner, calendar.id, CredentialsRequest.model_validate(credentials), 0)
        selection = SelectionRequest.model_validate({"calendars": [ACCOUNT]})
        google.select(
            stores,
            gateway,
            owner,
            calendar.id,
            selection,
            app.config(),
            "arn:aws:lambda:us-east-1:123456789012:function:bench",
            0,
        )

        calls: Counter[str] = Counter()
        aws.client("dynamodb").meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.update([model.name])
        )
        print(f"Google events: {args.events} ({len(masters)} masters with a moved and a cancelled instance each)")
        print(f"events.list page size: {PAGE_SIZE}")

        def phase(name: str) -> dict[str, Any]:
            calls.clear()
            pages, tokens = fake.count("/events"), fake.count("/token")
            started = time.perf_counter()
            result = google.run_sync(
                stores, gateway, calendar.id, SyncClock(time_left_ms=lambda: 10**9), trigger="schedule"
            )
            elapsed = time.perf_counter() - started
            report = result.calendars[0]
            print(f"\n{name}: outcome {result.outcome}, {elapsed:.2f} s wall")
            google_pages, google_tokens = fake.count("/events") - pages, fake.count("/token") - tokens
            print(f"  Google requests: {google_pages} events.list pages, {google_tokens} token requests")
            print(
                f"  changes applied: created {report['created']}, updated {report['updated']}, "
                f"deleted {report['deleted']}, unchanged {report['unchanged']}, skipped {report['skipped']}"
            )
            print(
                f"  DynamoDB calls: {sum(calls.values())} ({', '.join(f'{k} {v}' for k, v in sorted(calls.items()))})"
            )
            return report

        phase("full sync")
        change(fake, masters, args.changes, rng)
        phase(f"incremental sync of {args.changes} changes")


if __name__ == "__main__":
    main()
