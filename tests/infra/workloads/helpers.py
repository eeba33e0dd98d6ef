"""Lookups over the workloads a plan declares on one cloud: Kubernetes objects, pod templates, images."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.config import StackConfig
from infra.plan.runner import Plan, PlannedResource

WORKLOADS = "gpu-platform:workloads:Workloads"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
SERVICE = "kubernetes:core/v1:Service"
JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
IMAGE = "docker-build:index:Image"
POD_KINDS = {JOB: "Job", DEPLOYMENT: "Deployment", DAEMON_SET: "DaemonSet"}


def integral(value: Any) -> Any:
    """The engine carries every number as a double; Kubernetes wants integers where they are whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


@dataclass(frozen=True)
class Cluster:
    """The workloads of one cloud in one stack's plan, as captured."""

    stack: str
    cloud: str | None
    cfg: StackConfig
    resources: list[PlannedResource]

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [integral(r.inputs) for r in self.resources if r.type == type_]

    def one(self, type_: str) -> dict[str, Any]:
        (found,) = self.of(type_)
        return found

    def named(self, type_: str, name: str) -> dict[str, Any]:
        (found,) = [o for o in self.of(type_) if o["metadata"]["name"] == name]
        return found

    def manifests(self) -> list[dict[str, Any]]:
        """Every Kubernetes object, as `kubectl apply` would receive it."""
        return [integral(r.inputs) for r in self.resources if r.type.startswith("kubernetes:")]

    def pods(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(kind, object, pod spec) of every pod template."""
        for type_, kind in POD_KINDS.items():
            for obj in self.of(type_):
                yield kind, obj, obj["spec"]["template"]["spec"]

    def workload_pods(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """The pods of the workload namespace (the device plugin lives apart, see its module)."""
        return [p for p in self.pods() if p[1]["metadata"]["namespace"] == self.cfg.namespace]


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def clusters(plan: Plan, cfg: StackConfig) -> list[Cluster]:
    """One `Cluster` per cloud that has workloads in the plan: the resources under its `Workloads`
    component only, so what a platform itself runs in its cluster (an autoscaler, say) stays out."""
    by_urn = plan.by_urn()

    def under(resource: PlannedResource, root: str) -> bool:
        current: PlannedResource | None = resource
        while current is not None and current.urn != root:
            current = by_urn.get(current.parent) if current.parent else None
        return current is not None

    found = []
    for root in sorted((r for r in plan.resources if r.type == WORKLOADS), key=lambda r: str(r.cloud)):
        found.append(Cluster(plan.stack, root.cloud, cfg, [r for r in plan.resources if under(r, root.urn)]))
    return found


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}
