"""`--diff BASE.json`: what a plan adds, removes and changes against another plan (the base branch's, in
CI), resource by resource (keyed by type and name), input by input. A changed node-pool field that makes
the cloud replace the pool's nodes (machine type, accelerator, disk size, AMI type, Spot) is a warning:
on a GPU pool that drains running training Jobs and serving replicas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy.model.pools import aws_gpu

REPLACING_FIELDS: Mapping[str, tuple[str, ...]] = {
    "gcp:container/nodepool:nodepool": (
        "nodeConfig.machineType",
        "nodeConfig.guestAccelerators",
        "nodeConfig.diskSizeGb",
        "nodeConfig.diskType",
        "nodeConfig.spot",
    ),
    "aws:eks/nodegroup:nodegroup": ("instanceTypes", "amiType", "diskSize", "capacityType"),
    "aws:ec2/launchtemplate:launchtemplate": ("instanceType", "imageId", "blockDeviceMappings"),
    "azure-native:containerservice:agentpool": ("vmSize", "osDiskSizeGB", "osDiskType", "scaleSetPriority"),
    "azure-native:containerservice:managedcluster": ("agentPoolProfiles",),
}
"""Per node-pool type, the input paths (prefixes) whose change replaces the nodes."""

Key = tuple[str, str]


@dataclass(frozen=True)
class Change:
    type: str
    name: str
    paths: list[tuple[str, Any, Any]]
    """(path, before, after) of every changed input leaf; a missing side is None."""
    replacing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Diff:
    added: list[Key]
    removed: list[Key]
    changed: list[Change]

    @property
    def warnings(self) -> list[str]:
        return [
            f"{c.name} ({c.type}): changing {', '.join(c.replacing)} replaces its nodes"
            for c in self.changed
            if c.replacing
        ]

    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by path (`a.b[0].c`); an empty map or list is a leaf of its own."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _is_gpu_pool(type_: str, inputs: Mapping[str, Any]) -> bool:
    token = type_.lower()
    if token.startswith("gcp:container/nodepool"):
        return bool((inputs.get("nodeConfig") or {}).get("guestAccelerators"))
    if token.startswith("aws:eks/nodegroup"):
        return aws_gpu(inputs)
    if token.startswith("azure-native:containerservice:agentpool"):
        return str(inputs.get("vmSize", "")).lower().startswith("standard_n")
    return False


def _replacing(type_: str, paths: list[str]) -> list[str]:
    prefixes = REPLACING_FIELDS.get(type_.lower(), ())
    return sorted({p for p in prefixes for path in paths if path == p or path.startswith((p + ".", p + "["))})


def _change(type_: str, name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Change | None:
    old, new = flatten(before), flatten(after)
    paths = [(p, old.get(p), new.get(p)) for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
    if not paths:
        return None
    replacing = _replacing(type_, [p for p, _, _ in paths])
    if replacing and (_is_gpu_pool(type_, before) or _is_gpu_pool(type_, after)):
        replacing = [f"GPU pool {r}" for r in replacing]
    return Change(type_, name, paths, replacing)


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    """Two plan documents (the `--json` output) compared resource by resource."""
    before = {(r["type"], r["name"]): r.get("inputs", {}) for r in base.get("resources", [])}
    after = {(r["type"], r["name"]): r.get("inputs", {}) for r in head.get("resources", [])}
    changed = [c for key in sorted(set(before) & set(after)) if (c := _change(*key, before[key], after[key]))]
    return Diff(sorted(set(after) - set(before)), sorted(set(before) - set(after)), changed)
