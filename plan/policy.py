"""The offline plan's policy check: the policy pack's rules (`policy.controls`) on every captured resource,
with the stack's waivers, printed grouped by control."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape

from infra.config import StackConfig
from plan.runner import Plan
from policy import engine
from policy.controls import CONTROLS
from policy.model.stack import Resource, Stack


def stack_of(plan: Plan, protect: bool | None) -> Stack:
    """The plan as the rules see a stack: inputs as props, resource options as captured."""
    return Stack(
        tuple(
            Resource(
                type=r.type,
                name=r.name,
                props=r.inputs,
                urn=r.urn,
                cloud=r.cloud,
                parent=r.parent,
                depends_on=frozenset(r.depends_on),
                protect=r.protect,
                retain_on_delete=r.retain_on_delete,
                property_deps={k: frozenset(v) for k, v in r.property_dependencies.items()},
            )
            for r in plan.resources
        ),
        protect,
    )


def waivers_of(cfg: StackConfig) -> dict[tuple[str, str], str]:
    return {(w.control, cloud): w.reason for w in cfg.waivers for cloud in w.clouds}


def check(plan: Plan, cfg: StackConfig) -> list[engine.Finding]:
    return engine.evaluate(stack_of(plan, cfg.protect), waivers_of(cfg))


def mandatory(findings: list[engine.Finding]) -> list[engine.Finding]:
    return [f for f in findings if f.severity == "mandatory"]


def print_findings(findings: list[engine.Finding], console: Console) -> None:
    if not findings:
        console.print(f"[bold green]Policy:[/] {len(CONTROLS)} controls, no violations")
        return
    grouped: dict[str, list[engine.Finding]] = defaultdict(list)
    for f in findings:
        grouped[f.control].append(f)
    failing = len(mandatory(findings))
    console.print(
        f"[bold]Policy:[/] {failing} mandatory and {len(findings) - failing} advisory finding(s) "
        f"in {len(grouped)} control(s)"
    )
    for control_id, group in sorted(grouped.items()):
        style = "red" if any(f.severity == "mandatory" for f in group) else "yellow"
        console.print(f"[bold {style}]{control_id}[/] {escape(CONTROLS[control_id].title)}")
        for f in group:
            why = f" [dim]({escape(f.reason)})[/]" if f.reason else ""
            console.print(f"  [{style}]{f.severity}[/] {escape(f.resource)}: {escape(f.message)}{why}")
