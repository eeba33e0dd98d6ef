"""The vocabulary of the rules: a control, a violation, the resources a rule sees, and the registry.

A resource rule is a pure function `(type, props) -> list[Violation]`; a stack rule is a pure function
`(stack) -> list[Violation]` over every resource of the stack (for checks that span resources, like "every
bucket has a public access block"). Rules are registered on their control with the decorators below;
`policy.engine` runs them for the offline plan, `policy.pack` for the Pulumi policy pack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from infra import controls
from policy.rules.props import Props, canonical

CLOUD_PACKAGES = {"aws": "aws", "gcp": "gcp", "azure-native": "azure"}


@dataclass(frozen=True)
class Violation:
    control: str
    message: str
    resource: str = ""
    """The resource's logical name (filled in by whoever ran the rule)."""
    urn: str = ""
    advisory: str | None = None
    """Why this finding only advises although its control is mandatory (a node agent in kube-system...)."""

    def __str__(self) -> str:
        where = f" {self.resource}" if self.resource else ""
        return f"{self.control}{where}: {self.message}"

    def at(self, resource: Resource) -> Violation:
        return replace(self, resource=resource.name, urn=resource.urn)


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Props
    urn: str = ""
    cloud: str | None = None
    parent: str | None = None
    depends_on: frozenset[str] = frozenset()
    protect: bool = False
    retain_on_delete: bool | None = None
    """None where the caller cannot see it: a policy pack gets `protect` but not `retainOnDelete`."""
    property_deps: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per input (camelCase), the URNs its value came from. `depends_on` is wider: a `depends_on` option
    naming a component adds every resource in it."""

    def linked(self, via: str | None) -> frozenset[str]:
        """The URNs behind input `via` where the caller knows them per input, else every dependency."""
        if via is not None and self.property_deps:
            return self.property_deps.get(via, frozenset())
        return self.depends_on

    @functools.cached_property
    def kind(self) -> str:
        return canonical(self.type)

    def violation(self, control: str, message: str, advisory: str | None = None) -> Violation:
        return Violation(control, message, self.name, self.urn, advisory)


@dataclass(frozen=True)
class Stack:
    """Every resource of a stack, and the stack settings a rule may need."""

    resources: tuple[Resource, ...]
    protect: bool | None = None
    """The stack config's `protect` (stateful resources must be protected); None when not known."""
    _by_urn: dict[str, Resource] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_urn.update({r.urn: r for r in self.resources if r.urn})

    def of(self, *types: str) -> list[Resource]:
        wanted = {canonical(t) for t in types}
        return [r for r in self.resources if r.kind in wanted]

    def deps(self, res: Resource, *types: str, via: str | None = None) -> list[Resource]:
        """What `res` depends on, of the given types: through input `via`, or at all."""
        wanted = {canonical(t) for t in types}
        found = (self._by_urn.get(urn) for urn in res.linked(via))
        return [r for r in found if r is not None and r.kind in wanted]

    def dependents(self, res: Resource, *types: str, via: str | None = None) -> list[Resource]:
        """The resources of the given types that depend on `res`: through their input `via`, or at all."""
        return [r for r in self.of(*types) if res.urn and res.urn in r.linked(via)]


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
    def register(fn: StackRule) -> StackRule:
        CONTROLS[control_id].stack_rules.append(fn)
        return fn

    return register


def urn_types(urn: str) -> list[str]:
    """The type chain of a URN (`urn:pulumi:stack::project::parent$child::name`), outermost first."""
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def cloud_of(urn: str, provider_urn: str | None = None) -> str | None:
    """The cloud a resource belongs to, from its URN's component chain, its own package, or its provider
    (a Kubernetes object belongs to the cloud whose cluster its provider points at)."""
    for type_ in urn_types(urn):
        parts = type_.split(":")
        if parts[0] == "gpu-platform" and len(parts) > 1 and parts[1] in CLOUD_PACKAGES.values():
            return parts[1]
        if parts[0] in CLOUD_PACKAGES:
            return CLOUD_PACKAGES[parts[0]]
        if parts[:2] == ["pulumi", "providers"] and len(parts) > 2 and parts[2] in CLOUD_PACKAGES:
            return CLOUD_PACKAGES[parts[2]]
    return cloud_of(provider_urn) if provider_urn else None


def messages(violations: Sequence[Violation]) -> list[str]:
    return [str(v) for v in violations]


def first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of `keys` present in `mapping`, case-insensitively (Azure add-on names vary in case)."""
    lowered = {k.lower(): v for k, v in mapping.items()} if isinstance(mapping, Mapping) else {}
    return next((lowered[k.lower()] for k in keys if k.lower() in lowered), None)
