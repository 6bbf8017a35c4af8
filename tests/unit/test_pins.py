"""Pins that code leans on (issue 13): python-dateutil's private rrule internals, hooked by
teamcal.recurrence.engine._HorizonRule, and the version every lock file installs.

When one of these fails after a dependency update, read the message: it names what to re-check
before the pin (and the hashes below) may move."""

from __future__ import annotations

import hashlib
import inspect
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from dateutil import rrule

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = ROOT / "layers" / "teamcal" / "requirements.txt"

#: sha256 of the source of the dateutil functions _HorizonRule depends on, in the pinned version.
DATEUTIL_INTERNALS = {
    "rrule._iter": "cfbde4a5a77f8960b1102b3d3c47be7f804c3fd8ffddf36e26567101babcca68",
    "_iterinfo.rebuild": "4772f90f2288d725c10d98aedc8ced04f07502fe5688680d51b2337ee4cc594c",
}
RECHECK = (
    "python-dateutil's private rrule internals changed: teamcal.recurrence.engine._HorizonRule counts "
    "reads of rrule._byeaster (one when _iter starts, one per _iterinfo.rebuild) to bound an expansion. "
    "Re-check that, and tests/unit/test_recurrence_bounds.py, before updating the pin and these hashes."
)


def pinned(name: str) -> str:
    """The exact version ``name==X`` pinned in the layer's requirements.txt."""
    match = re.search(rf"^{re.escape(name)}==(\S+)", LAYER_REQUIREMENTS.read_text(), re.MULTILINE)
    assert match, f"{name} is not pinned exactly (==) in {LAYER_REQUIREMENTS}"
    return match.group(1)


def test_dateutil_is_pinned_exactly_and_installed_at_the_pin() -> None:
    assert version("python-dateutil") == pinned("python-dateutil"), RECHECK


def test_the_dateutil_internals_the_recurrence_engine_hooks_are_unchanged() -> None:
    functions = {"rrule._iter": rrule.rrule._iter, "_iterinfo.rebuild": rrule._iterinfo.rebuild}
    for name, function in functions.items():
        digest = hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
        assert digest == DATEUTIL_INTERNALS[name], f"{name}: {RECHECK}"


def test_rebuild_reads_byeaster_once_per_call() -> None:
    """The behaviour itself: iterating a plain daily rule over three months reads _byeaster once at
    the start and once per month rebuild."""
    reads = []

    class Counting(rrule.rrule):  # type: ignore[misc]
        @property
        def _byeaster(self) -> None:
            reads.append(1)
            return None

        @_byeaster.setter
        def _byeaster(self, value: object) -> None:
            pass

    import datetime as dt

    rule = Counting(freq=rrule.DAILY, dtstart=dt.datetime(2026, 1, 1), until=dt.datetime(2026, 3, 31), cache=False)
    assert len(list(rule)) == 90
    assert len(reads) == 1 + 3 + 1, RECHECK  # _iter, Jan/Feb/Mar rebuilds, the rebuild into April
