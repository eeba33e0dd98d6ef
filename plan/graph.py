"""`--graph FILE`: the plan's resource dependency graph, clustered by cloud and component.

Nodes are the resources that exist in the cloud (custom resources); components are nested clusters, so the
parent relation is the nesting. An edge `a -> b` means `b` waits for `a`: a dependency, or the provider of
`b` when that provider itself waits for something (a Kubernetes provider for its node pools). The edges of
the critical path are bold red. Edges implied by others are left out (the transitive reduction), so the
graph shows what waits for what without a line from every API to everything. `.dot` is written by the
`graphviz` package alone; `.svg` and `.png` need Graphviz's `dot` binary (Debian package `graphviz`).
"""

from __future__ import annotations

import graphlib
import itertools
import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import graphviz

from plan.components import label
from plan.runner import Plan, PlannedResource

FORMATS = ("dot", "svg", "png")
CLOUD_COLOURS = {"aws": "#fff4e5", "gcp": "#e8f0fe", "azure": "#e5f3fb"}


class GraphError(Exception):
    """The graph cannot be written: an unknown format, or no `dot` binary for svg/png."""


def _node_label(res: PlannedResource) -> str:
    # DOT's own line-break escape, not a raw newline in the quoted label.
    return f"{res.name}\\n{res.type.rsplit(':', 1)[-1]}"


def _edges(plan: Plan) -> set[tuple[str, str]]:
    """(waited-for, waiting) pairs among custom resources."""
    by_urn = plan.by_urn()
    edges = {(d, r.urn) for r in plan.resources if r.custom for d in r.depends_on if d in by_urn}
    for res in plan.resources:
        provider = by_urn.get(res.provider or "")
        # A provider nobody waits on adds an edge to every resource of its cloud and says nothing.
        if res.custom and provider is not None and provider.depends_on:
            edges.add((provider.urn, res.urn))
    return {(a, b) for a, b in edges if by_urn[a].custom}


def reduced(edges: set[tuple[str, str]], keep: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The transitive reduction of an acyclic edge set: `a -> c` goes when `a -> b -> ... -> c` says the
    same (every component waiting on the project APIs would otherwise hide the graph). `keep` stays."""
    preds: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        preds[b].add(a)
    upstream: dict[str, set[str]] = {}
    for node in graphlib.TopologicalSorter(preds).static_order():
        upstream[node] = set().union(*(upstream[p] | {p} for p in preds[node])) if preds[node] else set()
    return {
        (a, b) for a, b in edges if (a, b) in keep or not any(a in upstream[p] for p in preds[b] if p != a)
    }


def build(plan: Plan, highlight: Iterable[tuple[str, str]] = ()) -> graphviz.Digraph:
    """The graph: one cluster per cloud, nested clusters per component, critical edges in `highlight`."""
    by_urn = plan.by_urn()
    # URNs hold `:`, which DOT reads as node:port in an edge: nodes get plain ids instead.
    ids = {r.urn: f"r{i}" for i, r in enumerate(plan.resources)}
    dot = graphviz.Digraph(
        plan.stack, graph_attr={"rankdir": "LR", "fontname": "Helvetica", "compound": "true"}
    )
    dot.attr("node", shape="box", style="rounded", fontname="Helvetica", fontsize="10")
    tree: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for res in plan.resources:
        tree[res.parent if res.parent in by_urn else None].append(res)
    for cloud in sorted({r.cloud or "cross-cloud" for r in plan.resources if r.custom}):
        with dot.subgraph(name=f"cluster_{cloud}") as sub:
            sub.attr(label=cloud, style="filled", fillcolor=CLOUD_COLOURS.get(cloud, "#f3f3f3"))
            for root in tree[None]:
                if (root.cloud or "cross-cloud") == cloud:
                    _add(sub, root, tree, ids)
    critical = set(highlight)
    for a, b in sorted(reduced(_edges(plan), critical)):
        style = {"color": "red", "penwidth": "2.5"} if (a, b) in critical else {"color": "#555555"}
        dot.edge(ids[a], ids[b], **style)
    return dot


def _add(
    graph: graphviz.Digraph,
    res: PlannedResource,
    tree: dict[str | None, list[PlannedResource]],
    ids: dict[str, str],
) -> None:
    if res.custom:
        graph.node(ids[res.urn], _node_label(res), tooltip=res.type)
    if not tree[res.urn]:
        return
    if res.custom:
        # A custom resource with children (rare): they sit beside it, not inside it.
        for child in tree[res.urn]:
            _add(graph, child, tree, ids)
        return
    with graph.subgraph(name=f"cluster_{ids[res.urn]}") as sub:
        sub.attr(label=label(res), style="rounded,filled", fillcolor="white")
        for child in tree[res.urn]:
            _add(sub, child, tree, ids)


def critical_edges(urns: Iterable[str]) -> set[tuple[str, str]]:
    """The edges along a critical path given as its resources' URNs in order."""
    path = list(urns)
    return set(itertools.pairwise(path))


def write(dot: graphviz.Digraph, path: Path) -> None:
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise GraphError(f"--graph {path}: expected a file ending in {', '.join('.' + f for f in FORMATS)}")
    if fmt == "dot":
        path.write_text(dot.source)
        return
    if shutil.which("dot") is None:
        raise GraphError(
            f"--graph {path}: rendering {fmt} needs Graphviz's `dot` binary (Debian/Ubuntu: apt-get install "
            "graphviz; macOS: brew install graphviz); a .dot file needs nothing"
        )
    path.write_bytes(dot.pipe(format=fmt))
