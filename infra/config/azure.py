"""`gpu-platform:azure`: the Azure section, its naming rules and its facts; the location comes from
`azure-native:location`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra.config.cloud import CloudSection
from infra.config.section import camel, problem
from infra.config.types import (
    ApiAccess,
    Cidr,
    GpuPool,
    KubernetesVersion,
    MaintenanceWindow,
    PoolName,
    SystemPool,
    pattern,
)

AzureZone = Literal["1", "2", "3"]


def _key_vault(name: str) -> str:
    if "--" in name:
        raise ValueError("expected a Key Vault name without consecutive hyphens")
    return name


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


def _api_server_subnet(cidr: str) -> str:
    # AKS's minimum is a /28, of which Azure keeps 5 addresses and AKS at least 9 more as the API server
    # scales out (learn.microsoft.com/azure/aks/api-server-vnet-integration): a /28 leaves no headroom.
    if int(cidr.rsplit("/", 1)[1]) > 27:
        raise ValueError("expected a /27 or larger network for the AKS API server subnet")
    return cidr


def _aks_window(window: MaintenanceWindow) -> MaintenanceWindow:
    if len(window.days) != 1:
        raise ValueError("expected exactly one day: an AKS weekly maintenance schedule takes one")
    return window


class AzureConfig(CloudSection):
    CLOUD = "azure"
    PROVIDER_KEYS = {"location": "azure-native:location"}
    REGION_FIELD = "location"
    WAIVED_OPTIONS = {"RG-03": ("registryRetentionDays",)}
    """A Basic registry (RG-03 waived) has no retention policy."""
    REGISTRY_FIREWALL = "RG-03"
    """A Premium registry's firewall (RG-03) admits the cluster's NAT address and `authorizedCidrs` only."""

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

    def owned_ranges(self) -> list[tuple[str, str]]:
        return [(f"azure.{camel(f)}", getattr(self, f)) for f in ("vnet_cidr", "pod_cidr", "service_cidr")]

    def pool_sections(self) -> dict[str, SystemPool]:
        return {"systemPool": self.system_pool, "generalPool": self.general_pool}

    def checks(self, pools: Sequence[GpuPool]) -> Iterator[str]:
        yield from self._subnets()
        here = [p.name for p in pools if p.on(self.CLOUD)]
        for name in self.gpu_pool_zones if pools else ():
            if name not in here:
                yield problem(
                    f"{self.key('gpu_pool_zones')}.{name}", name, f"a GPU pool on azure ({', '.join(here)})"
                )

    def _subnets(self) -> Iterator[str]:
        """Each subnet lies inside the VNet, apart from the others."""
        vnet = IPv4Network(self.vnet_cidr)
        for i, field in enumerate(SUBNETS):
            cidr = IPv4Network(getattr(self, field))
            if not cidr.subnet_of(vnet):
                yield problem(self.key(field), str(cidr), f"a subnet inside vnetCidr ({self.vnet_cidr})")
            for earlier in SUBNETS[:i]:
                if cidr.overlaps(IPv4Network(getattr(self, earlier))):
                    yield problem(self.key(field), str(cidr), f"a subnet apart from {camel(earlier)}")


SUBNETS = ("system_subnet_cidr", "gpu_subnet_cidr", "api_server_subnet_cidr")
