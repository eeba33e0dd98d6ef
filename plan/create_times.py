"""Typical create times per resource type, for the critical-path estimate of a fresh `pulumi up`.

A figure is what a create usually takes in the region, from the provider's API call until Pulumi sees the
resource ready; the first source named is the provider's own statement where there is one. Small
resources (IAM bindings, keys, routes, Kubernetes objects without a rollout to wait for) have no published
figure: they are the API round trip plus the provider's poll, a few seconds, noted as `typical`. Each entry
has a stage: `network`, `cluster`, `nodepool` and `workload` resources make up a cloud's unavoidable chain
(network, then cluster, then node pool, then workloads); anything else on the critical path is overhead.
NAT gateways and their addresses have no stage: nodes need them, not the control plane, so a cluster that
waits for one shows up as overhead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from plan.runner import PlannedResource

Stage = Literal["network", "cluster", "nodepool", "workload"]
UNAVOIDABLE: tuple[Stage, ...] = ("network", "cluster", "nodepool", "workload")
TYPICAL = "typical: API call plus the provider's poll; no published figure"


@dataclass(frozen=True)
class CreateTime:
    seconds: float
    source: str
    stage: Stage | None = None


def _t(seconds: float, source: str = TYPICAL, stage: Stage | None = None) -> CreateTime:
    return CreateTime(seconds, source, stage)


DEFAULT = _t(10, "default for a type not in the table: a small API object")
COMPONENT = _t(0, "component resource: no cloud call; its children count")
PROVIDER = _t(0, "provider: configured in-process")

_EKS = "docs.aws.amazon.com/eks/latest/userguide/create-cluster.html (~10 min observed)"
_EKS_NG = "docs.aws.amazon.com/eks/latest/userguide/create-managed-node-group.html (~3-5 min)"
_GKE = "cloud.google.com/kubernetes-engine/docs/how-to/creating-a-zonal-cluster (~5-8 min observed)"
_GKE_NP = "cloud.google.com/kubernetes-engine/docs/how-to/node-pools (~3-5 min observed)"
_AKS = "learn.microsoft.com/azure/aks/learn/quick-kubernetes-deploy-cli (~5-10 min observed)"
_AKS_NP = "learn.microsoft.com/azure/aks/create-node-pools (~3-5 min observed)"
_NAT = "docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html (~1-2 min observed)"
_APIS = "cloud.google.com/service-usage/docs/enable-disable (enabling takes up to a few minutes)"
_LB = "a cloud load balancer behind a Service: provisioning until it reports an address, ~1-3 min"
_ROLLOUT = "Pulumi awaits the rollout (pods scheduled, image pulled, ready), ~1-2 min for a small image"

TABLE: dict[str, CreateTime] = {
    # AWS
    "aws:ec2/vpc:Vpc": _t(15, TYPICAL, "network"),
    "aws:ec2/subnet:Subnet": _t(10, TYPICAL, "network"),
    "aws:ec2/internetGateway:InternetGateway": _t(10, TYPICAL, "network"),
    "aws:ec2/natGateway:NatGateway": _t(120, _NAT),
    "aws:ec2/eip:Eip": _t(5),
    "aws:ec2/routeTable:RouteTable": _t(5, TYPICAL, "network"),
    "aws:ec2/route:Route": _t(5, TYPICAL, "network"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _t(5, TYPICAL, "network"),
    "aws:ec2/launchTemplate:LaunchTemplate": _t(5),
    "aws:ec2/flowLog:FlowLog": _t(10),
    "aws:eks/cluster:Cluster": _t(600, _EKS, "cluster"),
    "aws:eks/nodeGroup:NodeGroup": _t(240, _EKS_NG, "nodepool"),
    "aws:eks/addon:Addon": _t(
        60, "docs.aws.amazon.com/eks/latest/userguide/creating-an-add-on.html (~1 min)"
    ),
    "aws:eks/accessEntry:AccessEntry": _t(5),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _t(5),
    "aws:iam/role:Role": _t(5),
    "aws:kms/key:Key": _t(10),
    "aws:s3/bucket:Bucket": _t(5),
    "aws:ecr/repository:Repository": _t(5),
    "aws:cloudwatch/logGroup:LogGroup": _t(5),
    "aws:lb/loadBalancer:LoadBalancer": _t(180, _LB, "workload"),
    # GCP
    "gcp:projects/service:Service": _t(60, _APIS),
    "gcp:compute/network:Network": _t(30, TYPICAL + " (global operation, ~30 s)", "network"),
    "gcp:compute/subnetwork:Subnetwork": _t(30, TYPICAL + " (regional operation, ~30 s)", "network"),
    "gcp:compute/router:Router": _t(15, TYPICAL, "network"),
    "gcp:compute/routerNat:RouterNat": _t(30),
    "gcp:compute/firewall:Firewall": _t(15),
    "gcp:container/cluster:Cluster": _t(420, _GKE, "cluster"),
    "gcp:container/nodePool:NodePool": _t(240, _GKE_NP, "nodepool"),
    "gcp:kms/keyRing:KeyRing": _t(5),
    "gcp:kms/cryptoKey:CryptoKey": _t(5),
    "gcp:storage/bucket:Bucket": _t(5),
    "gcp:artifactregistry/repository:Repository": _t(15),
    # Azure
    "azure-native:resources:ResourceGroup": _t(5),
    "azure-native:network:VirtualNetwork": _t(15, TYPICAL, "network"),
    "azure-native:network:Subnet": _t(10, TYPICAL, "network"),
    "azure-native:network:NatGateway": _t(30),
    "azure-native:network:PublicIPAddress": _t(10),
    "azure-native:network:NetworkSecurityGroup": _t(10, TYPICAL, "network"),
    "azure-native:containerservice:ManagedCluster": _t(480, _AKS, "cluster"),
    "azure-native:containerservice:AgentPool": _t(240, _AKS_NP, "nodepool"),
    "azure-native:keyvault:Vault": _t(60, "learn.microsoft.com/azure/key-vault (create ~30-60 s observed)"),
    "azure-native:storage:StorageAccount": _t(30),
    "azure-native:containerregistry:Registry": _t(30),
    "azure-native:operationalinsights:Workspace": _t(30),
    "azure-native:authorization:RoleAssignment": _t(15, TYPICAL + " (plus RBAC propagation)"),
    # Kubernetes and images
    "kubernetes:core/v1:Namespace": _t(2, TYPICAL, "workload"),
    "kubernetes:core/v1:Service": _t(2, TYPICAL, "workload"),
    "kubernetes:apps/v1:Deployment": _t(90, _ROLLOUT, "workload"),
    "kubernetes:apps/v1:DaemonSet": _t(60, _ROLLOUT, "workload"),
    "kubernetes:batch/v1:Job": _t(
        60, "Pulumi awaits a Job's completion: its own run time, ~1 min assumed", "workload"
    ),
    "kubernetes:helm.sh/v3:Release": _t(120, "helm install --wait of a small chart, ~1-2 min", "workload"),
    "docker-build:index:Image": _t(600, "a TensorFlow image build and push from scratch, ~10 min"),
}

LOAD_BALANCER_SERVICE = _t(120, _LB, "workload")
KUBERNETES_OBJECT = _t(2, TYPICAL, "workload")
NOT_AWAITED = _t(5, "pulumi.com/skipAwait: created, not awaited", "workload")
SKIP_AWAIT = "pulumi.com/skipAwait"
SLEEP = "time:index/sleep:Sleep"


def create_time(res: PlannedResource) -> CreateTime:
    """The typical create time of `res`; a LoadBalancer Service waits for its load balancer, and a
    Kubernetes object annotated `pulumi.com/skipAwait` for nothing but the API call."""
    if not res.custom:
        return COMPONENT
    if res.type.startswith("pulumi:providers:"):
        return PROVIDER
    if res.type.startswith("kubernetes:"):
        return _kubernetes(res)
    if res.type == SLEEP:
        # Not avoidable waiting: the time a cloud needs before the cluster, or what runs in it, can use
        # what was just granted or enabled (infra/clouds/settle.py).
        duration = str(res.inputs.get("createDuration", "0s"))
        return _t(_seconds(duration), "the pause it declares, for a cloud's propagation", "cluster")
    return TABLE.get(res.type, DEFAULT)


def _seconds(duration: str) -> float:
    """A Go duration of whole units (`90s`, `5m`, `1h30m`), as `time.Sleep` takes it."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)([hms])", duration))


def _kubernetes(res: PlannedResource) -> CreateTime:
    annotations = (res.inputs.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(SKIP_AWAIT, "")).lower() == "true":
        return NOT_AWAITED
    if res.type == "kubernetes:core/v1:Service" and (res.inputs.get("spec") or {}).get("type") == (
        "LoadBalancer"
    ):
        return LOAD_BALANCER_SERVICE
    return TABLE.get(res.type, KUBERNETES_OBJECT)
