"""Node pools of all three clouds in one shape: GKE NodePools, EKS NodeGroups, AKS AgentPools and the
pools inline in an AKS ManagedCluster's `agentPoolProfiles`. Rules about GPU isolation, spot capacity and
scheduling (ND-08, ND-10, RL-01, RL-06) read pools through this one model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from policy.model.props import as_list, explicitly_true, get, unknown
from policy.model.stack import Resource, Stack

GKE_POOL = "gcp:container/nodePool:NodePool"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
AKS_POOL = "azure-native:containerservice:AgentPool"
POOL_LABEL = "gpu-platform/pool"
GPU_KEY = "nvidia.com/gpu"
AKS_SPOT_TAINT = ("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
"""AKS adds this taint to every Spot pool itself (learn.microsoft.com/azure/aks/spot-node-pool)."""
GKE_GPU_TAINT = (GPU_KEY, "present", "NoSchedule")
"""GKE taints GPU nodes itself when the cluster also has a non-GPU pool (cloud.google.com/kubernetes-engine/
docs/how-to/gpus)."""
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
NVIDIA_AMI = re.compile(r"(NVIDIA|_GPU$)")
AWS_GPU_FAMILY = re.compile(r"^(p\d|g\d|gr\d)")
"""EC2 GPU families: p3/p4d/p5, g4dn/g5/g6/g6e, gr6 (docs.aws.amazon.com/ec2/latest/instancetypes/ac.html)."""


@dataclass(frozen=True)
class Taint:
    key: str
    value: str | None
    effect: str

    def __str__(self) -> str:
        return f"{self.key}={self.value or ''}:{self.effect}"


@dataclass(frozen=True)
class Pool:
    resource: Resource
    label: str
    """How messages name the pool: the resource, or `cluster pool 'name'` for an inline AKS pool."""
    cloud: str
    gpu: bool
    spot: bool
    system: bool
    pool_label: str | None
    taints: tuple[Taint, ...]
    cluster: str | None
    """What groups pools into one cluster: the cluster's URN, else its name."""
    props: Mapping[str, Any]


def _declared(taint: Mapping[str, Any]) -> Taint:
    """A GKE or EKS taint object (`effect` in the API's NO_SCHEDULE spelling)."""
    effect = str(taint.get("effect") or "")
    return Taint(str(taint.get("key") or ""), taint.get("value"), EFFECTS.get(effect, effect))


def _taint(text: str) -> Taint | None:
    """`key=value:Effect` (AKS) as a taint."""
    head, _, effect = text.partition(":")
    key, _, value = head.partition("=")
    return Taint(key, value or None, effect) if key and effect else None


def _gke(stack: Stack) -> list[Pool]:
    found = []
    for res in stack.of(GKE_POOL):
        cfg = get(res.props, "nodeConfig", {})
        clusters = stack.deps(res, GKE_CLUSTER, via="cluster")
        declared = tuple(_declared(t) for t in as_list(get(cfg, "taints")) if isinstance(t, Mapping))
        found.append(
            Pool(
                resource=res,
                label=res.name,
                cloud="gcp",
                gpu=bool(as_list(get(cfg, "guestAccelerators"))),
                spot=explicitly_true(get(cfg, "spot")) or explicitly_true(get(cfg, "preemptible")),
                system=False,
                pool_label=get(cfg, f"labels.{POOL_LABEL}"),
                taints=declared,
                cluster=clusters[0].urn if clusters else str(res.props.get("cluster")),
                props=cfg,
            )
        )
    return _gke_implicit_taints(found)


def _gke_implicit_taints(pools: list[Pool]) -> list[Pool]:
    with_cpu_pool = {p.cluster for p in pools if not p.gpu}
    return [
        replace(p, taints=(*p.taints, Taint(*GKE_GPU_TAINT))) if p.gpu and p.cluster in with_cpu_pool else p
        for p in pools
    ]


def aws_gpu(props: Mapping[str, Any]) -> bool:
    ami = str(props.get("amiType") or "")
    families = [str(t).split(".")[0] for t in as_list(props.get("instanceTypes"))]
    labelled = get(props, "labels", {}).get("nvidia.com/gpu.present") == "true"
    return bool(NVIDIA_AMI.search(ami)) or any(AWS_GPU_FAMILY.match(f) for f in families) or labelled


def _eks(stack: Stack) -> list[Pool]:
    found = []
    for res in stack.of(EKS_NODE_GROUP):
        taints = tuple(_declared(t) for t in as_list(res.props.get("taints")) if isinstance(t, Mapping))
        found.append(
            Pool(
                resource=res,
                label=res.name,
                cloud="aws",
                gpu=aws_gpu(res.props),
                spot=res.props.get("capacityType") == "SPOT",
                system=not aws_gpu(res.props),
                pool_label=get(res.props, f"labels.{POOL_LABEL}"),
                taints=taints,
                cluster=str(res.props.get("clusterName")),
                props=res.props,
            )
        )
    return found


def azure_pool(res: Resource, props: Mapping[str, Any], label: str, cluster: str | None) -> Pool:
    spot = props.get("scaleSetPriority") == "Spot"
    taints = [t for t in (_taint(str(x)) for x in as_list(props.get("nodeTaints"))) if t]
    if spot:
        taints.append(Taint(*AKS_SPOT_TAINT))
    size = str(props.get("vmSize") or "")
    return Pool(
        resource=res,
        label=label,
        cloud="azure",
        gpu=size.lower().startswith("standard_n") and not unknown(size),
        spot=spot,
        system=props.get("mode") == "System",
        pool_label=get(props, f"nodeLabels.{POOL_LABEL}"),
        taints=tuple(taints),
        cluster=cluster,
        props=props,
    )


def _aks(stack: Stack) -> list[Pool]:
    found = []
    for cluster in stack.of(AKS_CLUSTER):
        for profile in as_list(cluster.props.get("agentPoolProfiles")):
            label = f"{cluster.name} pool '{profile.get('name', '?')}'"
            found.append(azure_pool(cluster, profile, label, cluster.urn))
    for res in stack.of(AKS_POOL):
        clusters = stack.deps(res, AKS_CLUSTER, via="resourceName")
        found.append(azure_pool(res, res.props, res.name, clusters[0].urn if clusters else None))
    return found


def pools(stack: Stack) -> list[Pool]:
    return [*_gke(stack), *_eks(stack), *_aks(stack)]


def by_label(stack: Stack) -> dict[tuple[str, str], list[Pool]]:
    """Pools by (cloud, value of the `gpu-platform/pool` node label), the label workloads select on."""
    index: dict[tuple[str, str], list[Pool]] = {}
    for pool in pools(stack):
        if pool.pool_label:
            index.setdefault((pool.cloud, str(pool.pool_label)), []).append(pool)
    return index
