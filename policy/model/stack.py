"""What a rule sees: each resource of a stack (type, inputs, options, dependencies), the stack itself, and
the violation a rule reports on a resource. The offline plan (`plan.policy`) and the policy pack
(`policy.pack`) both build these, from the mock engine's registrations and from the analyzer's arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from policy.model.props import Props, canonical

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
