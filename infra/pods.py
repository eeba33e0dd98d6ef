"""Pod building blocks shared by every pod the platform runs (the training Job, serving, the replicator,
Kueue's controller): the restricted security context, the writable scratch space, resources, labels,
where a pod may run, and what their namespaces' policies share.

Dicts use the Pulumi SDK's snake_case input names; keys inside label, selector and resource maps are
Kubernetes data and pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from infra.clouds.base import GENERAL_POOL, GPU_RESOURCE, POOL_LABEL, EgressRule
from infra.config.types import GpuPool

PSS_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
"""Pod Security `restricted`, enforced, audited and warned: every namespace the platform runs pods in."""
ANYWHERE = "0.0.0.0/0"
LINK_LOCAL = "169.254.0.0/16"
"""The clouds' metadata and identity endpoints, which NetworkPolicies keep pods away from."""
DNS = {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
       "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}}}  # fmt: skip
"""CoreDNS/kube-dns pods carry `k8s-app: kube-dns` on EKS, GKE and AKS alike."""

GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
"""Every cloud's GPU pools carry the taint `nvidia.com/gpu=present:NoSchedule` (GKE adds it itself)."""
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
TMP = "/tmp"

Obj = dict[str, Any]


def pod_security(uid: int) -> Obj:
    """Pod-level context of PSS `restricted` (WL-01, WL-04); `fs_group` makes the emptyDirs writable.
    Every group id is set, supplemental groups included: admission policies that enforce the restricted
    profile by rule (Azure Policy's "approved user and group IDs", `supplementalGroupsRule: MustRunAs`)
    refuse a pod that leaves one unset."""
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        "fs_group": uid,
        "supplemental_groups": [uid],
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def container_security(uid: int) -> Obj:
    """Container-level context (WL-01..04, WL-06), repeated per container so each stands on its own."""
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def scratch(name: str, path: str, size: str) -> tuple[Obj, Obj]:
    """A size-limited emptyDir and its mount: the only writable places under a read-only root."""
    return {"name": name, "empty_dir": {"size_limit": size}}, {"name": name, "mount_path": path}


def resources(cpu: str, memory: str, gpus: int = 0) -> Obj:
    """Requests equal to limits (Guaranteed QoS); GPUs go in limits, where Kubernetes counts them (WL-07)."""
    limits: dict[str, str] = {"cpu": cpu, "memory": memory}
    if gpus:
        limits[GPU_RESOURCE] = str(gpus)
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}


def placement(pool: GpuPool | None, spot_tolerations: Sequence[Mapping[str, str]]) -> Obj:
    """Node selector and tolerations for a GPU pool, or for the general CPU nodes when `pool` is None."""
    if pool is None:
        return {"node_selector": {POOL_LABEL: GENERAL_POOL}}
    tolerations = [GPU_TOLERATION, *(dict(t) for t in spot_tolerations)] if pool.spot else [GPU_TOLERATION]
    return {"node_selector": {POOL_LABEL: pool.name}, "tolerations": tolerations}


def env(values: Mapping[str, pulumi.Input[str]]) -> list[Obj]:
    return [{"name": k, "value": v} for k, v in values.items()]


def app_labels(app: str, stack: str) -> dict[str, str]:
    """The selector labels of one app: stable, so a Deployment's or Service's selector never changes."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": stack}


def metadata(name: pulumi.Input[str], namespace: pulumi.Input[str], labels: Mapping[str, str]) -> Obj:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def identity_egress(rules: Sequence[EgressRule], pods: Obj) -> Obj:
    """Egress of the pods `pods` selects to each node-local identity endpoint of the contract, port-exact."""
    return {
        "pod_selector": pods,
        "policy_types": ["Egress"],
        "egress": [
            {"to": [{"ip_block": {"cidr": r.cidr}}], "ports": [{"protocol": r.protocol, "port": r.port}]}
            for r in rules
        ],
    }


NODE_THEN_ZONE = ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
ZONE_THEN_NODE = NODE_THEN_ZONE[::-1]


def spread(selector: Mapping[str, str], keys: Sequence[str] = NODE_THEN_ZONE) -> list[Obj]:
    """Soft topology spreading of the pods `selector` picks over each of `keys`: where there are several
    nodes or zones, losing one costs one replica; where there is room on one only, they all still run."""
    return [
        {
            "max_skew": 1,
            "topology_key": key,
            "when_unsatisfiable": "ScheduleAnyway",
            "label_selector": {"match_labels": dict(selector)},
        }
        for key in keys
    ]
