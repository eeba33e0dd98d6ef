"""A compliant Azure stack: AKS with an inline system pool and a Spot GPU AgentPool, audit export, a
locked-down storage account, a Premium ACR, workload identity and scoped role assignments."""

from __future__ import annotations

from typing import Any

from tests.policy.stacks import Fixture

RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
ACCOUNT_ID = f"{RG}/providers/Microsoft.Storage/storageAccounts/acmeml"
BLOB_READER = "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTAINER = "ml"
REGISTRY = "acmegpuplatform.azurecr.io/"


def _az(type_: str, name: str, props: dict[str, Any], *deps: str, protect: bool = False) -> Fixture:
    return Fixture(type_, name, props, deps, "azure", protect)


def cluster_props() -> dict[str, Any]:
    system_pool = {
        "name": "system",
        "mode": "System",
        "vmSize": "Standard_D4s_v5",
        "enableNodePublicIP": False,
        "enableEncryptionAtHost": True,
        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
        "nodeLabels": {"gpu-platform/pool": "system"},
    }
    return {
        "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"], "enablePrivateCluster": False},
        "securityProfile": {
            "azureKeyVaultKms": {"enabled": True, "keyId": "https://kv.vault.azure.net/keys/aks/1"},
            "workloadIdentity": {"enabled": True},
        },
        "addonProfiles": {"omsagent": {"enabled": True}, "azurepolicy": {"enabled": True}},
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "networkPolicy": "cilium",
        },
        "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
        "disableLocalAccounts": True,
        "aadProfile": {"managed": True, "enableAzureRBAC": True},
        "enableRBAC": True,
        "oidcIssuerProfile": {"enabled": True},
        "agentPoolProfiles": [system_pool],
    }


def _gpu_pool() -> dict[str, Any]:
    return {
        "mode": "User",
        "vmSize": "Standard_NC4as_T4_v3",
        "scaleSetPriority": "Spot",
        "scaleSetEvictionPolicy": "Delete",
        "spotMaxPrice": -1,
        "enableNodePublicIP": False,
        "enableEncryptionAtHost": True,
        "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
        "nodeLabels": {"gpu-platform/pool": "train"},
    }


def _storage() -> list[Fixture]:
    account = {
        "allowBlobPublicAccess": False,
        "minimumTlsVersion": "TLS1_2",
        "enableHttpsTrafficOnly": True,
        "allowSharedKeyAccess": False,
        "networkRuleSet": {"defaultAction": "Deny"},
        "encryption": {"keySource": "Microsoft.Keyvault", "requireInfrastructureEncryption": True},
    }
    blob_service = {
        "deleteRetentionPolicy": {"enabled": True, "days": 7},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 7},
        "isVersioningEnabled": True,
    }
    container = {"containerName": CONTAINER, "publicAccess": "None"}
    return [
        _az("azure-native:storage:StorageAccount", "account", account, protect=True),
        _az("azure-native:storage:BlobServiceProperties", "account-blob", blob_service, "account"),
        _az("azure-native:storage:BlobContainer", "container", container, "account"),
    ]


def _identity() -> list[Fixture]:
    acr = {
        "registryName": "acmegpuplatform",
        "sku": {"name": "Premium"},
        "adminUserEnabled": False,
        "anonymousPullEnabled": False,
        "publicNetworkAccess": "Disabled",
        "policies": {"retentionPolicy": {"status": "enabled", "days": 7}},
    }
    credential = {
        "issuer": "https://eastus.oic.prod-aks.azure.com/tenant/issuer/",
        "subject": "system:serviceaccount:ml:trainer",
        "audiences": ["api://AzureADTokenExchange"],
    }
    assignment = {"scope": ACCOUNT_ID, "roleDefinitionId": BLOB_READER, "principalId": "p"}
    return [
        _az("azure-native:containerregistry:Registry", "acr", acr, protect=True),
        _az("azure-native:managedidentity:FederatedIdentityCredential", "trainer-fic", credential, "aks"),
        _az("azure-native:authorization:RoleAssignment", "serving-blob", assignment, "account"),
    ]


def azure_stack() -> list[Fixture]:
    audit = {"resourceUri": "aks-id", "logs": [{"category": "kube-audit", "enabled": True}]}
    return [
        _az("azure-native:containerservice:ManagedCluster", "aks", cluster_props()),
        _az("azure-native:containerservice:AgentPool", "aks-train", _gpu_pool(), "aks"),
        _az("azure-native:monitor:DiagnosticSetting", "aks-audit", audit, "aks"),
        *_storage(),
        *_identity(),
    ]
