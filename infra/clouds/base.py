"""The contract between a cloud and the cloud-agnostic workloads.

Each cloud's platform component (`infra/clouds/<cloud>/platform.py`) returns a `CloudPlatform`: a
Kubernetes provider for its cluster, the kubeconfig (secret), the bucket URI, the registry, and how a
Kubernetes service account gets that cloud's identity. What a cloud lacks is data (`lacks`, with the
reason), so workloads ask `platform.lacks(...)` instead of branching on cloud names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.catalog import Cloud
from infra.config import StackConfig

if TYPE_CHECKING:
    from infra.gateway.dns01 import Dns01Access, SolverCluster

POOL_LABEL = "gpu-platform/pool"
"""The node label every pool carries with its name; workloads pick a pool by it."""
GENERAL_POOL = "general"
"""The pool CPU workloads (serving on CPU, the add-ons a cloud does not pin to its system pool) run on."""
GPU_LABEL = "gpu-platform/gpu"
"""The node label a GPU pool carries with its GPU type."""
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
"""NVIDIA's node label for a node with GPUs, which the device plugin's DaemonSet selects."""
GPU_RESOURCE = "nvidia.com/gpu"
"""The extended resource a GPU pod requests, and the key of the taint that keeps other pods off GPU nodes."""
GPU_TAINT_VALUE = "present"
"""The value of that taint (`nvidia.com/gpu=present:NoSchedule`), in each cloud's own taint syntax."""

WorkloadRole = Literal["trainer", "serving", "replicator"]
SERVICE_ACCOUNTS: Mapping[WorkloadRole, str] = {
    "trainer": "trainer",
    "serving": "serving",
    "replicator": "replicator",
}
"""Kubernetes service-account names, fixed so each cloud can scope its identity trust to exactly them. The
replicator, on the home cluster, copies each model version from whichever cloud's bucket it was exported
to into every other's: its own cloud's through its own identity, the others' through
`CloudPlatform.federate`."""
MODELS_PREFIX = "models/"
"""Where model versions live in every bucket: what serving reads and the replicator writes."""


def model_prefix(model: str) -> str:
    """One model's versions in a bucket: all the replicator may write, in every cloud's bucket."""
    return f"{MODELS_PREFIX}{model}/"


FEDERATED_DIR = "/var/run/secrets/gpu-platform"
"""Where a pod mounts, per target cloud (`<dir>/<cloud>/`), the projected token it presents to that cloud
and the non-secret files that point the cloud's SDK at it."""
SERVING_PORTS = (8500, 8501)
"""TF Serving's gRPC and REST ports, which the serving load balancer exposes; a cloud whose network
filters traffic to nodes itself must open them to the serving sources."""
GATEWAY_PORTS = (80, 443)
"""The gateway's listeners (`infra/gateway/serving.py`: HTTP, redirected, and HTTPS), which its load balancer
exposes when `serving.domain` is set; a cloud whose network filters traffic to nodes itself must open
them to the serving sources."""
DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin"
"""Where the workloads run the NVIDIA device plugin on a cloud that lacks one. It needs a hostPath, so a
cloud that enforces Pod Security by admission policy exempts this namespace, and only this one."""
BUILD_TAG_PREFIX = "build-"
"""The tag prefix of images built from this repository (the trainer). Only these may expire by count in a
registry's cleanup rules: the other tags are mirrors of upstream images that running pods, and nodes
scaled from zero, pull by digest long after they were pushed."""


class Capability(Enum):
    """Something workloads rely on that some managed Kubernetes offerings provide and others do not."""

    GPU_DEVICE_PLUGIN = "the NVIDIA device plugin, installed and managed by the cloud"


@dataclass(frozen=True)
class RegistryAuth:
    """Short-lived push credentials for the image builder; never an admin user or a static key."""

    address: pulumi.Input[str]
    username: pulumi.Input[str]
    password: pulumi.Input[str]


@dataclass(frozen=True)
class Registry:
    host: pulumi.Output[str]
    repository: pulumi.Output[str]
    """Full repository path without tag, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/trainer`."""
    auth: RegistryAuth
    push_after: tuple[pulumi.Resource, ...] = ()
    """What a push must wait for beyond the registry: the pusher's role where the program grants it."""


@dataclass(frozen=True)
class EgressRule:
    """A node-local endpoint pods must reach to obtain cloud credentials (a metadata server, a token
    agent), which a default-deny NetworkPolicy would otherwise block."""

    cidr: str
    port: int
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True)
class IdentityBinding:
    """What a service account and its pods carry to act as the cloud identity made for one role."""

    service_account: str
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    ready: tuple[pulumi.Resource, ...] = ()
    """The cloud side of the identity (the trust binding and the storage grant): a pod admitted before
    these exist gets no credentials, or credentials that are refused, so the workloads wait for them."""


