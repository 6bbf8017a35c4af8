"""Cold-start import cost per function (a benchmark script, not a test).

For every ``functions/<name>/app.py`` it runs ``python -c "import functions.<name>.app"`` in fresh
processes and prints the median wall time next to the floor
``import boto3, aws_lambda_powertools.event_handler, pydantic``, and the ratio (goal: <= 1.2x).
Each process gets that function's own environment from template.yaml.

    .venv/bin/python -m bench.cold_start [--runs 15]
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
# What any validating resolver costs on top of the floor: `import pydantic` alone is lazy, and
# enable_validation loads Powertools' OpenAPI modules and builds a model's schema.
FLOOR_VALIDATING = (
    FLOOR + "\nfrom aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from pydantic import BaseModel\nclass M(BaseModel):\n    a: int\n"
    "app = APIGatewayRestResolver(enable_validation=True)\n@app.post('/m')\ndef m(body: M) -> M:\n    return body\n"
)


def median_ms(code: str, env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tpl = Template.from_file(stack="bench")
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base.update({"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "true"})
    floor = median_ms(FLOOR, base, args.runs)
    nothing = median_ms("pass", base, args.runs)
    print(f"python {sys.version.split()[0]}, {args.runs} fresh processes each, median wall time")
    print(f"{'interpreter alone':<28}{nothing:8.0f} ms")
    print(f"{'floor (' + FLOOR[7:] + ')':<28}{floor:8.0f} ms")
    validating = median_ms(FLOOR_VALIDATING, base, args.runs)
    print(f"{'floor + validating resolver':<28}{validating:8.0f} ms  {validating / floor:5.2f}x floor")
    functions = {tpl.function_module(lid): lid for lid, _ in tpl.of_type("AWS::Serverless::Function")}
    for module, logical_id in sorted(functions.items()):
        env = {**base, **tpl.function_environment(logical_id)}
        ms = median_ms(f"import {module}", env, args.runs)
        print(f"{module:<28}{ms:8.0f} ms  {ms / floor:5.2f}x floor")


if __name__ == "__main__":
    main()
