"""Cold-start import cost per function, paired with the floor (a benchmark script, not a test).

The floor is ``import boto3, aws_lambda_powertools.event_handler, pydantic``: what any function of
this stack imports at least. For every ``functions/<name>/app.py`` (with that function's own
environment from template.yaml) each round runs, in fresh processes and back to back, the floor and
``import functions.<name>.app`` (which one first alternates between rounds), and takes the ratio of
the two wall times. A pair shares the machine's load of that moment, so the ratio is steadier than
either time on a shared machine; the table shows the median over the rounds (goal: API functions
<= 1.2x, Google <= 1.5x) and the median milliseconds.

What it measures is the import: a REST function defers its routes' modules and Powertools'
validation to the first request that needs them, or under SnapStart to the before-snapshot hook
(``teamcal.api.warm``), which this bench does not run. On a shared machine prefer ``--cpu``.

    .venv/bin/python -m bench.cold_start [--rounds 9] [--cpu] [--only calendars,events]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from devstack.template import Template

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import boto3, aws_lambda_powertools.event_handler, pydantic"
GOALS = {"functions.google.app": 1.5}
DEFAULT_GOAL = 1.2
CPU = False
#: What enable_validation costs by itself: Powertools' OpenAPI modules and one model's schema.
FLOOR_VALIDATING = (
    FLOOR + "\nfrom aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from pydantic import BaseModel\nclass M(BaseModel):\n    a: int\n"
    "app = APIGatewayRestResolver(enable_validation=True)\n@app.post('/m')\ndef m(body: M) -> M:\n    return body\n"
)


def wall_ms(code: str, env: dict[str, str]) -> float:
    """Time of ``python -c code`` in a fresh process, in milliseconds: wall time, or with
    ``--cpu`` the process's CPU time (user + system), which a loaded machine inflates far less."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, code)
    if CPU:
        return (usage.ru_utime + usage.ru_stime) * 1000
    return (time.perf_counter() - start) * 1000


def paired(code: str, env: dict[str, str], floor_env: dict[str, str], rounds: int) -> tuple[float, float, float]:
    """(median ratio code/floor, median code ms, median floor ms) over ``rounds`` pairs."""
    ratios, times, floors = [], [], []
    for r in range(rounds):
        if r % 2:
            mine, floor = wall_ms(code, env), wall_ms(FLOOR, floor_env)
        else:
            floor, mine = wall_ms(FLOOR, floor_env), wall_ms(code, env)
        ratios.append(mine / floor)
        times.append(mine)
        floors.append(floor)
    return statistics.median(ratios), statistics.median(times), statistics.median(floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", default="", help="comma-separated function folder names")
    parser.add_argument("--cpu", action="store_true", help="CPU time (user + system) instead of wall time")
    args = parser.parse_args()
    global CPU
    CPU = args.cpu
    tpl = Template.from_file(stack="bench")
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    # This checkout's layer first (a .venv's editable install may point at another checkout).
    path = f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'teamcal'}"
    base.update({"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": path, "POWERTOOLS_TRACE_DISABLED": "true"})
    functions = {tpl.function_module(lid): lid for lid, _ in tpl.of_type("AWS::Serverless::Function")}
    wanted = {f"functions.{name}.app" for name in args.only.split(",") if name}
    what = "CPU time" if CPU else "wall time"
    print(f"python {sys.version.split()[0]}, {args.rounds} interleaved pairs (floor, function) per function, {what}")
    print(f"floor: {FLOOR}")
    print(f"{'function':<32}{'ratio':>7}{'goal':>6}{'ms':>7}{'floor ms':>10}")
    if not wanted:
        ratio, ms, floor = paired(FLOOR_VALIDATING, base, base, args.rounds)
        print(f"{'(floor + validating resolver)':<32}{ratio:6.2f}x{'':6}{ms:7.0f}{floor:10.0f}", flush=True)
    for module, logical_id in sorted(functions.items()):
        if wanted and module not in wanted:
            continue
        env = {**base, **tpl.function_environment(logical_id)}
        ratio, ms, floor = paired(f"import {module}", env, base, args.rounds)
        goal = GOALS.get(module, DEFAULT_GOAL)
        mark = "" if ratio <= goal else "  above goal"
        print(f"{module:<32}{ratio:6.2f}x{goal:5.1f}x{ms:7.0f}{floor:10.0f}{mark}", flush=True)


if __name__ == "__main__":
    main()
