"""``make run ARGS="..."`` hands its flags to ``python -m devstack`` (README, Google section)."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from pathlib import Path

from devstack.__main__ import _overrides

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_passes_args_to_the_local_stack() -> None:
    # Given flags for the local stack
    args = "--parameter-overrides AuthorizerResultTtl=0 --workers 3"
    # When make prints what `make run` would run
    out = subprocess.run(
        ["make", "-n", "-s", "run", f"ARGS={args}", "PORT=3999"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # Then the devstack command line ends with them
    line = next(ln for ln in out.splitlines() if "-m devstack" in ln)
    assert line.endswith(f"-m devstack --port 3999 {args}")


def test_readme_google_example_names_template_parameters() -> None:
    # Given the README's `make run ARGS=...` example for a fake Google server
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r'make run ARGS="(--parameter-overrides[^"]*)"', text)
    assert example is not None
    words = shlex.split(example.group(1).replace("\\\n", " "))
    # Then every NAME=VALUE is a template parameter the local stack accepts
    parsed = _overrides(words[1:], argparse.ArgumentParser())
    assert set(parsed) == {"GoogleCalendarApiEndpoint", "GoogleOAuthTokenUri"}
