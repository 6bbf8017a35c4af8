"""schemathesis against the local stack, from docs/openapi.json (issue 8, "Fuzzing").

Every operation of the document is exercised with schemathesis' examples, coverage and fuzzing
phases (positive and negative data), bounded by a fixed seed and example count (:data:`SEED`,
:data:`MAX_EXAMPLES`: about a minute on 2 cores). The checks: no 5xx; every status code, content
type, header and body conforms to the document; invalid data is refused with a 4xx.

The stack is this module's own (the session's is left clean for the other tests): template
defaults except the Google endpoints, which point at the fake Google on loopback (there is no other
network here), and an all-calendars admin token with every flag. Ids of a real calendar, source
and event are given to every GET, PUT and POST (a random id only meets 404); the
DELETE operations keep generated ids, so the seeded resources live through the run.

A failure prints schemathesis' report, with a curl line to reproduce each finding. To run the same
thing by hand: ``make run``, then ``st run docs/openapi.json --url http://127.0.0.1:3000
-H "Authorization: Bearer <admin token>" --seed 8 …`` (see :func:`schemathesis_command`).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.openapi import DOCUMENT
from devstack.stack import LocalStack
from tests.google_fake import GoogleFake, running

pytestmark = pytest.mark.e2e

BASE = "/rest/brizo-calendar/api/1"
#: Fixed: the same cases on every run (a finding reproduces with the same seed).
SEED = 8
#: Test cases per operation and phase (the coverage phase adds its own boundary cases).
MAX_EXAMPLES = 25
#: The checks that fail the build (schemathesis names).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
#: The whole stage must stay well inside the CI budget.
FUZZ_TIMEOUT_SECONDS = 420


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[tuple[LocalStack, GoogleFake]]:
    with running() as fake:
        stack = LocalStack(
            port=0,
            parameters={
                "GoogleCalendarApiEndpoint": fake.api_endpoint,
                "GoogleOAuthTokenUri": fake.token_uri,
                "GoogleOAuthAuthUri": fake.auth_uri,
            },
            admin_token="tcal_fuzz_" + secrets.token_urlsafe(18),
            workers=2,
            stack_name="teamcal-fuzz",
        ).start()
        try:
            yield stack, fake
        finally:
            stack.stop()


def _post(http: requests.Session, url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url + BASE + path, json=body, timeout=30)
    assert response.status_code in (200, 201), response.text
    created: dict[str, Any] = response.json()
    return created


def seed_resources(stack: LocalStack) -> dict[str, Any]:
    """A calendar with a source and a recurring event, made through the API; returns the path
    parameters they fill (``{"path.calendarId": …}``)."""
    http = requests.Session()
    http.trust_env = False  # loopback only
    http.headers["Authorization"] = f"Bearer {stack.admin_token}"
    calendar = _post(
        http, stack.url, "/calendar", {"publicCalendar": True, "value": json.dumps({"name": "fuzz", "timeZone": "UTC"})}
    )
    source = _post(
        http,
        stack.url,
        "/source",
        {
            "eventTypeId": "meeting",
            "calendarConfigurationId": calendar["id"],
            "value": json.dumps({"name": "m", "color": "#7500ca"}),
        },
    )
    event = _post(
        http,
        stack.url,
        "/event",
        {
            "event": {
                "eventTypeConfigId": source["id"],
                "summary": "stand-up",
                "startDate": 1_767_225_600_000,
                "endDate": 1_767_227_400_000,
                "recurrence": "FREQ=DAILY;COUNT=30",
            }
        },
    )
    http.close()
    return {"path.calendarId": calendar["id"], "path.sourceId": source["id"], "path.eventId": event["id"]}


def write_config(folder: Path, parameters: dict[str, Any]) -> Path:
    """A schemathesis.toml: the :data:`CHECKS`, and ``parameters`` for every GET, PUT and POST."""
    pairs = ", ".join(f"{json.dumps(name)} = {json.dumps(value)}" for name, value in parameters.items())
    # No crash cache: each run is the seed's cases only, and leaves nothing in the work tree.
    lines = ["[cache]", "enabled = false", ""]
    lines += ["[checks]", "enabled = false", *(f"{check}.enabled = true" for check in CHECKS), ""]
    lines += ["[[operations]]", 'include-method-regex = "^(GET|PUT|POST)$"', f"parameters = {{ {pairs} }}"]
    config = folder / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def schemathesis_command(url: str, token: str, config: Path, report: Path) -> list[str]:
    """The ``st run`` command line of the fuzz stage."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        str(DOCUMENT),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: CPython 3.11's ast module is not thread-safe (gh-106905), and Hypothesis
        # parses sources while it describes strategies.
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "35",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]


def test_schemathesis_finds_nothing(fuzz_stack: tuple[LocalStack, GoogleFake], tmp_path: Path) -> None:
    # Given the local stack with a few real resources
    stack, _ = fuzz_stack
    config = write_config(tmp_path, seed_resources(stack))
    # When schemathesis runs every operation of the document against it
    started = time.monotonic()
    done = subprocess.run(
        schemathesis_command(stack.url, stack.admin_token, config, tmp_path / "junit.xml"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=FUZZ_TIMEOUT_SECONDS,
        check=False,
    )
    elapsed = time.monotonic() - started
    # Then it reports no failure and no error
    report = done.stdout[-30_000:] + done.stderr[-5_000:]
    assert done.returncode == 0, f"schemathesis found problems ({elapsed:.0f} s):\n{report}"
    assert "Tested: " in done.stdout, report
    print(f"fuzz stage: {elapsed:.0f} s", "\n".join(done.stdout.splitlines()[-12:]), sep="\n")
