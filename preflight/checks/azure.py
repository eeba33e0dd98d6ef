"""Azure checks: pure functions of `AzureFacts` and the stack config (docs/azure.md says what each needs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic.alias_generators import to_camel

from infra.catalog import Cloud
from infra.config import StackConfig
from infra.config.azure import AzureConfig
from preflight.checks.common import name_row, quota_row, unreadable
from preflight.facts import AzureFacts, AzureSku, Quota, Unreadable
from preflight.pools import PoolMachine, gpu_machines
from preflight.report import Row, Status

CLOUD: Cloud = "azure"
KEY = "gpu-platform:azure"
SPOT_USAGE = "lowPriorityCores"
"""The compute usage that Spot VMs of every family draw on ("Total Regional Spot vCPUs")."""
PROVIDERS = (
    "Microsoft.ContainerService", "Microsoft.KeyVault", "Microsoft.Storage", "Microsoft.ContainerRegistry",
    "Microsoft.Network", "Microsoft.ManagedIdentity", "Microsoft.OperationalInsights", "Microsoft.Insights",
    "Microsoft.Compute", "Microsoft.PolicyInsights",
)  # fmt: skip
"""The resource providers docs/azure.md asks to register once per subscription."""
NAMES = {"storage_account_name": "storage account", "registry_name": "container registry",
         "key_vault_name": "Key Vault"}  # fmt: skip
"""Config field -> what its globally unique name is of."""
EAH_FEATURE = "Microsoft.Compute/EncryptionAtHost"


@dataclass(frozen=True)
class AzurePool:
    name: str
    size: str
    zones: tuple[str, ...]
    zones_key: str
    """The config key that names the pool's zones."""


def pools(cfg: StackConfig, azure: AzureConfig) -> list[AzurePool]:
    """Every pool the cluster has (each sets encryption at host): system, general and the GPU pools."""
    key = f"{KEY}.availabilityZones"
    found = [
        AzurePool("system", azure.system_pool.machine_type, azure.availability_zones, key),
        AzurePool("general", azure.general_pool.machine_type, azure.availability_zones, key),
    ]
    for m in gpu_machines(cfg, CLOUD):
        zones = tuple(azure.gpu_pool_zones.get(m.pool.name, ()))
        found.append(AzurePool(m.pool.name, m.offer.machine_type, zones, f"{KEY}.gpuPoolZones.{m.pool.name}"))
    return found


def identity(facts: AzureFacts, azure: AzureConfig) -> Row:
    who = f"{facts.principal} in tenant {facts.tenant}"
    if facts.tenant != azure.tenant_id:
        found = f"signed in as {who}, but {KEY}.tenantId is {azure.tenant_id}"
        return Row(CLOUD, "identity", Status.FAIL, found, f"az login --tenant {azure.tenant_id}")
    sub = facts.subscription
    if isinstance(sub, Unreadable):
        found = f"{who} cannot read the subscription: {sub.error}"
        fix = "az account set --subscription ID (or set ARM_SUBSCRIPTION_ID) to the stack's subscription"
        return Row(CLOUD, "identity", Status.FAIL, found, fix)
    found = f"{who}; subscription {sub.name} ({sub.id}) is {sub.state}, in tenant {sub.tenant_id}"
    if sub.tenant_id != azure.tenant_id or sub.state != "Enabled":
        fix = f"choose an Enabled subscription of tenant {azure.tenant_id}: az account set --subscription ID"
        return Row(CLOUD, "identity", Status.FAIL, found, fix)
    return Row(CLOUD, "identity", Status.PASS, found)


def versions(facts: AzureFacts, azure: AzureConfig) -> Row:
    minor, where = azure.kubernetes_version, f"AKS in {azure.location}"
    offered = facts.kubernetes_versions
    if isinstance(offered, Unreadable):
        return unreadable(CLOUD, "versions", f"the Kubernetes versions of {where}", offered)
    fix = f"set {KEY}.kubernetesVersion to one of {', '.join(sorted(offered))} (az aks get-versions)"
    version = offered.get(minor)
    if version is None:
        return Row(CLOUD, "versions", Status.FAIL, f"{where} does not offer Kubernetes {minor}", fix)
    if "KubernetesOfficial" not in version.support_plans:
        found = f"{where} offers {minor} only with long-term support (Premium tier, LTS plan)"
        return Row(CLOUD, "versions", Status.FAIL, found, fix)
    if version.preview:
        found = f"{where} offers Kubernetes {minor} as a preview only"
        return Row(CLOUD, "versions", Status.WARN, found, fix)
    return Row(CLOUD, "versions", Status.PASS, f"{where} offers Kubernetes {minor}")


def capacity(facts: AzureFacts, cfg: StackConfig, azure: AzureConfig) -> list[Row]:
    skus = facts.skus
    if isinstance(skus, Unreadable):
        return [unreadable(CLOUD, "capacity", f"the VM sizes of {azure.location}", skus)]
    every = pools(cfg, azure)
    sizes = [size for size in dict.fromkeys(p.size for p in every) if size in skus]
    return [
        *_quotas(facts, skus, gpu_machines(cfg, CLOUD), azure),
        *[_zones(skus.get(p.size), p, azure.location) for p in every],
        *[_encryption_at_host(size, skus[size]) for size in sizes],
        _feature(facts),
    ]


