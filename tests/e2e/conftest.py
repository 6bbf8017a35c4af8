"""The e2e harness: one local stack per test session, started as ``python -m devstack`` in a
subprocess on 127.0.0.1 and spoken to over real HTTP.

The stack picks its own free port (``--port 0``) and prints its URL; the admin token is fixed
through ``ADMIN_TOKEN``. Its output goes to a file (a pipe nobody reads would fill up and block
it), which is shown when start-up fails. At the end it gets SIGTERM and must exit with code 0.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BASE_PATH = "/rest/brizo-calendar/api/1"
START_TIMEOUT = 60.0


@dataclass
class StackClient:
    """The running stack: ``url`` (no trailing slash), the admin token, and an HTTP helper."""

    url: str
    admin_token: str
    session: requests.Session
    #: the moto server's URL (``aws endpoint:``) and the file its recorder writes to
    aws_endpoint: str = ""
    recording: Path | None = None

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        base: str = BASE_PATH,
        **kwargs: Any,
    ) -> requests.Response:
        """``method`` ``base + path`` with ``Authorization: Bearer token`` when ``token`` is given;
        other keyword arguments go to :meth:`requests.Session.request` (``json=``, ``data=``)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return self.session.request(method, f"{self.url}{base}{path}", headers=sent, timeout=60, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """:meth:`call` with the admin token."""
        return self.call(method, path, self.admin_token, **kwargs)

    def new_token(self, **fields: Any) -> dict[str, Any]:
        """Create a token with the admin token (``POST /token``); returns the created token body."""
        response = self.admin("POST", "/token", json={"name": "e2e", "user": "e2e", **fields})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def _wait_for_url(proc: subprocess.Popen[bytes], log: Path) -> tuple[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        url = re.search(r"^url: (http://127\.0\.0\.1:\d+)$", text, re.MULTILINE)
        token = re.search(r"^admin token: (\S+)$", text, re.MULTILINE)
        printed_all = re.search(r"^aws endpoint: ", text, re.MULTILINE)  # the last line printed
        if url and token and printed_all:
            return url.group(1), token.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the local stack did not start (exit {proc.poll()}):\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackClient]:
    """The local stack, started once for the whole session; SIGTERM at the end must exit 0."""
    admin_token = "tcal_e2e_" + secrets.token_urlsafe(24)
    log = tmp_path_factory.mktemp("devstack") / "devstack.log"
    recording = log.parent / "moto_recording"  # moto's recorder (off unless a test starts it)
    env = {**os.environ, "ADMIN_TOKEN": admin_token, "PYTHONUNBUFFERED": "1", "MOTO_RECORDER_FILEPATH": str(recording)}
    env.pop("AWS_ENDPOINT_URL", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url, printed_token = _wait_for_url(proc, log)
        assert printed_token == admin_token
        session = requests.Session()
        session.trust_env = False  # never through a proxy: loopback only
        endpoint = re.search(r"^aws endpoint: (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"), re.MULTILINE)
        aws = endpoint.group(1) if endpoint else ""
        yield StackClient(url=url, admin_token=admin_token, session=session, aws_endpoint=aws, recording=recording)
        session.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            assert code == 0, f"the local stack exited with {code}:\n{log.read_text(errors='replace')[-4000:]}"
