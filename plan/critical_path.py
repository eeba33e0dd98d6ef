"""How long a fresh `pulumi up` takes: the longest path through the plan's dependency graph, weighted by
the typical create times of `plan.create_times`.

Pulumi creates a resource once everything it waits for exists: its dependencies (from Output inputs and
`depends_on`) and its provider (a Kubernetes provider waits for its cluster). A component resource makes no
cloud call and takes 0 s; a dependency on a component waits for all of its children. Everything else runs
in parallel (Pulumi's default), so the longest path is the deploy time. The same is computed for each cloud
alone, and for each cloud's unavoidable chain: the path counting only network, cluster, node-pool and
workload stages. The ratio of the whole stack's estimate to the slowest cloud's unavoidable chain says how
much false or avoidable waiting the program adds.
"""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.catalog import CLOUDS
from plan.create_times import UNAVOIDABLE, create_time
from plan.runner import Plan, PlannedResource

Weight = Callable[[PlannedResource], float]


@dataclass(frozen=True)
class Step:
    resource: PlannedResource
    seconds: float
    finish: float


@dataclass(frozen=True)
class Path:
    seconds: float
    chain: tuple[Step, ...]
    """The resources on the path that take time, in creation order (components left out)."""
    urns: tuple[str, ...] = ()
    """Every resource on the path in order, zero-time ones (providers) included: the graph's red edges."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "chain": [
                {"name": s.resource.name, "type": s.resource.type, "seconds": s.seconds, "finish": s.finish}
                for s in self.chain
            ],
        }


@dataclass(frozen=True)
class Analysis:
    total: Path
    clouds: dict[str, Path] = field(default_factory=dict)
    unavoidable: dict[str, Path] = field(default_factory=dict)

    @property
    def slowest_cloud(self) -> str | None:
        if not self.unavoidable:
            return None
        return max(self.unavoidable, key=lambda c: self.unavoidable[c].seconds)

    @property
    def ratio(self) -> float | None:
        """The whole stack's estimate over the slowest cloud's unavoidable chain."""
        slowest = self.slowest_cloud
        if slowest is None or not self.unavoidable[slowest].seconds:
            return None
        return self.total.seconds / self.unavoidable[slowest].seconds

    def to_json(self) -> dict[str, Any]:
        return {
            **self.total.to_json(),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "slowestCloud": self.slowest_cloud,
            "clouds": {
                c: {**p.to_json(), "unavoidable": self.unavoidable[c].to_json()}
                for c, p in self.clouds.items()
            },
        }


def predecessors(resources: Iterable[PlannedResource]) -> dict[str, set[str]]:
    """What each resource waits for, among `resources`: dependencies, provider, and (for a component)
    its children."""
    nodes = {r.urn: r for r in resources}
    preds: dict[str, set[str]] = {urn: set() for urn in nodes}
    for res in nodes.values():
        preds[res.urn].update(d for d in res.depends_on if d in nodes)
        if res.provider in nodes:
            preds[res.urn].add(res.provider)
        if res.parent in nodes and not nodes[res.parent].custom:
            preds[res.parent].add(res.urn)
    return preds


def longest_path(resources: Iterable[PlannedResource], weight: Weight) -> Path:
    """The heaviest chain of waits through `resources`; raises `graphlib.CycleError` on a cycle."""
    nodes = {r.urn: r for r in resources}
    preds = predecessors(nodes.values())
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for urn in graphlib.TopologicalSorter(preds).static_order():
        # Ties go to the greater URN, so equal paths (two node pools) print the same way every run.
        before = max(preds[urn], key=lambda p: (finish[p], p), default=None)
        finish[urn] = (finish[before] if before else 0.0) + weight(nodes[urn])
        via[urn] = before
    end = max(finish, key=lambda u: (finish[u], u), default=None)
    chain: list[Step] = []
    urns: list[str] = []
    while end is not None:
        res = nodes[end]
        if res.custom:
            urns.append(end)
            if weight(res) > 0:
                chain.append(Step(res, weight(res), finish[end]))
        end = via[end]
    return Path(max(finish.values(), default=0.0), tuple(reversed(chain)), tuple(reversed(urns)))


def _typical(res: PlannedResource) -> float:
    return create_time(res).seconds


def _unavoidable(res: PlannedResource) -> float:
    time = create_time(res)
    return time.seconds if time.stage in UNAVOIDABLE else 0.0


def analyse(plan: Plan) -> Analysis:
    by_cloud: dict[str, list[PlannedResource]] = defaultdict(list)
    for res in plan.resources:
        if res.cloud is not None:
            by_cloud[res.cloud].append(res)
    clouds = [c for c in CLOUDS if c in by_cloud]
    return Analysis(
        total=longest_path(plan.resources, _typical),
        clouds={c: longest_path(by_cloud[c], _typical) for c in clouds},
        unavoidable={c: longest_path(by_cloud[c], _unavoidable) for c in clouds},
    )


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def chain_table(title: str, path: Path) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("finish", justify="right")
    table.add_column("takes", justify="right")
    table.add_column("resource (type)", overflow="fold")
    table.add_column("source", overflow="fold", style="dim")
    for step in path.chain:
        res = step.resource
        table.add_row(
            minutes(step.finish),
            minutes(step.seconds),
            f"{res.name}\n[dim]{res.type}[/]",
            create_time(res).source,
        )
    return table


def print_analysis(analysis: Analysis, console: Console) -> None:
    console.print(
        chain_table(
            f"Critical path of a fresh `pulumi up`: {minutes(analysis.total.seconds)}", analysis.total
        )
    )
    table = Table(title="Per cloud alone", title_justify="left")
    for column in (
        "cloud",
        "estimate",
        "unavoidable chain",
        "chain (network → cluster → node pool → workloads)",
    ):
        table.add_column(column, overflow="fold")
    for cloud, path in analysis.clouds.items():
        chain = analysis.unavoidable[cloud]
        names = " → ".join(s.resource.name for s in chain.chain)
        table.add_row(cloud, minutes(path.seconds), minutes(chain.seconds), names)
    console.print(table)
    if analysis.ratio is not None:
        slowest = analysis.slowest_cloud
        console.print(
            f"ratio: estimate {minutes(analysis.total.seconds)} / {slowest}'s unavoidable chain "
            f"{minutes(analysis.unavoidable[str(slowest)].seconds)} = [bold]{analysis.ratio:.2f}[/]"
        )