def _quotas(
    facts: AzureFacts, skus: Mapping[str, AzureSku], machines: list[PoolMachine], azure: AzureConfig
) -> list[Row]:
    usages = facts.usages
    if isinstance(usages, Unreadable):
        return [unreadable(CLOUD, "capacity", f"the vCPU quotas of {azure.location}", usages)]
    needs: dict[str, list[PoolMachine]] = defaultdict(list)
    for m in machines:
        sku = skus.get(m.offer.machine_type)
        if sku is not None:
            needs[SPOT_USAGE if m.pool.spot else sku.family].append(m)
    rows = []
    for usage, users in needs.items():
        need = sum(m.vcpus for m in users)
        label = f"{usage} in {azure.location} for {', '.join(m.describe() for m in users)}"
        fix = f"request {usage} >= {need} vCPUs in {azure.location} (portal: Quotas > Compute)"
        rows.append(quota_row(CLOUD, label, usages.get(usage, Quota(0)), need, unit="vCPUs", fix=fix))
    return rows


def _zones(sku: AzureSku | None, pool: AzurePool, location: str) -> Row:
    where = f"{pool.name}: {pool.size} in {location}"
    if sku is None:
        return Row(
            CLOUD, "capacity", Status.FAIL, f"{where} is not offered", "choose another size or location"
        )
    if sku.location_restriction:
        found = f"{where} is restricted for this subscription ({sku.location_restriction})"
        fix = "request access to the size (a support request), or choose another location"
        return Row(CLOUD, "capacity", Status.FAIL, found, fix)
    usable = [z for z in sku.zones if z not in sku.restricted_zones]
    missing = [z for z in pool.zones if z not in usable]
    offered = ", ".join(usable) or "none"
    if missing:
        found = (
            f"{where}: zones {', '.join(missing)} are not offered to this subscription (offered: {offered})"
        )
        return Row(CLOUD, "capacity", Status.FAIL, found, f"set {pool.zones_key} to some of [{offered}]")
    placed = f"zones {', '.join(pool.zones)}" if pool.zones else "regional"
    return Row(CLOUD, "capacity", Status.PASS, f"{where} is offered ({placed}; zones offered: {offered})")


def _encryption_at_host(size: str, sku: AzureSku) -> Row:
    if sku.encryption_at_host:
        return Row(CLOUD, "capacity", Status.PASS, f"{size} supports encryption at host")
    found = f"{size} does not support encryption at host, which every pool sets (ND-07)"
    return Row(CLOUD, "capacity", Status.FAIL, found, "choose a size whose EncryptionAtHostSupported is True")


def _feature(facts: AzureFacts) -> Row:
    state = facts.encryption_at_host_feature
    if isinstance(state, Unreadable):
        return unreadable(CLOUD, "capacity", f"the feature {EAH_FEATURE}", state)
    if state == "Registered":
        return Row(CLOUD, "capacity", Status.PASS, f"subscription feature {EAH_FEATURE} is Registered")
    fix = (
        "az feature register --namespace Microsoft.Compute --name EncryptionAtHost, wait for Registered, "
        "then az provider register --namespace Microsoft.Compute"
    )
    return Row(CLOUD, "capacity", Status.FAIL, f"subscription feature {EAH_FEATURE} is {state}", fix)


def names(facts: AzureFacts, azure: AzureConfig) -> list[Row]:
    rows = []
    for field, what in NAMES.items():
        key, name = to_camel(field), str(getattr(azure, field))
        state = facts.names[key]
        if isinstance(state, Unreadable):
            rows.append(unreadable(CLOUD, "names", f"{what} name {name}", state))
        else:
            rows.append(name_row(CLOUD, what, f"{KEY}.{key}", name, state))
    return rows


def prerequisites(facts: AzureFacts) -> Row:
    providers = facts.providers
    if isinstance(providers, Unreadable):
        return unreadable(CLOUD, "prerequisites", "the resource providers", providers)
    missing = [p for p in PROVIDERS if providers.get(p, "NotRegistered") != "Registered"]
    if not missing:
        return Row(
            CLOUD, "prerequisites", Status.PASS, f"all {len(PROVIDERS)} resource providers are registered"
        )
    found = "not registered: " + ", ".join(f"{p} ({providers.get(p, 'NotRegistered')})" for p in missing)
    fix = "; ".join(f"az provider register --namespace {p}" for p in missing)
    return Row(CLOUD, "prerequisites", Status.FAIL, found, fix)


def check(facts: AzureFacts, cfg: StackConfig) -> list[Row]:
    azure = cfg.azure
    if azure is None:
        raise ValueError("the stack does not enable azure")
    return [
        identity(facts, azure),
        versions(facts, azure),
        *capacity(facts, cfg, azure),
        *names(facts, azure),
        prerequisites(facts),
    ]
