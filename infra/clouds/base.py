"""The contract between a cloud and the cloud-agnostic workloads.

Each cloud's platform component (`infra/clouds/<cloud>/platform.py`) returns a `CloudPlatform`: a
Kubernetes provider for its cluster, the kubeconfig (secret), the bucket URI, the registry, and how a
Kubernetes service account gets that cloud's identity. What a cloud lacks is data (`lacks`, with the
reason), so workloads ask `platform.lacks(...)` instead of branching on cloud names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from infra.catalog import Cloud
from infra.config import StackConfig

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

WorkloadRole = Literal["trainer", "serving"]
SERVICE_ACCOUNTS: Mapping[WorkloadRole, str] = {"trainer": "trainer", "serving": "serving"}
"""Kubernetes service-account names, fixed so each cloud can scope its identity trust to exactly them."""
SERVING_PORTS = (8500, 8501)
"""TF Serving's gRPC and REST ports, which the serving load balancer exposes; a cloud whose network
filters traffic to nodes itself must open them to the serving sources."""
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
class PlatformArgs:
    """What every cloud's platform component is built from: the whole validated stack config."""

    cfg: StackConfig


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

    def lacks(self, capability: Capability) -> bool:
        return capability in self.missing
