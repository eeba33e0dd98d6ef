"""The plan's estimate flags: `--cost`, `--critical-path` and `--graph FILE`, kept apart from the core
CLI so that `plan/__main__.py` only registers them and merges what they add to the JSON document."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from plan import cost, critical_path, graph
from plan.runner import Plan

ERRORS: tuple[type[Exception], ...] = (cost.PriceError, graph.GraphError)
"""Raised by `run` for input the estimates cannot use; the CLI reports them like invalid config."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("estimates")
    group.add_argument(
        "--cost",
        action="store_true",
        help="print the monthly cost estimate (idle: pools at min; busy: at max); adds `cost` to --json",
    )
    group.add_argument(
        "--critical-path",
        action="store_true",
        help="print the estimated fresh `pulumi up` time and its chain; adds `criticalPath` to --json",
    )
    group.add_argument(
        "--graph",
        type=Path,
        metavar="FILE",
        help="write the dependency graph, clustered by cloud and component (.dot, .svg or .png)",
    )


def run(args: argparse.Namespace, plan: Plan, console: Console) -> dict[str, Any]:
    """Print what the flags ask for; return the members they add to the JSON document."""
    doc: dict[str, Any] = {}
    if args.cost:
        estimate = cost.estimate(plan)
        cost.print_estimate(estimate, console)
        doc["cost"] = estimate.to_json()
    if args.critical_path or args.graph:
        analysis = critical_path.analyse(plan)
        if args.critical_path:
            critical_path.print_analysis(analysis, console)
            doc["criticalPath"] = analysis.to_json()
        if args.graph:
            graph.write(graph.build(plan, graph.critical_edges(analysis.total.urns)), args.graph)
            console.print(f"wrote {args.graph}")
    return doc
