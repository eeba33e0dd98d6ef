"""Lookups over a plan's Azure resources."""

from __future__ import annotations

from typing import Any

from plan.runner import Plan, PlannedResource

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
REGISTRY = "azure-native:containerregistry:Registry"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"


def azure(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(type_) if r.cloud == "azure"]


GATEWAY_IP = "gpu-platform:azure:GatewayIp"
"""The gateway's address, its group and grant (with `serving.domain`): test_gateway_address.py's."""


def platform_of(plan: Plan, type_: str) -> list[PlannedResource]:
    """Azure resources of a type but the gateway address's."""
    return [r for r in azure(plan, type_) if GATEWAY_IP not in r.urn]


def one(plan: Plan, type_: str) -> PlannedResource:
    found = platform_of(plan, type_)
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]


def named(plan: Plan, type_: str, suffix: str) -> PlannedResource:
    found = [r for r in azure(plan, type_) if r.name.endswith(suffix)]
    assert len(found) == 1, f"expected one {type_} named *{suffix}, found {[r.name for r in found]}"
    return found[0]


def cluster(plan: Plan) -> dict[str, Any]:
    return one(plan, CLUSTER).inputs


def gpu_pools(plan: Plan) -> dict[str, dict[str, Any]]:
    """The GPU AgentPools by pool name."""
    return {
        r.inputs["agentPoolName"]: r.inputs
        for r in azure(plan, AGENT_POOL)
        if "nvidia.com/gpu.present" in r.inputs.get("nodeLabels", {})
    }


def role_ids(plan: Plan, guid: str) -> list[PlannedResource]:
    """The role assignments of one built-in role (by its GUID)."""
    grants = platform_of(plan, ROLE_ASSIGNMENT)
    return [r for r in grants if r.inputs["roleDefinitionId"].endswith(f"/{guid}")]
