"""What a pricing rule sees: the resource, and plan-wide lookups beyond its own inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from plan.cost.model import Charge
from plan.runner import Plan, PlannedResource


@dataclass(frozen=True)
class Context:
    """Plan-wide lookups a rule may need beyond the resource's own inputs."""

    plan: Plan
    by_urn: dict[str, PlannedResource]

    def dependencies(self, res: PlannedResource, type_: str) -> list[PlannedResource]:
        """The resources of `type_` that `res` depends on (a node group's launch template, say)."""
        found = (self.by_urn.get(urn) for urn in res.depends_on)
        return [d for d in found if d is not None and d.type == type_]

    def of_cloud(self, cloud: str | None, type_: str) -> Iterator[PlannedResource]:
        return (r for r in self.plan.resources if r.cloud == cloud and r.type == type_)


Rule = Callable[[PlannedResource, Context], list[Charge]]
