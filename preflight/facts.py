"""What preflight reads from each cloud and from this machine, as plain frozen dataclasses.

The fetchers (`preflight.fetch`) fill them in with the clouds' SDKs; the checks (`preflight.checks`) are
pure functions of these facts and the stack config. A fact that could not be read is an `Unreadable`
holding the error and the permission that reads it, so a denied call becomes a row of the report instead
of a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Unreadable:
    """A read that failed: the cloud's error, and the permission (or API) that allows the read."""

    error: str
    permission: str


Read: TypeAlias = T | Unreadable
"""A fact, or why it could not be read."""


@dataclass(frozen=True)
class Quota:
    limit: float
    usage: float | None = None
    """What is in use now, where the cloud says (GCP, Azure); other workloads share the quota."""


NameState = Literal["free", "ours", "taken", "invalid"]


@dataclass(frozen=True)
class Name:
    """A globally unique name: `free`, already `ours`, `taken` by someone else, or `invalid`."""

    state: NameState
    detail: str = ""


# AWS


@dataclass(frozen=True)
class EksVersion:
    """`eks:DescribeClusterVersions` for the stack's minor."""

    status: str
    """STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED."""
    end_of_standard_support: date | None


@dataclass(frozen=True)
class ElasticIps:
    """`ec2:DescribeAddresses` in the stack's region: the Elastic IPs allocated there."""

    allocated: int
    """All of them, whoever holds them: each counts against the region's quota."""
    ours: int
    """Those tagged as this stack's (`Project` gpu-platform, `Stack` its name): a deployed stack's own
    NAT and gateway addresses, which it keeps rather than allocates again."""


@dataclass(frozen=True)
class AwsFacts:
    account: str
    caller_arn: str
    """As `sts:GetCallerIdentity` says: an assumed-role session, a user, or root."""
    principal_arn: Read[str]
    """The IAM role (with its path) or user behind the caller, comparable with deployerPrincipalArn."""
    cluster_version: Read[EksVersion | None]
    """None: EKS does not offer the minor in the region."""
    addon_versions: Mapping[str, Read[tuple[str, ...]]]
    """EKS add-on name -> the versions offered for the stack's minor, newest first."""
    quotas: Mapping[str, Read[Quota]]
    """Service Quotas code -> its value in vCPUs."""
    address_quota: Read[Quota]
    """EC2-VPC Elastic IPs (Service Quotas L-0263D0A3) in the region, in addresses."""
    addresses: Read[ElasticIps]
    cluster_zones: Read[tuple[str, ...]]
    """The zones the program puts the VPC's subnets in (the region's first regular zones)."""
    offerings: Mapping[str, Read[tuple[str, ...]]]
    """Instance type -> the zones of the region that offer it."""
    bucket: Read[Name]
    autoscaling_role: Read[bool]
    """Whether the account has Auto Scaling's service-linked role."""


# GCP


@dataclass(frozen=True)
class GcpProject:
    number: str
    state: str
    """ACTIVE, or DELETE_REQUESTED for a project on its way out."""


@dataclass(frozen=True)
class GcpFacts:
    principal: str
    project: Read[GcpProject]
    channel_versions: Read[tuple[str, ...]]
    """GKE's valid versions in the stack's release channel, at the cluster's location."""
    quotas: Read[Mapping[str, Quota]]
    """The region's quotas by metric (NVIDIA_T4_GPUS, PREEMPTIBLE_NVIDIA_T4_GPUS, ...)."""
    project_quotas: Read[Mapping[str, Quota]]
    """The project-wide quotas by metric (GPUS_ALL_REGIONS)."""
    accelerators: Mapping[str, Read[frozenset[str]]]
    """Zone -> the accelerator types it offers this project."""
    bucket: Read[Name]
    services: Mapping[str, Read[bool]]
    """API -> whether it is enabled on the project."""


# Azure


@dataclass(frozen=True)
class AzureSubscription:
    id: str
    name: str
    state: str
    tenant_id: str


@dataclass(frozen=True)
class AksVersion:
    preview: bool
    support_plans: tuple[str, ...]
    """KubernetesOfficial (any tier) and/or AKSLongTermSupport (Premium tier only)."""


@dataclass(frozen=True)
class AzureSku:
    """A VM size in the location, as the Resource SKUs API shows it to this subscription."""

    family: str
    """The compute usage (quota) name of its family, like standardNCASv3_T4Family."""
    zones: tuple[str, ...]
    restricted_zones: tuple[str, ...]
    location_restriction: str | None
    """The reason code when the size is not offered in the location to this subscription."""
    encryption_at_host: bool


@dataclass(frozen=True)
class AzureFacts:
    principal: str
    tenant: str
    """The tenant of the signed-in token."""
    subscription: Read[AzureSubscription]
    kubernetes_versions: Read[Mapping[str, AksVersion]]
    skus: Read[Mapping[str, AzureSku]]
    """VM size -> its SKU; a size the location does not offer is absent."""
    usages: Read[Mapping[str, Quota]]
    """Compute usage name (a VM family, or lowPriorityCores for Spot) -> vCPU quota."""
    encryption_at_host_feature: Read[str]
    """The state of the subscription feature Microsoft.Compute/EncryptionAtHost."""
    providers: Read[Mapping[str, str]]
    """Resource provider namespace -> its registration state."""
    names: Mapping[str, Read[Name]]
    """Config key (storageAccountName, registryName, keyVaultName) -> the name's state."""


# This machine


@dataclass(frozen=True)
class ToolRun:
    """One command run on this machine: where it was found, its exit code and what it printed."""

    path: str | None
    """None: not on PATH."""
    exit_code: int | None = None
    output: str = ""


@dataclass(frozen=True)
class HealthCheckers:
    """The addresses Route 53's health checkers probe from, as AWS publishes them in ip-ranges.json."""

    prefixes: tuple[str, ...]
    """The IPv4 prefixes of the service ROUTE53_HEALTHCHECKS, each once, in the document's order."""
    published: str
    """The document's `createDate` (UTC, yyyy-mm-dd-hh-mm-ss), naming which edition was read."""


@dataclass(frozen=True)
class LocalFacts:
    egress_ip: Read[str]
    tools: Mapping[str, ToolRun]
    """Command name (aws, gke-gcloud-auth-plugin, kubelogin, docker) -> its run."""
    health_checkers: Read[HealthCheckers] | None = None
    """None: not read, because the stack sets no `serving.domain` (nothing is health-checked)."""
