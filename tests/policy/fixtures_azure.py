"""A compliant Azure stack: AKS with an inline system pool and a Spot GPU AgentPool, audit export and
Container insights, admission policies assigned to the cluster, a locked-down storage account, a Premium
ACR, workload identity and scoped role assignments."""

from __future__ import annotations

from typing import Any

from tests.policy.stacks import Fixture

RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
ACCOUNT_ID = f"{RG}/providers/Microsoft.Storage/storageAccounts/acmeml"
BLOB_READER = "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CLUSTER_ID = f"{RG}/providers/Microsoft.ContainerService/managedClusters/aks"
WORKSPACE_ID = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/logs"
POLICIES = "/providers/Microsoft.Authorization"
ALLOWED_IMAGES = f"{POLICIES}/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
RESTRICTED_PODS = f"{POLICIES}/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00"
AKS_NAMESPACES = ["kube-system", "gatekeeper-system", "azure-arc", "azure-extensions-usage-system"]
INSIGHTS_STREAMS = ["Microsoft-ContainerInsights-Group-Default"]
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


def _admission() -> list[Fixture]:
    """The two built-ins the Azure Policy add-on enforces, assigned to the cluster with effect Deny."""

    def assignment(definition: str, **parameters: Any) -> dict[str, Any]:
        values = {"effect": "Deny", "excludedNamespaces": AKS_NAMESPACES, **parameters}
        return {
            "scope": CLUSTER_ID,
            "policyDefinitionId": definition,
            "enforcementMode": "Default",
            "parameters": {key: {"value": value} for key, value in values.items()},
        }

    regex = r"^acmegpuplatform\.azurecr\.io/.+$"
    images = assignment(ALLOWED_IMAGES, allowedContainerImagesRegex=regex)
    return [
        _az("azure-native:authorization:PolicyAssignment", "allowed-images", images, "aks", "acr"),
        _az(
            "azure-native:authorization:PolicyAssignment",
            "restricted-pods",
            assignment(RESTRICTED_PODS),
            "aks",
        ),
    ]


def _insights() -> list[Fixture]:
    """Container insights under managed-identity auth: the rule says what to collect and where."""
    extension = {"name": "ContainerInsightsExtension", "extensionName": "ContainerInsights"}
    rule = {
        "kind": "Linux",
        "dataSources": {"extensions": [{**extension, "streams": INSIGHTS_STREAMS}]},
        "destinations": {"logAnalytics": [{"name": "workspace", "workspaceResourceId": WORKSPACE_ID}]},
        "dataFlows": [{"streams": INSIGHTS_STREAMS, "destinations": ["workspace"]}],
    }
    link = {
        "associationName": "ContainerInsightsExtension",
        "resourceUri": CLUSTER_ID,
        "dataCollectionRuleId": "r",
    }
    return [
        _az("azure-native:monitor:DataCollectionRule", "aks-insights", rule),
        _az(
            "azure-native:monitor:DataCollectionRuleAssociation",
            "aks-insights-link",
            link,
            "aks",
            "aks-insights",
        ),
    ]


def _credential(name: str) -> dict[str, Any]:
    return {
        "issuer": "https://eastus.oic.prod-aks.azure.com/tenant/issuer/",
        "subject": f"system:serviceaccount:ml:{name}",
        "audiences": ["api://AzureADTokenExchange"],
    }


def _identity() -> list[Fixture]:
    acr = {
        "registryName": "acmegpuplatform",
        "sku": {"name": "Premium"},
        "adminUserEnabled": False,
        "anonymousPullEnabled": False,
        "publicNetworkAccess": "Disabled",
        "policies": {"retentionPolicy": {"status": "enabled", "days": 7}},
    }
    assignment = {"scope": ACCOUNT_ID, "roleDefinitionId": BLOB_READER, "principalId": "p"}
    return [
        _az("azure-native:containerregistry:Registry", "acr", acr, protect=True),
        _az(
            "azure-native:managedidentity:FederatedIdentityCredential",
            "trainer-fic",
            _credential("trainer"),
            "aks",
        ),
        _az(
            "azure-native:managedidentity:FederatedIdentityCredential",
            "serving-fic",
            _credential("serving"),
            "aks",
        ),
        _az("azure-native:authorization:RoleAssignment", "serving-blob", assignment, "account"),
    ]


NETWORK_CONTRIBUTOR = (
    "/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"
)
ADDRESS_ROLE_GUID = "3c6f0b9e-2a41-5d7e-8f10-9b2c4d6e8a01"
"""The cluster identity's custom role on the address's group: read and join its public IPs, nothing else."""
ADDRESS_ACTIONS = [
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/publicIPAddresses/join/action",
]


def _gateway_address() -> list[Fixture]:
    """The gateway's address alone in its own group, and the cluster identity's custom role on that group."""
    group = f"{RG}-gateway"
    role = {
        "roleDefinitionId": ADDRESS_ROLE_GUID,
        "scope": group,
        "assignableScopes": [group],
        "roleName": "gpu-platform gateway address rg-gateway 0a1b2c3d",
        "roleType": "CustomRole",
        "permissions": [{"actions": list(ADDRESS_ACTIONS)}],
    }
    grant = {
        "scope": group,
        "roleDefinitionId": (
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/"
            f"roleDefinitions/{ADDRESS_ROLE_GUID}"
        ),
        "principalType": "ServicePrincipal",
    }
    return [
        _az("azure-native:resources:ResourceGroup", "gateway-rg", {"resourceGroupName": "rg-gateway"}),
        _az(
            "azure-native:network:PublicIPAddress",
            "gateway-ip",
            {"resourceGroupName": "rg-gateway"},
            "gateway-rg",
        ),
        _az("azure-native:authorization:RoleDefinition", "gateway-role", role, "gateway-rg"),
        _az(
            "azure-native:authorization:RoleAssignment",
            "gateway-network",
            grant,
            "gateway-rg",
            "gateway-role",
        ),
    ]


def azure_stack() -> list[Fixture]:
    audit = {"resourceUri": "aks-id", "logs": [{"category": "kube-audit", "enabled": True}]}
    return [
        _az("azure-native:containerservice:ManagedCluster", "aks", cluster_props()),
        _az("azure-native:containerservice:AgentPool", "aks-train", _gpu_pool(), "aks"),
        _az("azure-native:monitor:DiagnosticSetting", "aks-audit", audit, "aks"),
        *_insights(),
        *_admission(),
        *_storage(),
        *_identity(),
        *_gateway_address(),
    ]
