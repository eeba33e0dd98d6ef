"""Pricing rules for the Azure resources (pulumi_azure_native 3.x type tokens and wire names)."""

from __future__ import annotations

from typing import Any

from plan.cost import prices as p
from plan.cost.context import Context, Rule
from plan.cost.machines import Pool, azure_os_disk_charges, pool_charges
from plan.cost.model import DAYS_PER_MONTH, HOURS_PER_MONTH, Charge, PriceError
from plan.runner import PlannedResource

AKS_DEFAULT_OS_DISK_GB = 128
H = HOURS_PER_MONTH


def _sku(res: PlannedResource) -> dict[str, Any]:
    sku: dict[str, Any] = res.inputs.get("sku") or {}
    return sku


def pool(profile: dict[str, Any], label: str) -> list[Charge]:
    """An agent pool, whether a ManagedCluster's `agentPoolProfiles` entry or an AgentPool resource."""
    if profile.get("enableAutoScaling"):
        low, high = int(profile.get("minCount", 0)), int(profile.get("maxCount", 0))
    else:
        low = high = int(profile.get("count", 1))
    spot = profile.get("scaleSetPriority") == "Spot"
    nodes = Pool("azure", str(profile.get("vmSize", "")), spot, low, high)
    name = profile.get("name")
    charges = pool_charges(nodes, f"{label} {name}" if name else label)
    if profile.get("osDiskType") != "Ephemeral":
        charges += azure_os_disk_charges(nodes, int(profile.get("osDiskSizeGB", AKS_DEFAULT_OS_DISK_GB)))
    return charges


def _outbound(network: dict[str, Any]) -> list[Charge]:
    """What AKS creates for egress by itself: a public Standard LB (the default) or a managed NAT gateway.
    A user-assigned NAT gateway is a resource of the plan and priced there."""
    kind = network.get("outboundType", "loadBalancer")
    if kind == "loadBalancer":
        return [
            Charge("egress load balancer (AKS-managed)", p.AZURE_LB_HOUR, H),
            Charge("egress public IP (AKS-managed)", p.AZURE_PUBLIC_IP, H),
        ]
    if kind == "managedNATGateway":
        return [
            Charge("NAT gateway (AKS-managed)", p.AZURE_NAT_HOUR, H),
            Charge("NAT public IP (AKS-managed)", p.AZURE_PUBLIC_IP, H),
        ]
    return []


def managed_cluster(res: PlannedResource, ctx: Context) -> list[Charge]:
    tier = _sku(res).get("tier", "Free")
    if tier not in p.AKS_TIERS:
        raise PriceError(f"no price for AKS tier {tier!r}; priced: {', '.join(p.AKS_TIERS)}")
    charges = [Charge(f"AKS control plane ({tier} tier)", p.AKS_TIERS[tier], H)]
    for profile in res.inputs.get("agentPoolProfiles") or []:
        label = "system nodes" if profile.get("mode") == "System" else "nodes"
        charges += pool(profile, label)
    return charges + _outbound(res.inputs.get("networkProfile") or {})


def agent_pool(res: PlannedResource, ctx: Context) -> list[Charge]:
    labels: dict[str, Any] = res.inputs.get("nodeLabels") or {}
    gpu = labels.get("nvidia.com/gpu.present") == "true" or str(res.inputs.get("vmSize", "")).startswith(
        "Standard_N"
    )
    return pool({**res.inputs, "name": None}, "GPU nodes" if gpu else "nodes")


def nat_gateway(res: PlannedResource, ctx: Context) -> list[Charge]:
    note = f"assumed {p.Assumed.NAT_GB:g} GB/month"
    return [
        Charge("NAT gateway", p.AZURE_NAT_HOUR, H),
        Charge("NAT gateway data processing", p.AZURE_NAT_GB, p.Assumed.NAT_GB, note=note),
    ]


def public_ip(res: PlannedResource, ctx: Context) -> list[Charge]:
    sku = _sku(res).get("name", "Standard")
    if sku != "Standard":
        raise PriceError(f"no price for public IP SKU {sku!r} (Basic IPs are retired); priced: Standard")
    return [Charge("public IP address (Standard, static)", p.AZURE_PUBLIC_IP, H)]


def load_balancer(res: PlannedResource, ctx: Context) -> list[Charge]:
    return [Charge("Standard load balancer", p.AZURE_LB_HOUR, H)]


def key(res: PlannedResource, ctx: Context) -> list[Charge]:
    props: dict[str, Any] = res.inputs.get("properties") or {}
    ops = p.Assumed.KEY_VAULT_OPERATIONS_10K
    note = f"assumed {ops * 10_000:,.0f} operations/month"
    charges = [Charge("Key Vault key operations", p.AZURE_KV_OPERATIONS, ops, note=note)]
    if str(props.get("kty", "RSA")).endswith("-HSM"):
        charges.append(Charge("Key Vault HSM-protected key", p.AZURE_KV_HSM_KEY, 1))
    return charges


def storage_account(res: PlannedResource, ctx: Context) -> list[Charge]:
    sku = _sku(res).get("name", "Standard_LRS")
    if sku not in p.AZURE_BLOB_HOT:
        raise PriceError(f"no price for storage SKU {sku!r}; priced: {', '.join(p.AZURE_BLOB_HOT)}")
    gb = p.Assumed.OBJECT_STORE_GB
    note = f"assumed {gb:g} GB stored in the Hot tier; operations and egress not included"
    return [Charge(f"Blob storage ({sku})", p.AZURE_BLOB_HOT[sku], gb, note=note)]


def registry(res: PlannedResource, ctx: Context) -> list[Charge]:
    sku = _sku(res).get("name")
    if sku not in p.ACR_SKUS:
        raise PriceError(f"no price for container registry SKU {sku!r}; priced: {', '.join(p.ACR_SKUS)}")
    return [Charge(f"Container Registry {sku}", p.ACR_SKUS[sku], DAYS_PER_MONTH)]


def workspace(res: PlannedResource, ctx: Context) -> list[Charge]:
    gb, free = p.Assumed.LOG_ANALYTICS_GB, p.LOG_ANALYTICS_FREE_GB
    note = (
        f"assumed {gb:g} GB/month ingested, the first {free:g} GB per billing account free (assumes no "
        "other workspace uses them); retention beyond 31 days not included"
    )
    return [Charge("Log Analytics ingestion", p.LOG_ANALYTICS_INGEST, max(0.0, gb - free), note=note)]


RULES: dict[str, Rule] = {
    "azure-native:containerservice:ManagedCluster": managed_cluster,
    "azure-native:containerservice:AgentPool": agent_pool,
    "azure-native:network:NatGateway": nat_gateway,
    "azure-native:network:PublicIPAddress": public_ip,
    "azure-native:network:LoadBalancer": load_balancer,
    "azure-native:keyvault:Key": key,
    "azure-native:storage:StorageAccount": storage_account,
    "azure-native:containerregistry:Registry": registry,
    "azure-native:operationalinsights:Workspace": workspace,
}
