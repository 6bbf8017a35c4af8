"""The Lambda packages (issue 13): lock files in step with the requirements, one copy of each
package between the layer and the Google function, the Google function's pruned discovery
documents, and the size budgets of ``make sizes``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import googleapiclient
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts import sizes

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LAYER_LOCK = ROOT / "layers/teamcal/requirements.lambda.lock"
GOOGLE_LOCK = ROOT / "functions/google/requirements.lambda.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
TOOLS_LOCK = ROOT / "requirements-tools.lock"
STALE = "the lock files are stale: run `make lock` and commit them"


def pins(lock: Path) -> dict[str, str]:
    """{canonical name: version} of a lock file (markers ignored)."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", lock.read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def requirements(path: Path) -> list[Requirement]:
    """The requirements of a requirements file, following ``-r`` includes."""
    found: list[Requirement] = []
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line and not line.startswith(("#", "-")):
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize(
    ("source", "locks"),
    [
        ("layers/teamcal/requirements.txt", [LAYER_LOCK]),
        ("functions/google/requirements.txt", [GOOGLE_LOCK, LAYER_LOCK]),
        ("requirements-dev.txt", [DEV_LOCK]),
        ("requirements-tools.txt", [TOOLS_LOCK]),
    ],
)
def test_every_requirement_is_locked_at_an_allowed_version(source: str, locks: list[Path]) -> None:
    locked: dict[str, str] = {}
    for lock in locks:
        locked.update(pins(lock))
    for requirement in requirements(ROOT / source):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{source}: {requirement} is not in {[lock.name for lock in locks]}: {STALE}"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{requirement} vs {locked[name]}: {STALE}"
        )


def test_the_google_function_ships_no_second_copy_of_a_layer_package() -> None:
    assert "urllib3" in pins(LAYER_LOCK)
    assert set(pins(GOOGLE_LOCK)).isdisjoint(pins(LAYER_LOCK))


def test_development_runs_the_versions_lambda_gets() -> None:
    dev = pins(DEV_LOCK)
    for name, version in {**pins(LAYER_LOCK), **pins(GOOGLE_LOCK)}.items():
        assert dev.get(name, version) == version, f"{name}: {STALE}"
    assert all("--hash=sha256:" in lock.read_text() for lock in (LAYER_LOCK, GOOGLE_LOCK, DEV_LOCK, TOOLS_LOCK))


def test_the_pruned_google_client_still_builds_calendar_v3_from_its_static_document(tmp_path: Path) -> None:
    """functions/google/Makefile's prune, run on a copy of the installed client library."""
    package = Path(googleapiclient.__file__).parent
    shutil.copytree(package, tmp_path / "googleapiclient")
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "functions/google/Makefile"), "prune", f"DIR={tmp_path}"], check=True
    )
    documents = sorted(p.name for p in (tmp_path / "googleapiclient/discovery_cache/documents").iterdir())
    assert documents == ["calendar.v3.json"]
    code = textwrap.dedent(
        """
        import sys
        from googleapiclient.discovery import build
        from googleapiclient.errors import UnknownApiNameOrVersion
        import googleapiclient
        assert googleapiclient.__file__.startswith(sys.argv[1]), googleapiclient.__file__
        service = build("calendar", "v3", static_discovery=True, cache_discovery=False, developerKey="k")
        assert service.events().list(calendarId="primary").uri.startswith("https://www.googleapis.com/calendar/v3/")
        try:
            build("drive", "v3", static_discovery=True, cache_discovery=False, developerKey="k")
        except UnknownApiNameOrVersion:
            print("ok")
        """
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def build_dir(tmp_path: Path, own_google: int, layer: int) -> Path:
    """A fake ``.aws-sam/build`` with a layer and two functions of the given sizes (bytes)."""
    (tmp_path / "template.yaml").write_text(
        textwrap.dedent(
            """
            Globals:
              Function:
                Layers: [!Ref TeamcalLayer]
            Resources:
              TeamcalLayer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: TeamcalLayer}}
              GoogleFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: GoogleFunction}}
              TokensFunction: {Type: AWS::Serverless::Function, Properties: {CodeUri: TokensFunction}}
            """
        )
    )
    for name, size in (("TeamcalLayer", layer), ("GoogleFunction", own_google), ("TokensFunction", 1000)):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "blob").write_bytes(b"\0" * size)
    return tmp_path


@pytest.mark.parametrize(
    ("own_google", "layer", "problems"),
    [
        (29 * sizes.MIB, 90 * sizes.MIB, {}),
        (31 * sizes.MIB, 10 * sizes.MIB, {"GoogleFunction": ["own package above 30 MiB"]}),
        (
            29 * sizes.MIB,
            124 * sizes.MIB,
            {"GoogleFunction": ["total above 125 MiB"]},
        ),
        (
            1 * sizes.MIB,
            126 * sizes.MIB,
            {"GoogleFunction": ["total above 125 MiB"], "TokensFunction": ["total above 125 MiB"]},
        ),
    ],
)
def test_the_size_budgets(tmp_path: Path, own_google: int, layer: int, problems: dict[str, list[str]]) -> None:
    rows = sizes.measure(build_dir(tmp_path, own_google, layer))
    assert {name: (own, layers) for name, own, layers, _ in rows} == {
        "GoogleFunction": (own_google, layer),
        "TokensFunction": (1000, layer),
    }
    assert {name: found for name, *_, found in rows if found} == problems
