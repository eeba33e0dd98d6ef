"""Per-cloud stack-config sections (`gpu-platform:aws`, `:gcp`, `:azure`).

The region of each cloud comes from its provider key (`aws:region`, `gcp:region` with `gcp:project`,
`azure-native:location`), so one value drives both the providers and validation. Name patterns are the
clouds' own naming rules, checked here so a bad name fails before anything is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra import versions
from infra.config_types import (
    ApiAccess,
    Cidr,
    KubernetesVersion,
    MaintenanceWindow,
    PoolName,
    Section,
    SystemPool,
    pattern,
)

AzureZone = Literal["1", "2", "3"]
CLOUDWATCH_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)


def _s3_bucket(name: str) -> str:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html; dots are refused too,
    # since they break virtual-hosted TLS.
    bad_affix = name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
    )
    if bad_affix:
        raise ValueError("expected an S3 bucket name without a reserved prefix or suffix (xn--, -s3alias...)")
    return name


def _gcs_bucket(name: str) -> str:
    if name.startswith("goog") or "google" in name:
        raise ValueError("expected a GCS bucket name that neither starts with 'goog' nor contains 'google'")
    return name


def _key_vault(name: str) -> str:
    if "--" in name:
        raise ValueError("expected a Key Vault name without consecutive hyphens")
    return name


S3BucketName = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", "an S3 bucket name: 3-63 lowercase letters, digits, hyphens"
    ),
    AfterValidator(_s3_bucket),
]
EcrRepositoryName = Annotated[
    str,
    pattern(
        r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        "an ECR repository name like ml/trainer",
    ),
]
GcsBucketName = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", "a GCS bucket name: 3-63 lowercase letters, digits, - and _"
    ),
    AfterValidator(_gcs_bucket),
]
ArtifactRepositoryId = Annotated[
    str, pattern(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", "an Artifact Registry id: lowercase, digits, hyphens")
]
GcpProjectId = Annotated[
    str, pattern(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", "a GCP project id: 6-30 lowercase, digits, -")
]
StorageAccountName = Annotated[
    str, pattern(r"^[a-z0-9]{3,24}$", "a storage account name: 3-24 lowercase letters and digits")
]
AcrName = Annotated[
    str, pattern(r"^[a-zA-Z0-9]{5,50}$", "a container registry name: 5-50 letters and digits")
]
KeyVaultName = Annotated[
    str,
    pattern(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$", "a Key Vault name: 3-24 letters, digits, single -"),
    AfterValidator(_key_vault),
]
ResourceGroupName = Annotated[
    str, pattern(r"^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$", "a resource group name of 1-90 characters")
]
Uuid = Annotated[
    str, pattern(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", "a lowercase UUID")
]
IamPrincipalArn = Annotated[
    str,
    pattern(
        r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]{1,512}$",
        "an IAM role or user ARN",
    ),
]
AddonVersion = Annotated[
    str,
    pattern(r"^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$", "an EKS add-on version like v1.19.2-eksbuild.1"),
]
ContainerImageDigest = Annotated[
    str,
    pattern(
        r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:v[0-9]+\.[0-9]+\.[0-9]+@sha256:[0-9a-f]{64}$",
        "an image with a version tag, pinned by digest, like REGISTRY/REPO:v1.33.0@sha256:<64 hex digits>",
    ),
]


def _api_server_subnet(cidr: str) -> str:
    # AKS's minimum is a /28, of which Azure keeps 5 addresses and AKS at least 9 more as the API server
    # scales out (learn.microsoft.com/azure/aks/api-server-vnet-integration): a /28 leaves no headroom.
    if int(cidr.rsplit("/", 1)[1]) > 27:
        raise ValueError("expected a /27 or larger network for the AKS API server subnet")
    return cidr


def _gke_window(window: MaintenanceWindow) -> MaintenanceWindow:
    # cloud.google.com/kubernetes-engine/docs/how-to/maintenance-windows-and-exclusions
    if window.hours_per_32_days() < 48:
        raise ValueError(
            "expected at least 48 hours of maintenance in any 32 days, which GKE requires: "
            "4 x days x durationHours >= 48 (for example two days of 8 hours)"
        )
    return window


def _aks_window(window: MaintenanceWindow) -> MaintenanceWindow:
    if len(window.days) != 1:
        raise ValueError("expected exactly one day: an AKS weekly maintenance schedule takes one")
    return window


def _eks_api_access(access: ApiAccess) -> ApiAccess:
    # A private EKS endpoint admits only the cluster security group until another group opens it; the
    # program opens 443 to these networks, from one of which `pulumi up` must run.
    if access.private_endpoint and not access.authorized_cidrs:
        raise ValueError(
            "expected authorizedCidrs with a private endpoint too: the private networks (VPN, a peered VPC, "
            "a CI runner's subnet) that may reach the EKS API, and from one of which `pulumi up` runs"
        )
    return access


def _retention(days: int) -> int:
    if days not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"expected one of CloudWatch's retention values {list(CLOUDWATCH_RETENTION_DAYS)}")
    return days


class EksAddons(Section):
    """Add-on versions, pinned: `aws eks describe-addon-versions --kubernetes-version X` lists them. Unset
    in a stack file, they are the ones `infra/versions.py` records for its Kubernetes minor."""

    vpc_cni: AddonVersion
    coredns: AddonVersion
    kube_proxy: AddonVersion
    eks_pod_identity_agent: AddonVersion
    metrics_server: AddonVersion
    """The community add-on: EKS installs no metrics API, without which the serving HPA never scales."""


class AwsConfig(Section):
    region: str
    vpc_cidr: Cidr
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateways: Literal["single", "perZone"] = "single"
    kubernetes_version: KubernetesVersion
    api_access: Annotated[ApiAccess, AfterValidator(_eks_api_access)]
    deployer_principal_arn: IamPrincipalArn
    system_pool: SystemPool
    addons: EksAddons | None = None
    """Unset: the versions `infra/versions.py` records for kubernetesVersion."""
    cluster_autoscaler_image: ContainerImageDigest | None = None
    """Cluster Autoscaler, whose minor must match kubernetesVersion (its compatibility rule). Unset: the
    release `infra/versions.py` records for kubernetesVersion."""
    bucket_name: S3BucketName
    registry_name: EcrRepositoryName
    log_retention_days: Annotated[int, AfterValidator(_retention)] = 90

    @property
    def cluster_zones(self) -> tuple[str, ...]:
        """None named in config: zone names differ per account, so the program asks EC2 which of the VPC's
        zones offer each instance type when it deploys."""
        return ()

    def pinned_addons(self) -> EksAddons:
        """The configured add-on versions, else those recorded for the minor (config validation makes
        sure one exists)."""
        if self.addons is not None:
            return self.addons
        pins = versions.EKS_PINS[self.kubernetes_version]
        return EksAddons(
            vpc_cni=pins.vpc_cni,
            coredns=pins.coredns,
            kube_proxy=pins.kube_proxy,
            eks_pod_identity_agent=pins.eks_pod_identity_agent,
            metrics_server=pins.metrics_server,
        )

    def autoscaler_image(self) -> str:
        return self.cluster_autoscaler_image or versions.EKS_PINS[self.kubernetes_version].cluster_autoscaler


class GcpNetwork(Section):
    subnet_cidr: Cidr
    pods_cidr: Cidr
    services_cidr: Cidr
    master_cidr: Annotated[Cidr, pattern(r"/28$", "a /28 network")]
    """GKE needs a /28 for the control plane's private endpoint peering."""


