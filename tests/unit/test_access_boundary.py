"""The access gate is the only place that decides (issue 11): no other module of the layer or of
the functions reads a token's scope or flags, a calendar's sharing settings or an item's
``private`` / ``readOnly`` mark in a condition. Records' lifecycle (``active``: exists and is not
being deleted) and a synchronization's protocol ``status`` are not access decisions and are not
checked here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "teamcal" / "teamcal"
#: The attributes an access decision reads: the principal's scope and flags, the calendar's
#: sharing settings, an item's marks.
DECISION_ATTRIBUTES = frozenset(
    {
        "admin",
        "all_calendars",
        "calendar_ids",
        "edit_calendars",
        "delete_calendars",
        "edit_sources",
        "delete_sources",
        "public_calendar",
        "calendar_editable",
        "events_editable",
        "event_reporter_edit",
        "perm_calendar_edit",
        "perm_events_edit",
        "perm_calendar_view",
        "private",
        "read_only",
    }
)
#: Where such reads belong: the gate, and the types that define (and validate) those attributes.
ALLOWED = (LAYER / "access.py", LAYER / "models", LAYER / "partners" / "protocol.py")


def _conditions(tree: ast.AST) -> list[ast.expr]:
    out: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.IfExp | ast.While | ast.Assert):
            out.append(node.test)
        elif isinstance(node, ast.comprehension):
            out.extend(node.ifs)
        elif isinstance(node, ast.BoolOp):
            out.extend(node.values)
    return out


def decisions_outside_the_gate(files: list[Path], root: Path = ROOT) -> list[str]:
    """``path:line: .attribute`` (relative to ``root``) for every condition outside
    :data:`ALLOWED` reading one of :data:`DECISION_ATTRIBUTES`."""
    found: set[str] = set()
    for path in files:
        if any(path == allowed or allowed in path.parents for allowed in ALLOWED):
            continue
        for condition in _conditions(ast.parse(path.read_text(encoding="utf-8"))):
            for node in ast.walk(condition):
                if isinstance(node, ast.Attribute) and node.attr in DECISION_ATTRIBUTES:
                    found.add(f"{path.relative_to(root)}:{node.lineno}: .{node.attr}")
    return sorted(found)


def test_no_module_but_the_gate_decides_access() -> None:
    files = sorted(LAYER.rglob("*.py")) + sorted((ROOT / "functions").rglob("*.py"))
    assert len(files) > 50
    assert decisions_outside_the_gate(files) == []


def test_the_check_reports_a_decision_written_in_a_service(tmp_path: Path) -> None:
    service = tmp_path / "service.py"
    service.write_text(
        "def f(principal, calendar, events):\n"
        "    if principal.admin or calendar.public_calendar:\n"
        "        return [e for e in events if not e.private]\n"
        "    return principal.user\n",
        encoding="utf-8",
    )
    assert decisions_outside_the_gate([service], tmp_path) == [
        "service.py:2: .admin",
        "service.py:2: .public_calendar",
        "service.py:3: .private",
    ]
