"""`python -m plan --stack NAME [--json FILE] [--cost] [--critical-path] [--graph FILE]
[--markdown FILE] [--render-k8s DIR] [--diff BASE]`: the offline plan of a stack, checked against the
policy rules.

Exit codes: 0 planned; 2 invalid project/stack config (the message names each bad key), or an estimate
that cannot be made (an unpriced machine type, no `dot` for --graph .svg); 1 mandatory policy violations
(the reports are written first).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from rich.console import Console

from infra import config, versions
from plan import estimates_cli, notices, policy, report, reports_cli, runner, stackfile
from policy.engine import Finding

EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID_CONFIG = 0, 1, 2


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m plan",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (default: .)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON")
    estimates_cli.add_arguments(parser)
    reports_cli.add_arguments(parser)
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
    notes = notices.collect(plan, cfg, versions.as_of())
    report.print_plan(plan, cfg, console)
    policy.print_findings(findings, console)
    notices.print_notices(notes, console)
    try:
        estimates = estimates_cli.run(args, plan, console)
    except estimates_cli.ERRORS as exc:
        return _invalid(errors, exc)
    doc = {**to_json(plan, findings), "notices": [n.to_json() for n in notes], **estimates}
    reports_cli.run(args, plan, cfg=cfg, findings=findings, notes=notes, doc=doc, console=console)
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        console.print(f"wrote {args.json}")
    return EXIT_VIOLATIONS if policy.mandatory(findings) else EXIT_OK


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
    # A one-shot process: no cyclic garbage collection while it runs (see runner._no_cyclic_gc; here it
    # also spares the report a collection of everything the run left), and none at exit either, where the
    # interpreter's final collections would walk every SDK object loaded (1-2 s for prod) to free memory
    # that the process's exit hands back anyway.
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)
