"""The plan's report flags: `--markdown FILE`, `--render-k8s DIR` and `--diff BASE.json`, kept apart from
the core CLI like the estimate flags (`estimates_cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from infra.config import StackConfig
from plan import diff, manifests, markdown, report
from plan.notices import Notice
from plan.runner import Plan
from policy.engine import Finding


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reports")
    group.add_argument(
        "--markdown", type=Path, metavar="FILE", help="write a pull-request comment (Markdown)"
    )
    group.add_argument(
        "--render-k8s", type=Path, metavar="DIR", help="write each Kubernetes object as YAML, one file each"
    )
    group.add_argument(
        "--diff",
        type=Path,
        metavar="BASE",
        help="compare with another plan's --json (added, removed, changed)",
    )


def run(
    args: argparse.Namespace,
    plan: Plan,
    *,
    cfg: StackConfig,
    findings: list[Finding],
    notes: list[Notice],
    doc: dict[str, Any],
    console: Console,
) -> None:
    """Print the diff and write the files the flags ask for; `doc` is the plan's JSON document."""
    changes = diff.compare(diff.load(args.diff), doc) if args.diff else None
    if changes is not None:
        report.print_diff(changes, console)
    if args.markdown:
        args.markdown.write_text(markdown.render(plan, cfg, findings, notes, changes) + "\n")
        console.print(f"wrote {args.markdown}")
    if args.render_k8s:
        written = manifests.write(plan, args.render_k8s)
        console.print(f"wrote {len(written)} Kubernetes manifest(s) under {args.render_k8s}")
