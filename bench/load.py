"""Bounded load against the local stack on loopback (a script, not a test).

Starts its own local stack on a free 127.0.0.1 port, creates a calendar, a source and several
tokens through the API, then sends a fixed number of requests from a fixed number of threads,
mixing searches, creates and edits (each edit PUTs with the version it read, so some lose races
and get 409: expected, counted apart from errors). Prints throughput, p50 / p99 latency per kind
and errors; then checks that every event a 200 said was created exists exactly once (GET by id and
one search over the whole period).

    .venv/bin/python -m bench.load [--requests 600] [--threads 8] [--tokens 4]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from devstack.stack import LocalStack

BASE = "/rest/brizo-calendar/api/1"
HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="worker processes per function")
    args = parser.parse_args()

    with LocalStack(port=0, workers=args.workers) as stack:
        api = stack.url + BASE
        admin = {"Authorization": f"Bearer {stack.admin_token}"}
        calendar = requests.post(
            f"{api}/calendar",
            headers=admin,
            timeout=30,
            json={"publicCalendar": True, "eventsEditable": True, "value": json.dumps({"name": "load"})},
        ).json()
        source = requests.post(
            f"{api}/source",
            headers=admin,
            timeout=30,
            json={
                "eventTypeId": "meeting",
                "calendarConfigurationId": calendar["id"],
                "value": json.dumps({"name": "m", "color": "#123456"}),
            },
        ).json()
        tokens = []
        for i in range(args.tokens):
            created = requests.post(
                f"{api}/token",
                headers=admin,
                timeout=30,
                json={"name": f"load-{i}", "user": f"user-{i}", "calendarIds": [calendar["id"]]},
            ).json()
            tokens.append({"Authorization": f"Bearer {created['token']}"})

        created_ids: list[int] = []
        lock = threading.Lock()
        latencies: dict[str, list[float]] = defaultdict(list)
        outcomes: Counter[str] = Counter()

        def one(i: int) -> None:
            rng = random.Random(i)
            headers = tokens[i % len(tokens)]
            kind = rng.choices(("search", "create", "edit"), weights=(5, 3, 2))[0]
            with lock:
                known = list(created_ids)
            if kind == "edit" and not known:
                kind = "create"
            t = time.perf_counter()
            if kind == "search":
                start = T0 + rng.randrange(0, 60) * DAY
                r = requests.post(
                    f"{api}/event/search",
                    headers=headers,
                    timeout=60,
                    json={"calendarId": calendar["id"], "startDate": start, "endDate": start + 30 * DAY},
                )
            elif kind == "create":
                start = T0 + rng.randrange(0, 90 * 24) * HOUR
                body: dict[str, Any] = {
                    "summary": f"load {i}",
                    "eventTypeConfigId": source["id"],
                    "startDate": start,
                    "endDate": start + HOUR,
                }
                if i % 7 == 0:
                    body["recurrence"] = "FREQ=WEEKLY;COUNT=8"
                r = requests.post(f"{api}/event", headers=headers, timeout=60, json={"mode": "add", "event": body})
                if r.status_code == 200:
                    with lock:
                        created_ids.append(int(r.json()["id"]))
            else:
                target = rng.choice(known)
                got = requests.get(f"{api}/event/{target}", headers=headers, timeout=60)
                version = got.json().get("version") if got.status_code == 200 else 1
                r = requests.put(
                    f"{api}/event",
                    headers=headers,
                    timeout=60,
                    json={"mode": "edit", "event": {"id": target, "version": version, "summary": f"edited by {i}"}},
                )
            elapsed = time.perf_counter() - t
            with lock:
                latencies[kind].append(elapsed)
                outcomes[f"{kind} {r.status_code}"] += 1

        t_start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - t_start

        print(
            f"{args.requests} requests from {args.threads} threads and {args.tokens} tokens in {wall:.1f} s: "
            f"{args.requests / wall:.1f} requests/s (local stack, {args.workers} workers per function, 2 cores)"
        )
        for kind, values in sorted(latencies.items()):
            ordered = sorted(values)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            print(
                f"  {kind:7s} n={len(values):4d}  p50 {statistics.median(values) * 1000:7.1f} ms  "
                f"p99 {p99 * 1000:7.1f} ms"
            )
        errors = {k: v for k, v in outcomes.items() if not k.endswith((" 200", " 409"))}
        print(f"  outcomes: {dict(sorted(outcomes.items()))}")
        print(f"  errors (not 200, not an expected 409 of a lost edit race): {errors or 'none'}")

        # every created event exists, exactly once: the calendar holds precisely the created ids
        missing = [
            i for i in created_ids if requests.get(f"{api}/event/{i}", headers=admin, timeout=60).status_code != 200
        ]
        stored: set[int] = set()
        for window in range(5):
            start = T0 - DAY + window * 30 * DAY
            page = requests.post(
                f"{api}/event/search",
                headers=admin,
                timeout=120,
                json={
                    "calendarId": calendar["id"],
                    "startDate": start,
                    "endDate": start + 30 * DAY,
                    "maxResults": 10_000,
                },
            ).json()
            stored.update(int(v["id"]) for v in page["values"])
        duplicates = len(created_ids) - len(set(created_ids))
        phantoms = stored - set(created_ids)
        print(
            f"  created {len(created_ids)} events; missing afterwards {len(missing)}; duplicate ids {duplicates}; "
            f"events nobody was told were created {len(phantoms)}; found by search {len(stored & set(created_ids))}"
        )
        if missing or errors or duplicates or phantoms or stored != set(created_ids):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
