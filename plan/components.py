"""Where a planned resource sits in the component tree: the capability it belongs to, for grouping the
cost estimate and clustering the dependency graph."""

from __future__ import annotations

from plan.runner import PlannedResource

WRAPPER_SUFFIXES = (":Platform",)
"""Root components that only tie capabilities together (`gpu-platform:<cloud>:Platform`): grouping by them
would put a whole cloud in one group, so a resource is grouped by the child of such a root instead."""


def ancestors(res: PlannedResource, by_urn: dict[str, PlannedResource]) -> list[PlannedResource]:
    """`res` and its parents, innermost first, up to the root of its tree."""
    chain = [res]
    while chain[-1].parent is not None and chain[-1].parent in by_urn and len(chain) <= len(by_urn):
        chain.append(by_urn[chain[-1].parent])
    return chain


def top_component(res: PlannedResource, by_urn: dict[str, PlannedResource]) -> PlannedResource:
    """The outermost component of `res` that is not a wrapper (itself when it has no parent)."""
    chain = ancestors(res, by_urn)
    if len(chain) > 1 and chain[-1].type.endswith(WRAPPER_SUFFIXES):
        return chain[-2]
    return chain[-1]


def label(res: PlannedResource) -> str:
    """`Type name`, e.g. `GpuCluster dev-gcp-gke`: the type's last segment says what it is."""
    return f"{res.type.rsplit(':', 1)[-1]} {res.name}"
