"""Lookups over the workloads a plan declares on one cloud: Kubernetes objects, pod templates, images."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.config import StackConfig
from plan.manifests import integral
from plan.runner import Plan, PlannedResource
from policy.model import env as env_model

WORKLOADS = "gpu-platform:workloads:Workloads"
KUEUE_TYPES = "gpu-platform:kueue:"
"""The prefix of every Kueue component's type (tests/infra/kueue tests what they hold)."""
GATEWAY_TYPES = "gpu-platform:gateway:"
"""The prefix of the HTTPS gateway's component types, with `serving.domain` (tests/infra/gateway)."""
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
SERVICE = "kubernetes:core/v1:Service"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
IMAGE = "docker-build:index:Image"
FLAVOR = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
TRAINING = "gpu-platform:workloads:TrainingJob"
REPLICATOR = "gpu-platform:workloads:Replicator"
POD_KINDS = {JOB: "Job", CRON_JOB: "CronJob", DEPLOYMENT: "Deployment", DAEMON_SET: "DaemonSet"}


@dataclass(frozen=True)
class Cluster:
    """The workloads of one cloud in one stack's plan, as captured."""

    stack: str
    cloud: str | None
    cfg: StackConfig
    resources: list[PlannedResource]
    network: tuple[str, ...] = ()
    """The cloud network's own ranges, which the contract names as internal sources."""
    gateway: bool = False
    """Whether the workloads run the HTTPS gateway (`serving.domain`), whose resources are not among these."""

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

    @property
    def trains(self) -> bool:
        """Whether this is the stack's home cloud, the only one that trains (`training.cloud`)."""
        return self.cfg.training_cloud == self.cloud

    @property
    def runs_dispatched(self) -> bool:
        """Whether MultiKueue dispatches Jobs to this cloud's cluster (`queues.dispatch.workers`)."""
        return self.cloud in self.cfg.dispatch_workers

    def pods(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(kind, object, pod spec) of every pod template."""
        for type_, kind in POD_KINDS.items():
            for obj in self.of(type_):
                yield kind, obj, pod_template(obj)["spec"]

    def workload_pods(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """The pods of the workload namespace (the device plugin lives apart, see its module)."""
        return [p for p in self.pods() if p[1]["metadata"]["namespace"] == self.cfg.namespace]


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    """A workload object's pod template; a CronJob's is inside the template of the Jobs it starts."""
    spec = obj["spec"]
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"]["spec"]
    template: dict[str, Any] = spec["template"]
    return template


def serving_sources(cluster: Cluster) -> list[str]:
    """Who may reach the serving load balancer: the configured CIDRs, else the cloud network's own ranges;
    none behind the gateway, where TF Serving has no load balancer (the gateway's admits the CIDRs)."""
    if cluster.gateway:
        return []
    return list(cluster.cfg.serving.source_cidrs) or list(cluster.network)


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def network_ranges(cfg: StackConfig, cloud: str | None) -> tuple[str, ...]:
    """Each cloud's own address ranges in the stack config: the VPC, the GCP subnet with its VPC-native
    pod range, the VNet."""
    if cloud == "aws" and cfg.aws is not None:
        return (cfg.aws.vpc_cidr,)
    if cloud == "gcp" and cfg.gcp is not None:
        return (cfg.gcp.network.subnet_cidr, cfg.gcp.network.pods_cidr)
    if cloud == "azure" and cfg.azure is not None:
        return (cfg.azure.vnet_cidr,)
    raise ValueError(f"no network ranges for cloud {cloud!r}")


def clusters(plan: Plan, cfg: StackConfig) -> list[Cluster]:
    """One `Cluster` per cloud that has workloads in the plan: the resources under its `Workloads`
    component only, so what a platform itself runs in its cluster (an autoscaler, say) stays out, and
    Kueue's (tests/infra/kueue has its own tests) too."""
    by_urn = plan.by_urn()

    def under(resource: PlannedResource, root: str) -> bool:
        current: PlannedResource | None = resource
        while current is not None and current.urn != root:
            current = by_urn.get(current.parent) if current.parent else None
        return current is not None

    found = []
    for root in sorted((r for r in plan.resources if r.type == WORKLOADS), key=lambda r: str(r.cloud)):
        mine = [r for r in plan.resources if under(r, root.urn)]
        resources = [r for r in mine if not is_apart(r)]
        gateway = any(GATEWAY_TYPES in r.urn for r in mine)
        found.append(
            Cluster(plan.stack, root.cloud, cfg, resources, network_ranges(cfg, root.cloud), gateway)
        )
    return found


def is_apart(resource: PlannedResource) -> bool:
    """Whether `resource` belongs to Kueue or the gateway, which their own tests cover."""
    return KUEUE_TYPES in resource.urn or GATEWAY_TYPES in resource.urn


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def expanded_env(cluster: Cluster, container: dict[str, Any], job_name: str) -> dict[str, str]:
    """A container's environment as the kubelet gives it in `cluster`: its `envFrom` ConfigMaps first,
    then `env`, `$(VAR)` expanded, the Job's name from its pods' label."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values |= cluster.named(CONFIG_MAP, source["configMapRef"]["name"])["data"]
    for entry in container.get("env", []):
        field = entry.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field == env_model.JOB_NAME_FIELD:
            values[entry["name"]] = job_name
        else:
            values[entry["name"]] = env_model.expand(entry["value"], values)
    return values