class GcpConfig(Section):
    project: GcpProjectId
    region: str
    cluster_zone: str | None = None
    """Set for a zonal cluster (cheaper, one zone); unset for a regional one."""
    node_zones: tuple[str, ...] = ()
    """Zones of a regional cluster's nodes. GKE otherwise picks three zones itself, and a GPU type is not
    offered in every zone of a region: name zones that carry every GPU type of the pools."""
    network: GcpNetwork
    kubernetes_version: KubernetesVersion
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    api_access: ApiAccess
    system_pool: SystemPool
    gpu_driver_version: Literal["DEFAULT", "LATEST"] = "DEFAULT"
    maintenance_window: Annotated[MaintenanceWindow, AfterValidator(_gke_window)] = MaintenanceWindow()
    """When GKE may upgrade the control plane and nodes; saturday and sunday from 02:00 UTC, 8 hours."""
    key_rotation_days: int = Field(default=90, ge=1, le=90)
    bucket_name: GcsBucketName
    registry_name: ArtifactRepositoryId

    @property
    def cluster_zones(self) -> tuple[str, ...]:
        """The zones the cluster's nodes may use; empty for a regional cluster where GKE picks them."""
        return (self.cluster_zone,) if self.cluster_zone else self.node_zones


class AzureConfig(Section):
    location: str
    resource_group_name: ResourceGroupName
    tenant_id: Uuid
    admin_group_object_ids: tuple[Uuid, ...] = Field(min_length=1)
    vnet_cidr: Cidr
    system_subnet_cidr: Cidr
    gpu_subnet_cidr: Cidr
    api_server_subnet_cidr: Annotated[Cidr, AfterValidator(_api_server_subnet)]
    """Delegated to AKS for API Server VNet Integration, which a KMS key in a private Key Vault requires."""
    pod_cidr: Cidr
    service_cidr: Cidr
    kubernetes_version: KubernetesVersion
    sku_tier: Literal["Free", "Standard", "Premium"] = "Free"
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image"] = "patch"
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged"] = "NodeImage"
    network_policy: Literal["azure", "cilium", "calico"] = "cilium"
    api_access: ApiAccess
    system_pool: SystemPool
    general_pool: SystemPool
    """AKS taints its system pool CriticalAddonsOnly, so CPU workloads get a user pool of their own."""
    storage_account_name: StorageAccountName
    storage_sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"] = "Standard_LRS"
    registry_name: AcrName
    registry_retention_days: int = Field(default=7, ge=0, le=365)
    """Days ACR keeps untagged manifests before deleting them."""
    key_vault_name: KeyVaultName
    log_retention_days: int = Field(default=30, ge=30, le=730)
    """Log Analytics retention for Container insights and the kube-audit diagnostic logs."""
    audit_log: Literal["kube-audit", "kube-audit-admin"] = "kube-audit-admin"
    """`kube-audit` records every request, reads of secrets included; `-admin` only writes, far cheaper."""
    availability_zones: tuple[AzureZone, ...] = ()
    """Zones of the system and general pools; empty keeps them regional (no zone guarantee)."""
    gpu_pool_zones: Mapping[PoolName, tuple[AzureZone, ...]] = {}
    """Zones per GPU pool. Which zones offer a GPU size differs per subscription (`az vm list-skus
    --location L --size S --zone`, which `preflight` runs), so a GPU pool is zonal only where named here."""
    maintenance_window: Annotated[MaintenanceWindow, AfterValidator(_aks_window)] = MaintenanceWindow(
        days=("Sunday",)
    )
    """When AKS may upgrade the cluster and the node images; sunday from 02:00 UTC, 8 hours."""

    @property
    def cluster_zones(self) -> tuple[str, ...]:
        """None by region-qualified name: Azure's zone numbers are per subscription."""
        return ()
