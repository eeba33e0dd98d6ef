"""A control of docs/controls.md, the rules that check it, and `CONTROLS`, the registry every module of
`policy.controls` adds its controls to.

A resource rule is a pure function `(type, props) -> list[Violation]`; a stack rule is a pure function
`(stack) -> list[Violation]` over every resource of the stack (for checks that span resources, like "every
bucket has a public access block"). Rules are registered on their control with the decorators below;
`policy.engine` runs them for the offline plan, `policy.pack` for the Pulumi policy pack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from infra import controls
from policy.model.props import Props, canonical
from policy.model.stack import Stack, Violation


class Advisory(str):
    """A message a resource rule yields for a finding that advises only (with the reason why)."""

    reason: str

    def __new__(cls, message: str, reason: str) -> Advisory:
        self = super().__new__(cls, message)
        self.reason = reason
        return self


ResourceRule = Callable[[str, Props], list[Violation]]
StackRule = Callable[[Stack], list[Violation]]


@dataclass
class Control:
    id: str
    title: str
    description: str
    advisory: bool = False
    """Advisory by nature: its findings never fail a plan or an update."""
    types: set[str] = field(default_factory=set)
    resource_rules: list[ResourceRule] = field(default_factory=list)
    stack_rules: list[StackRule] = field(default_factory=list)


CONTROLS: dict[str, Control] = {}
"""Every registered control by ID; complete once `policy.controls` is imported."""


def control(id_: str, title: str, description: str, *, advisory: bool = False) -> str:
    """Register a control of docs/controls.md; returns its ID for the rule decorators."""
    if id_ in CONTROLS:
        raise ValueError(f"control {id_} registered twice")
    if id_ not in controls.IDS:
        raise ValueError(f"control {id_} is not in infra/controls.py, which waivers are checked against")
    CONTROLS[id_] = Control(id_, title, description, advisory)
    return id_


def resource_rule(
    control_id: str, *types: str, match: Callable[[str], bool] | None = None
) -> Callable[[Callable[[str, Props], Iterable[str]]], ResourceRule]:
    """Register `fn(type, props) -> messages` for the given type tokens (any case, either S3 family); a
    message that is an `Advisory` makes an advisory finding. `match` selects types by predicate instead
    (every namespaced Kubernetes object, say)."""
    wanted = frozenset(canonical(t) for t in types)

    def register(fn: Callable[[str, Props], Iterable[str]]) -> ResourceRule:
        @functools.wraps(fn)
        def rule(type_: str, props: Props) -> list[Violation]:
            if not (match(type_) if match else canonical(type_) in wanted):
                return []
            return [
                Violation(control_id, str(m), advisory=getattr(m, "reason", None)) for m in fn(type_, props)
            ]

        CONTROLS[control_id].types |= wanted
        CONTROLS[control_id].resource_rules.append(rule)
        return rule

    return register


def stack_rule(control_id: str) -> Callable[[StackRule], StackRule]:
    """Register `fn(stack) -> violations` on the control."""

    def register(fn: StackRule) -> StackRule:
        CONTROLS[control_id].stack_rules.append(fn)
        return fn

    return register
