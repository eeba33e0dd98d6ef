"""Wall time of the offline plan per stack: `uv run python benchmarks/plan_time.py [--repeat N]`.

Each stack is planned in a fresh interpreter (as `python -m plan` would be) and also in-process
after a warm-up, so import cost and program cost show separately. Goal: prod <= 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from plan import runner, stackfile

ROOT = Path(__file__).resolve().parents[1]


def cold(stack: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "plan", "--stack", stack], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - start


def warm(stack: str) -> float:
    files = stackfile.load(ROOT, stack)
    start = time.perf_counter()
    plan = runner.run(files, stack)
    elapsed = time.perf_counter() - start
    print(f"  {stack}: {sum(r.custom for r in plan.resources)} resources")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"Python {platform.python_version()}, {cpus} CPUs available")
    for stack in args.stacks:
        warm(stack)
    for stack in args.stacks:
        colds = [cold(stack) for _ in range(args.repeat)]
        warms = [warm(stack) for _ in range(args.repeat)]
        print(
            f"{stack:5s} cold (new process, CLI) median {statistics.median(colds):.2f} s"
            f" | program only median {statistics.median(warms):.2f} s  (n={args.repeat})"
        )


if __name__ == "__main__":
    main()
