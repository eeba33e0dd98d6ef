"""`python -m infra.plan --stack NAME [--json FILE] [--markdown FILE] [--render-k8s DIR] [--diff BASE]`:
the offline plan of a stack, checked against the policy rules.

Exit codes: 0 planned; 2 invalid project/stack config (the message names each bad key); 1 mandatory
policy violations (the reports are written first).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from infra import config
from infra.plan import diff, manifests, markdown, policy, report, runner, stackfile
from policy.engine import Finding

EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID_CONFIG = 0, 1, 2


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.plan",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (default: .)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="write a pull-request comment")
    parser.add_argument("--render-k8s", type=Path, metavar="DIR", help="write each Kubernetes object as YAML")
    parser.add_argument("--diff", type=Path, metavar="BASE", help="compare with a plan written by --json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    console, errors = Console(), Console(stderr=True)
    try:
        files = stackfile.load(args.cwd, args.stack)
        plan = runner.run(files, args.stack)
    except stackfile.StackFileError as exc:
        return _invalid(errors, exc)
    except runner.ProgramFailedError as exc:
        if isinstance(exc.cause, config.ConfigError):
            return _invalid(errors, exc.cause)
        raise
    cfg = config.parse(config.read_raw(files.config.get), stack=args.stack)
    findings = policy.check(plan, cfg)
    report.print_plan(plan, cfg, console)
    policy.print_findings(findings, console)
    doc = to_json(plan, findings)
    changes = diff.compare(diff.load(args.diff), doc) if args.diff else None
    if changes is not None:
        report.print_diff(changes, console)
    _write(args, console, doc, plan, markdown.render(plan, cfg, findings, changes))
    return EXIT_VIOLATIONS if policy.mandatory(findings) else EXIT_OK


def _write(
    args: argparse.Namespace, console: Console, doc: dict[str, object], plan: runner.Plan, md: str
) -> None:
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        console.print(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(md + "\n")
        console.print(f"wrote {args.markdown}")
    if args.render_k8s:
        written = manifests.write(plan, args.render_k8s)
        console.print(f"wrote {len(written)} Kubernetes manifest(s) under {args.render_k8s}")


def _invalid(errors: Console, exc: Exception) -> int:
    errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return EXIT_INVALID_CONFIG


def to_json(plan: runner.Plan, findings: list[Finding]) -> dict[str, object]:
    return {
        "stack": plan.stack,
        "project": plan.project,
        "resources": [r.to_json() for r in plan.resources],
        "outputs": plan.public_outputs(),
        "violations": [f.to_json() for f in findings],
    }


if __name__ == "__main__":
    sys.exit(main())