@dataclass(frozen=True, kw_only=True)
class ForeignWorkload:
    """A service account of another cloud's cluster that this cloud is asked to trust, for one prefix."""

    cloud: Cloud
    """The cloud whose cluster runs it."""
    issuer: pulumi.Input[str]
    """That cluster's service-account token issuer, exactly as its tokens carry it in `iss`."""
    namespace: str
    service_account: str
    prefix: str
    """The only part of this cloud's bucket it may read and write."""

    @property
    def subject(self) -> str:
        """The `sub` claim of its tokens."""
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@dataclass(frozen=True, kw_only=True)
class FederatedAccess:
    """What the foreign pod needs to act as the identity this cloud federated for it: never a secret. The
    pod mounts a projected token of `audience` at `token_path(cloud)`, the `files` beside it."""

    audience: pulumi.Input[str]
    env: Mapping[str, pulumi.Input[str]]
    """For this cloud's SDK: where the token is, which identity to act as, and how to reach the bucket."""
    files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Non-secret configuration files by name, mounted beside the token."""
    ready: tuple[pulumi.Resource, ...] = ()
    """The trust and the grant: a pod that presents its token before they exist is refused."""


@dataclass(frozen=True, kw_only=True)
class RbacSubject:
    """Who a cluster's API server sees when a federated workload calls it: what a ClusterRoleBinding names."""

    kind: Literal["User", "Group"]
    name: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ApiAccess:
    """How a foreign workload (MultiKueue's token refresher in the manager cluster) calls this cluster's
    API server without a stored key: it presents a projected token of `audience` to this cloud, which
    gives it a short-lived API token (docs/queues.md). Never a secret."""

    server: pulumi.Output[str]
    """The API server's URL (https), as a kubeconfig's `server`."""
    ca_data: pulumi.Output[str]
    """The cluster CA, base64-encoded PEM, as a kubeconfig's `certificate-authority-data`."""
    audience: pulumi.Input[str]
    token: Mapping[str, pulumi.Input[str]]
    """This cloud's part of the refresher's worker entry (training/trainer/workers_file.py): the role,
    client or service account to become, and where the projected token is."""
    subject: RbacSubject
    """The identity the API server authenticates the minted token as; the cluster's own Kubernetes RBAC
    grants it what MultiKueue needs (infra/kueue/multikueue.py), and the cloud's IAM nothing more than
    signing in."""
    ready: tuple[pulumi.Resource, ...] = ()
    """The trust and the sign-in grant: a token minted before they exist is refused."""


@dataclass(frozen=True, kw_only=True)
class RegistryPull:
    """How a workload of this cluster mints short-lived, read-only pull credentials for this cloud's
    trainer repository, which it hands to clusters of other clouds (MultiKueue's workers run the home
    cluster's Jobs unchanged, image reference included). Never a secret."""

    host: pulumi.Output[str]
    """The registry host, the key of a docker config's `auths`."""
    token: Mapping[str, pulumi.Input[str]]
    """This cloud's section of the refresher's `registry` entry (training/trainer/worker_tokens.py): the
    identity to mint as, and the registry or region to mint for."""
    binding: IdentityBinding
    """What the minting workload's service account and pods carry to act as the puller identity; its
    `ready` holds the trust and the repository grant."""


@dataclass(frozen=True, kw_only=True)
class GatewayAddress:
    """Static public addresses the gateway's load balancer answers on, reserved by the stack so that DNS can
    name them before the load balancer exists, and the Service annotations that make the cloud use them."""

    ips: pulumi.Output[list[str]]
    """The A record's values: every address the load balancer answers on, none it does not."""
    annotations: Mapping[str, pulumi.Input[str]]
    """For the EnvoyProxy's `LoadBalancer` Service (`infra/gateway/envoy.py` `load_balancer_annotations`):
    an internet-facing load balancer of this cloud on exactly these addresses."""
    ready: tuple[pulumi.Resource, ...] = ()
    """What the cloud's load balancer controller needs beyond the addresses (a grant on them): a Service
    created before these exist fails to get its load balancer until they do."""


@dataclass(frozen=True, kw_only=True)
class ServingZone:
    """The DNS zone of `serving.domain`, on the cloud whose account holds it (`serving.dns`): it declares
    every cluster's DNS-01 access and every cloud's serving names, since the zone is its own whichever
    cluster asks and whichever gateway the names point at."""

    dns01: Callable[[SolverCluster], Dns01Access]
    """Let a cluster's cert-manager answer ACME DNS-01 for the serving names, keylessly."""
    records: Callable[[Mapping[Cloud, pulumi.Input[list[str]]]], pulumi.Resource]
    """Declare `<cloud>.<domain>` and the health-routed `<domain>` for each cloud's gateway addresses."""
    failover_seconds: int
    """Until no client that follows the records' TTL is sent to a cloud whose gateway fails its checks."""


