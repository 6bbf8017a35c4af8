"""Unzipped sizes of what ``make build`` produced (``make sizes``), checked against budgets.

For every function of the built template (.aws-sam/build/template.yaml) it prints the size of the
function's own package, of its layers and the total, in MiB (2**20 bytes; Lambda's limit for a
function and its layers, unzipped, is 250 MiB), and exits 1 when a budget is exceeded:

* every function's total at most half of Lambda's limit (room for the runtime's own growth and
  for new dependencies),
* the Google function's own package at most 30 MiB (its discovery documents pruned to calendar v3).

    .venv/bin/python -m scripts.sizes [--build-dir .aws-sam/build]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack.template import Template, load

ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20
TOTAL_BUDGET_MIB = 125
OWN_BUDGETS_MIB = {"GoogleFunction": 30}


def tree_bytes(path: Path) -> int:
    """Bytes of every regular file under ``path`` (symlinks not followed), as unzipped on Lambda."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def layer_ids(tpl: Template, logical_id: str) -> list[str]:
    """The logical ids of the template's layers a function uses (Globals' or its own Layers)."""
    props = tpl.resources[logical_id].get("Properties") or {}
    layers = props.get("Layers", tpl.data.get("Globals", {}).get("Function", {}).get("Layers", []))
    return [layer["Ref"] for layer in layers if isinstance(layer, dict) and "Ref" in layer]


def measure(build_dir: Path) -> list[tuple[str, int, int, list[str]]]:
    """``(function, own bytes, layers bytes, problems)`` for every function of the build."""
    tpl = Template(load(build_dir / "template.yaml"), stack="sizes")
    rows = []
    for logical_id, _ in sorted(tpl.of_type("AWS::Serverless::Function")):
        own = tree_bytes(build_dir / logical_id)
        layers = sum(tree_bytes(build_dir / layer) for layer in layer_ids(tpl, logical_id))
        problems = []
        if own + layers > TOTAL_BUDGET_MIB * MIB:
            problems.append(f"total above {TOTAL_BUDGET_MIB} MiB")
        if logical_id in OWN_BUDGETS_MIB and own > OWN_BUDGETS_MIB[logical_id] * MIB:
            problems.append(f"own package above {OWN_BUDGETS_MIB[logical_id]} MiB")
        rows.append((logical_id, own, layers, problems))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    args = parser.parse_args()
    if not (args.build_dir / "template.yaml").is_file():
        print(f"no build in {args.build_dir}: run `make build` first", file=sys.stderr)
        return 2
    rows = measure(args.build_dir)
    print(f"{'function':<26}{'own MiB':>9}{'layer MiB':>11}{'total MiB':>11}")
    for name, own, layers, problems in rows:
        flag = "  OVER BUDGET: " + ", ".join(problems) if problems else ""
        print(f"{name:<26}{own / MIB:9.1f}{layers / MIB:11.1f}{(own + layers) / MIB:11.1f}{flag}")
    print(f"budgets: total <= {TOTAL_BUDGET_MIB} MiB each; own package: {OWN_BUDGETS_MIB} (MiB)")
    return 1 if any(problems for *_, problems in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
