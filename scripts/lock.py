"""Regenerate the lock files from the requirements files (``make lock``), with uv.

* ``layers/teamcal/requirements.lambda.lock``: the layer, for Lambda (CPython 3.13 on arm64,
  manylinux_2_28 wheels), with hashes; ``layers/teamcal/Makefile`` installs it into the layer.
* ``functions/google/requirements.lambda.lock``: the Google function's own packages, resolved
  with the layer's lock as constraints and then without what the layer already holds, so one copy
  of each package (urllib3, typing-extensions) is deployed, the layer's.
* ``requirements-dev.lock``: everything ``make install`` puts into .venv for this machine's
  interpreters (any Python from 3.11, any platform: a universal resolution), constrained by both
  Lambda locks: the layer's and the Google function's packages at the versions Lambda gets.
* ``requirements-tools.lock``: the template tooling ``make tools`` puts into .venv-tools
  (aws-sam-cli, cfn-lint, uv; universal as the dev lock, on its own: sam-cli pins an older boto3
  and pydantic), so a new cfn-lint rule or sam-cli release changes nothing until it is locked.

Run it after editing any requirements*.txt, or to take newer versions (``--upgrade``); commit the
lock files with the change. Network: the package index only.

    .venv-tools/bin/python -m scripts.lock [--upgrade]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_IN = ROOT / "layers/teamcal/requirements.txt"
LAYER_LOCK = ROOT / "layers/teamcal/requirements.lambda.lock"
GOOGLE_IN = ROOT / "functions/google/requirements.txt"
GOOGLE_LOCK = ROOT / "functions/google/requirements.lambda.lock"
DEV_IN = ROOT / "requirements-dev.txt"
DEV_LOCK = ROOT / "requirements-dev.lock"
TOOLS_IN = ROOT / "requirements-tools.txt"
TOOLS_LOCK = ROOT / "requirements-tools.lock"
#: Lambda's runtime python3.13 on arm64 (Amazon Linux 2023, glibc 2.34).
LAMBDA = ["--python-version", "3.13", "--python-platform", "aarch64-manylinux_2_28"]
#: The oldest interpreter the project supports locally; the lock is universal (markers) above it.
LOCAL = ["--universal", "--python-version", "3.11"]


def uv() -> str:
    """The uv executable: next to this interpreter (.venv-tools) or on PATH."""
    here = Path(sys.executable).with_name("uv")
    found = str(here) if here.exists() else shutil.which("uv")
    if not found:
        raise SystemExit("uv is needed: `make tools` installs it into .venv-tools")
    return found


def compile_lock(inputs: list[Path], output: Path, target: list[str], constraints: list[Path], upgrade: bool) -> None:
    """``uv pip compile`` ``inputs`` into ``output`` with hashes, for ``target``."""
    command = [uv(), "pip", "compile", "--quiet", "--generate-hashes", "--no-header", *target]
    command += ["--custom-compile-command", "make lock", "--output-file", str(output)]
    command += [arg for c in constraints for arg in ("--constraint", str(c.relative_to(ROOT)))]
    if upgrade:
        command.append("--upgrade")
    subprocess.run([*command, *(str(p.relative_to(ROOT)) for p in inputs)], cwd=ROOT, check=True)


def packages(lock: Path) -> set[str]:
    """The normalized names pinned in a lock file."""
    return {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock.read_text(), re.M)}


def without(lock_text: str, names: set[str]) -> str:
    """``lock_text`` minus the entries (pin, hashes, ``# via`` lines) of ``names``."""
    kept: list[str] = []
    skipping = False
    for line in lock_text.splitlines():
        pin = re.match(r"^([A-Za-z0-9_.-]+)==", line)
        if pin:
            skipping = pin.group(1).lower().replace("_", "-") in names
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


HEADERS = {
    LAYER_LOCK: "# The layer for Lambda (python3.13, arm64): `make lock` writes this file from requirements.txt.\n",
    GOOGLE_LOCK: (
        "# The Google function's own packages for Lambda (python3.13, arm64): `make lock` writes this file\n"
        "# from requirements.txt, resolved against the layer's lock; packages the layer holds are left out.\n"
    ),
    DEV_LOCK: (
        "# .venv for `make install` (Python 3.11+, any platform): `make lock` writes this file from\n"
        "# requirements-dev.txt, constrained by the layer's and the Google function's Lambda locks.\n"
    ),
    TOOLS_LOCK: (
        "# .venv-tools for `make tools` (Python 3.11+, any platform): `make lock` writes this file from\n"
        "# requirements-tools.txt, on its own (aws-sam-cli pins an older boto3 and pydantic).\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="take the newest allowed versions")
    args = parser.parse_args()
    compile_lock([LAYER_IN], LAYER_LOCK, LAMBDA, [], args.upgrade)
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "google.lock"
        compile_lock([GOOGLE_IN], full, LAMBDA, [LAYER_LOCK], args.upgrade)
        GOOGLE_LOCK.write_text(without(full.read_text(), packages(LAYER_LOCK)))
    compile_lock([DEV_IN], DEV_LOCK, LOCAL, [LAYER_LOCK, GOOGLE_LOCK], args.upgrade)
    compile_lock([TOOLS_IN], TOOLS_LOCK, LOCAL, [], args.upgrade)
    for lock, header in HEADERS.items():
        lock.write_text(header + lock.read_text())
    print("wrote", *(str(p.relative_to(ROOT)) for p in HEADERS))


if __name__ == "__main__":
    main()