def federated_dir(cloud: Cloud) -> str:
    return f"{FEDERATED_DIR}/{cloud}"


def token_path(cloud: Cloud) -> str:
    """Where a pod mounts the projected token it presents to `cloud`."""
    return f"{federated_dir(cloud)}/token"


@dataclass(frozen=True, kw_only=True)
class PlatformArgs:
    """What every cloud's platform component is built from: the whole validated stack config, and the
    public addresses of the other cloud's cluster whose replicator this cloud will federate."""

    cfg: StackConfig
    admit: pulumi.Input[Sequence[str]] = ()
    """The home cluster's egress addresses (its `egress_ips`), which a storage firewall must let through
    for the replicator's writes; empty on the home cloud itself."""
    api_admit: pulumi.Input[Sequence[str]] = ()
    """Addresses the cluster's API access list admits beside `apiAccess.authorizedCidrs`: the MultiKueue
    manager's egress addresses on a worker (`queues.dispatch`), each a single address; empty elsewhere."""
    admit_image: pulumi.Input[str] | None = None
    """A repository of another cloud's registry whose images, by digest, the cluster's trusted-image
    admission lets run beside its own registry's: the manager's trainer repository on a MultiKueue worker,
    which Jobs copied from the manager name; None elsewhere."""


@dataclass(frozen=True)
class CloudPlatform:
    cloud: Cloud
    region: str
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    k8s_provider: k8s.Provider
    bucket_uri: pulumi.Output[str]
    registry: Registry
    identities: Mapping[WorkloadRole, IdentityBinding]
    internal_sources: tuple[str, ...]
    """The cluster network's own address ranges (VPC/VNet, pod ranges where pods keep their address): the
    only sources an internal serving load balancer admits unless `serving.sourceCidrs` says otherwise."""
    oidc_issuer: pulumi.Output[str]
    """The issuer of the cluster's service-account tokens, which other clouds trust for the replicator."""
    egress_ips: pulumi.Output[list[str]]
    """The public addresses the cluster's pods reach other clouds from (its NAT), stable for the stack's
    life: what another cloud's storage firewall admits for the replicator."""
    federate: Callable[[ForeignWorkload], FederatedAccess]
    """Trust a workload of another cloud's cluster to read and write one prefix of this cloud's bucket:
    declares that cloud's side of keyless federation and says what the workload's pod needs."""
    admit_api: Callable[[ForeignWorkload], ApiAccess]
    """Trust a workload of another cloud's cluster to sign in to this cluster's API server (MultiKueue's
    token refresher; `prefix` unused): declares the trust and the sign-in grant, one per issuer shared
    with `federate`, and says how the workload mints its token and whom RBAC must bind."""
    grant_pull: Callable[[str, str], RegistryPull]
    """Let a workload of this cluster (namespace, service account) pull from the trainer repository only,
    keyless (MultiKueue's token refresher, for the workers on other clouds): declares an identity of its own
    with that trust and the read grant, and says how the workload mints the pull credential."""
    gateway_address: Callable[[], GatewayAddress]
    """Reserve the gateway's static public addresses (once per call: call it once per stack) and say how its
    `LoadBalancer` Service takes them; what DNS names and what the EnvoyProxy carries."""
    spot_notice_seconds: int
    """How long this cloud's spot reclaim leaves a pod between SIGTERM and the kill: the training Job's
    grace period, in which the trainer writes a last checkpoint."""
    missing: Mapping[Capability, str] = field(default_factory=dict)
    """Capabilities this cloud does not provide, each with the reason; workloads fill the gap."""
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations for the serving `LoadBalancer` Service that make this cloud's load balancer match
    `serving.exposure` (an internal one, say)."""
    storage_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment a pod needs, beside its identity, to reach the bucket (the storage account name on
    Azure, the region on AWS); never a credential."""
    spot_tolerations: tuple[Mapping[str, str], ...] = ()
    """Tolerations for the taints this cloud puts on spot nodes by itself (AKS does; EKS and GKE don't)."""
    network: Mapping[str, pulumi.Input[Any]] = field(default_factory=dict)
    """Network ids applications and peering may need (VPC/VNet, subnets), exported with the outputs."""
    identity_egress: tuple[EgressRule, ...] = ()
    """Node-local identity endpoints the workload pods must reach (GKE metadata server, EKS Pod Identity
    agent); empty where identity needs only HTTPS to public endpoints (Azure AD)."""
    serving_zone: ServingZone | None = None
    """Set on the cloud whose DNS holds `serving.domain`'s zone; None elsewhere, and without a domain."""

    def lacks(self, capability: Capability) -> bool:
        return capability in self.missing
