"""Run the rules: one control on one resource or on a whole stack, and every control on a stack with the
stack's waivers applied. The offline plan calls `evaluate`; the policy pack calls the per-control parts.

Severity: a finding is mandatory unless its control is advisory by nature, the rule marked it advisory
(with a reason), or the stack waives the control for the resource's cloud (config `waivers`, with a
reason); then it is advisory, still reported, never failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from policy.controls import CONTROLS
from policy.model.control import Control
from policy.model.stack import Resource, Stack, Violation

Severity = Literal["mandatory", "advisory"]
Waivers = Mapping[tuple[str, str], str]
"""(control, cloud) -> the waiver's reason."""


@dataclass(frozen=True)
class Finding:
    control: str
    severity: Severity
    resource: str
    message: str
    cloud: str | None = None
    reason: str | None = None
    """Why the finding is advisory: the waiver's reason, the rule's, or the control's nature."""

    def to_json(self) -> dict[str, str]:
        return {
            "control": self.control,
            "severity": self.severity,
            "resource": self.resource,
            "message": self.message,
        }


def parse_waivers(raw: Any) -> dict[tuple[str, str], str]:
    """Stack config `waivers` ([{control, clouds, reason}]) as a lookup; entries without a reason are
    ignored here because config validation refuses them."""
    found: dict[tuple[str, str], str] = {}
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, Mapping) or not str(entry.get("reason") or "").strip():
            continue
        for cloud in entry.get("clouds") or []:
            found[(str(entry.get("control")), str(cloud))] = str(entry["reason"])
    return found


def check_resource(control: Control, res: Resource) -> list[Violation]:
    return [v.at(res) for rule in control.resource_rules for v in rule(res.type, res.props)]


def check_stack(control: Control, stack: Stack) -> list[Violation]:
    """The control's resource rules on every resource, then its stack rules."""
    found = [v for res in stack.resources for v in check_resource(control, res)]
    return found + [v for rule in control.stack_rules for v in rule(stack)]


def severity(violation: Violation, cloud: str | None, waivers: Waivers) -> tuple[Severity, str | None]:
    control = CONTROLS[violation.control]
    if control.advisory:
        return "advisory", "advisory by nature"
    if cloud is not None and (violation.control, cloud) in waivers:
        return "advisory", f"waived on {cloud}: {waivers[(violation.control, cloud)]}"
    if violation.advisory:
        return "advisory", violation.advisory
    return "mandatory", None


def judge(violations: Iterable[Violation], stack: Stack, waivers: Waivers) -> list[Finding]:
    clouds = {r.urn: r.cloud for r in stack.resources}
    findings = []
    for v in violations:
        cloud = clouds.get(v.urn)
        level, reason = severity(v, cloud, waivers)
        findings.append(Finding(v.control, level, v.resource, v.message, cloud, reason))
    return findings


def evaluate(stack: Stack, waivers: Waivers, controls: Sequence[str] | None = None) -> list[Finding]:
    """Every control (or those named) on the stack, mandatory findings first, then by control."""
    chosen = [CONTROLS[c] for c in controls] if controls else list(CONTROLS.values())
    findings = judge((v for c in chosen for v in check_stack(c, stack)), stack, waivers)
    return sorted(findings, key=lambda f: (f.severity != "mandatory", f.control, f.resource))
