"""The plan's human report: what would be created, per cloud and component, and the key settings."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.catalog import CLOUDS, pick
from infra.config import StackConfig
from plan.diff import Diff
from plan.runner import Plan, PlannedResource

CROSS_CLOUD = "cross-cloud"


def settings_table(cfg: StackConfig) -> Table:
    table = Table(title="Key settings", title_justify="left")
    for column in ("cloud", "region", "kubernetes", "system pool", "GPU pools"):
        table.add_column(column)
    for cloud in cfg.clouds:
        section = cfg.cloud_section(cloud)
        region = section.region_name()
        pools = []
        for pool in cfg.pools_on(cloud):
            offer = pick(pool.gpu_for(cloud), cloud, region, pool.gpus_per_node)
            machine = offer.machine_type if offer else "?"
            kind = "spot" if pool.spot else "on-demand"
            pools.append(
                f"{pool.name}: {pool.gpu_for(cloud)} on {machine}, {pool.min_nodes}-{pool.max_nodes} {kind}"
            )
        sp = section.system_pool
        table.add_row(
            cloud,
            region,
            section.kubernetes_version,
            f"{sp.machine_type} x{sp.min_nodes}-{sp.max_nodes}",
            "\n".join(pools),
        )
    return table


def _top_component(res: PlannedResource, by_urn: dict[str, PlannedResource]) -> str:
    """The outermost component a resource sits in (itself, if it is one at the top)."""
    current = res
    while current.parent is not None and current.parent in by_urn:
        current = by_urn[current.parent]
    return f"{current.name} ({current.type})"


def resources_tree(plan: Plan) -> Tree:
    by_urn = plan.by_urn()
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for res in plan.resources:
        if res.custom:
            counts[res.cloud or CROSS_CLOUD][_top_component(res, by_urn)][res.type] += 1
    root = Tree(f"[bold]{plan.project}/{plan.stack}[/]: {sum(r.custom for r in plan.resources)} resources")
    for cloud in [*CLOUDS, CROSS_CLOUD]:
        if cloud not in counts:
            continue
        total = sum(sum(c.values()) for c in counts[cloud].values())
        branch = root.add(f"[bold cyan]{cloud}[/] ({total})")
        for component, types in sorted(counts[cloud].items()):
            node = branch.add(f"{component} ({sum(types.values())})")
            for type_, n in sorted(types.items()):
                node.add(f"{n} x {type_}")
    return root


def print_plan(plan: Plan, cfg: StackConfig, console: Console) -> None:
    console.print(resources_tree(plan))
    console.print(settings_table(cfg))
    if cfg.waivers:
        console.print("[bold yellow]Waivers[/]")
        for w in cfg.waivers:
            console.print(f"  {w.control} on {', '.join(w.clouds)}: {w.reason}")
    outputs = Table(title="Stack outputs", title_justify="left")
    outputs.add_column("key")
    outputs.add_column("value", overflow="fold")
    for key, value in plan.public_outputs().items():
        outputs.add_row(key, escape(str(value)))
    console.print(outputs)


def print_diff(diff: Diff, console: Console) -> None:
    console.print(
        f"[bold]Against the base plan:[/] {len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed"
    )
    for key in diff.added:
        console.print(f"  [green]+[/] {escape(key[1])} ({escape(key[0])})")
    for key in diff.removed:
        console.print(f"  [red]-[/] {escape(key[1])} ({escape(key[0])})")
    for change in diff.changed:
        paths = ", ".join(p for p, _, _ in change.paths)
        console.print(f"  [yellow]~[/] {escape(change.name)} ({escape(change.type)}): {escape(paths)}")
    for warning in diff.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
