"""Every enum-valued input the Azure platform sets is a value of the installed SDK's enum: a wrong
spelling passes the mock engine but fails on a real subscription."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pulumi_azure_native.containerregistry as cr
import pulumi_azure_native.containerservice as cs
import pulumi_azure_native.keyvault as kv
import pulumi_azure_native.network as net
import pulumi_azure_native.storage as st
import pytest

from plan.runner import Plan
from tests.infra.clouds.azure.helpers import azure

CHECKS: list[tuple[str, str, type[Enum]]] = [
    ("containerservice:ManagedCluster", "sku.name", cs.ManagedClusterSKUName),
    ("containerservice:ManagedCluster", "sku.tier", cs.ManagedClusterSKUTier),
    ("containerservice:ManagedCluster", "identity.type", cs.ResourceIdentityType),
    ("containerservice:ManagedCluster", "autoUpgradeProfile.upgradeChannel", cs.UpgradeChannel),
    ("containerservice:ManagedCluster", "autoUpgradeProfile.nodeOSUpgradeChannel", cs.NodeOSUpgradeChannel),
    ("containerservice:ManagedCluster", "networkProfile.networkPlugin", cs.NetworkPlugin),
    ("containerservice:ManagedCluster", "networkProfile.networkPluginMode", cs.NetworkPluginMode),
    ("containerservice:ManagedCluster", "networkProfile.networkPolicy", cs.NetworkPolicy),
    ("containerservice:ManagedCluster", "networkProfile.networkDataplane", cs.NetworkDataplane),
    ("containerservice:ManagedCluster", "networkProfile.outboundType", cs.OutboundType),
    ("containerservice:ManagedCluster", "networkProfile.loadBalancerSku", cs.LoadBalancerSku),
    (
        "containerservice:ManagedCluster",
        "securityProfile.azureKeyVaultKms.keyVaultNetworkAccess",
        cs.KeyVaultNetworkAccessTypes,
    ),
    ("containerservice:ManagedCluster", "agentPoolProfiles.0.mode", cs.AgentPoolMode),
    ("containerservice:ManagedCluster", "agentPoolProfiles.0.osSKU", cs.OSSKU),
    ("containerservice:ManagedCluster", "agentPoolProfiles.0.scaleSetPriority", cs.ScaleSetPriority),
    ("containerservice:AgentPool", "mode", cs.AgentPoolMode),
    ("containerservice:AgentPool", "osSKU", cs.OSSKU),
    ("containerservice:AgentPool", "osType", cs.OSType),
    ("containerservice:AgentPool", "type", cs.AgentPoolType),
    ("containerservice:AgentPool", "scaleSetPriority", cs.ScaleSetPriority),
    ("containerservice:AgentPool", "scaleSetEvictionPolicy", cs.ScaleSetEvictionPolicy),
    ("containerservice:AgentPool", "gpuProfile.driver", cs.GPUDriver),
    ("keyvault:Vault", "properties.sku.name", kv.SkuName),
    ("keyvault:Vault", "properties.publicNetworkAccess", kv.PublicNetworkAccess),
    ("keyvault:Vault", "properties.networkAcls.defaultAction", kv.NetworkRuleAction),
    ("keyvault:Vault", "properties.networkAcls.bypass", kv.NetworkRuleBypassOptions),
    ("keyvault:Key", "properties.kty", kv.JsonWebKeyType),
    (
        "keyvault:Key",
        "properties.rotationPolicy.lifetimeActions.0.action.type",
        kv.KeyRotationPolicyActionType,
    ),
    ("storage:StorageAccount", "kind", st.Kind),
    ("storage:StorageAccount", "sku.name", st.SkuName),
    ("storage:StorageAccount", "minimumTlsVersion", st.MinimumTlsVersion),
    ("storage:StorageAccount", "networkRuleSet.defaultAction", st.DefaultAction),
    ("storage:StorageAccount", "networkRuleSet.bypass", st.Bypass),
    ("storage:StorageAccount", "encryption.keySource", st.KeySource),
    ("storage:StorageAccount", "publicNetworkAccess", st.PublicNetworkAccess),
    ("storage:BlobContainer", "publicAccess", st.PublicAccess),
    ("storage:ManagementPolicy", "policy.rules.0.type", st.RuleType),
    ("containerregistry:Registry", "sku.name", cr.SkuName),
    ("containerregistry:Registry", "publicNetworkAccess", cr.PublicNetworkAccess),
    ("containerregistry:Registry", "networkRuleSet.defaultAction", cr.DefaultAction),
    ("containerregistry:Registry", "networkRuleBypassOptions", cr.NetworkRuleBypassOptions),
    ("containerregistry:Registry", "policies.retentionPolicy.status", cr.PolicyStatus),
    ("network:NatGateway", "sku.name", net.NatGatewaySkuName),
    ("network:PublicIPAddress", "sku.name", net.PublicIPAddressSkuName),
    ("network:PublicIPAddress", "sku.tier", net.PublicIPAddressSkuTier),
    ("network:PublicIPAddress", "publicIPAllocationMethod", net.IPAllocationMethod),
]


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        if value is None:
            return None
        value = value[int(part)] if isinstance(value, list) else value.get(part)
    return value


UNSET_IN_DEV = {
    ("containerregistry:Registry", "networkRuleSet.defaultAction"),
    ("containerregistry:Registry", "policies.retentionPolicy.status"),
}
"""What dev's RG-03 waiver leaves unset: its Basic registry has neither a firewall nor retention."""


@pytest.mark.parametrize(("type_", "path", "enum"), CHECKS, ids=[f"{t}.{p}" for t, p, _ in CHECKS])
def test_enum_values_exist_in_the_sdk(stack_plan: Plan, type_: str, path: str, enum: type[Enum]) -> None:
    values = [_at(r.inputs, path) for r in azure(stack_plan, f"azure-native:{type_}")]
    allowed = {e.value for e in enum}
    assert values, f"no {type_} in the plan"
    assert all(v is None or v in allowed for v in values), (values, sorted(allowed))
    unset = path.endswith("scaleSetEvictionPolicy") or (
        stack_plan.stack == "dev" and (type_, path) in UNSET_IN_DEV
    )
    assert any(v is not None for v in values) or unset
