"""Fakes for azure resources and invokes the program uses (see `plan.fakes`).

Every fake answers with what ARM would: the full resource id as the id, the resource's `name`, and the
generated outputs the program reads (principal and client ids, endpoints, the OIDC issuer...).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import yaml

from plan.fakes.registry import FAKE_CA, Ctx, fake_invoke, fake_resource

FAKE_SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
FAKE_TENANT = "00000000-0000-0000-0000-000000000000"
FAKE_DEPLOYER = "99999999-8888-7777-6666-555555555555"
FAKE_LOCATION = "eastus"


def _guid(ctx: Ctx, salt: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.type_}/{ctx.name}/{salt}"))


def _arm(ctx: Ctx, provider_type: str, name_key: str, parent: str = "") -> dict[str, Any]:
    """`__id` (the ARM id) and `name` of a resource named by input `name_key` in its resource group."""
    name = str(ctx.inputs.get(name_key) or ctx.name)
    group = ctx.inputs.get("resourceGroupName", "rg")
    prefix = f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/{group}/providers/{provider_type}"
    return {"__id": f"{prefix}/{parent}{name}" if parent else f"{prefix}/{name}", "name": name}


def _identity_out(ctx: Ctx) -> dict[str, Any]:
    """ARM answers `identity.userAssignedIdentities` (a list of ids on input) as a map id -> ids."""
    identity = ctx.inputs.get("identity")
    if not identity or "userAssignedIdentities" not in identity:
        return {}
    ids = identity["userAssignedIdentities"]
    users = {i: {"principalId": _guid(ctx, f"p{i}"), "clientId": _guid(ctx, f"c{i}")} for i in ids}
    return {"identity": {**identity, "userAssignedIdentities": users}}


@fake_resource("azure-native:resources:ResourceGroup")
def _group(ctx: Ctx) -> dict[str, Any]:
    name = ctx.inputs["resourceGroupName"]
    return {"__id": f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/{name}", "name": name}


@fake_resource("azure-native:network:VirtualNetwork")
def _vnet(ctx: Ctx) -> dict[str, Any]:
    return _arm(ctx, "Microsoft.Network/virtualNetworks", "virtualNetworkName")


@fake_resource("azure-native:network:Subnet")
def _subnet(ctx: Ctx) -> dict[str, Any]:
    vnet = ctx.inputs["virtualNetworkName"]
    return _arm(ctx, "Microsoft.Network/virtualNetworks", "subnetName", parent=f"{vnet}/subnets/")


@fake_resource("azure-native:network:NetworkSecurityGroup")
def _nsg(ctx: Ctx) -> dict[str, Any]:
    return _arm(ctx, "Microsoft.Network/networkSecurityGroups", "networkSecurityGroupName")


@fake_resource("azure-native:network:PublicIPAddress")
def _public_ip(ctx: Ctx) -> dict[str, Any]:
    # 203.0.113.0/24 is TEST-NET-3: plausible, never routable.
    last = int(ctx.hex(2), 16) % 254 + 1
    return {
        **_arm(ctx, "Microsoft.Network/publicIPAddresses", "publicIpAddressName"),
        "ipAddress": f"203.0.113.{last}",
    }


@fake_resource("azure-native:network:NatGateway")
def _nat(ctx: Ctx) -> dict[str, Any]:
    return _arm(ctx, "Microsoft.Network/natGateways", "natGatewayName")


@fake_resource("azure-native:keyvault:Vault")
def _vault(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.KeyVault/vaults", "vaultName")
    properties = {**ctx.inputs.get("properties", {}), "vaultUri": f"https://{arm['name']}.vault.azure.net/"}
    return {**arm, "properties": properties}


@fake_resource("azure-native:keyvault:Key")
def _key(ctx: Ctx) -> dict[str, Any]:
    vault = ctx.inputs["vaultName"]
    arm = _arm(ctx, "Microsoft.KeyVault/vaults", "keyName", parent=f"{vault}/keys/")
    uri = f"https://{vault}.vault.azure.net/keys/{arm['name']}"
    return {**arm, "keyUri": uri, "keyUriWithVersion": f"{uri}/{ctx.hex(32)}"}


@fake_resource("azure-native:managedidentity:UserAssignedIdentity")
def _identity(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName")
    return {
        **arm,
        "principalId": _guid(ctx, "principal"),
        "clientId": _guid(ctx, "client"),
        "tenantId": FAKE_TENANT,
    }


@fake_resource("azure-native:managedidentity:FederatedIdentityCredential")
def _federation(ctx: Ctx) -> dict[str, Any]:
    uai = ctx.inputs["resourceName"]
    return _arm(
        ctx,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "federatedIdentityCredentialResourceName",
        parent=f"{uai}/federatedIdentityCredentials/",
    )


@fake_resource("azure-native:authorization:RoleAssignment")
def _role_assignment(ctx: Ctx) -> dict[str, Any]:
    name = _guid(ctx, "assignment")
    scope = ctx.inputs.get("scope", "")
    return {"__id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name}


@fake_resource("azure-native:authorization:RoleDefinition")
def _role_definition(ctx: Ctx) -> dict[str, Any]:
    """A custom role: its GUID is the `roleDefinitionId` given (else one the provider would make up), and
    its id the path it was created at, under its `scope`."""
    name = str(ctx.inputs.get("roleDefinitionId") or _guid(ctx, "role"))
    scope = ctx.inputs.get("scope", "")
    return {"__id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{name}", "name": name}


@fake_resource("azure-native:containerservice:ManagedCluster")
def _cluster(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.ContainerService/managedClusters", "resourceName")
    location = ctx.inputs.get("location", FAKE_LOCATION)
    issuer = f"https://{location}.oic.prod-aks.azure.com/{FAKE_TENANT}/{_guid(ctx, 'issuer')}/"
    return {
        **arm,
        **_identity_out(ctx),
        "fqdn": _fqdn(arm["name"], location),
        "oidcIssuerProfile": {**ctx.inputs.get("oidcIssuerProfile", {}), "issuerURL": issuer},
    }


def _fqdn(cluster: str, location: str) -> str:
    return f"{cluster}-{uuid.uuid5(uuid.NAMESPACE_DNS, cluster).hex[:8]}.hcp.{location}.azmk8s.io"


@fake_resource("azure-native:containerservice:AgentPool")
def _agent_pool(ctx: Ctx) -> dict[str, Any]:
    cluster = ctx.inputs["resourceName"]
    return _arm(
        ctx, "Microsoft.ContainerService/managedClusters", "agentPoolName", parent=f"{cluster}/agentPools/"
    )


@fake_resource("azure-native:operationalinsights:Workspace")
def _workspace(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.OperationalInsights/workspaces", "workspaceName")
    return {**arm, "customerId": _guid(ctx, "customer")}


@fake_resource("azure-native:monitor:DiagnosticSetting")
def _diagnostic(ctx: Ctx) -> dict[str, Any]:
    name = ctx.inputs.get("name", ctx.name)
    return {"__id": f"{ctx.inputs['resourceUri']}/providers/Microsoft.Insights/diagnosticSettings/{name}"}


@fake_resource("azure-native:storage:StorageAccount")
def _account(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.Storage/storageAccounts", "accountName")
    host = f"{arm['name']}.blob.core.windows.net"
    return {
        **arm,
        **_identity_out(ctx),
        "primaryEndpoints": {"blob": f"https://{host}/", "dfs": f"https://{host.replace('blob', 'dfs')}/"},
    }


@fake_resource("azure-native:storage:BlobContainer")
def _container(ctx: Ctx) -> dict[str, Any]:
    account = ctx.inputs["accountName"]
    parent = f"{account}/blobServices/default/containers/"
    return _arm(ctx, "Microsoft.Storage/storageAccounts", "containerName", parent=parent)


@fake_resource("azure-native:containerregistry:Registry")
def _registry(ctx: Ctx) -> dict[str, Any]:
    arm = _arm(ctx, "Microsoft.ContainerRegistry/registries", "registryName")
    return {**arm, "loginServer": f"{arm['name'].lower()}.azurecr.io"}


@fake_invoke("azure-native:authorization:getClientConfig")
def _client_config(_: dict[str, Any]) -> dict[str, Any]:
    return {
        "clientId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "objectId": FAKE_DEPLOYER,
        "subscriptionId": FAKE_SUBSCRIPTION,
        "tenantId": FAKE_TENANT,
    }


@fake_resource("pulumi-python:dynamic/acr:RefreshToken")
def _acr_refresh_token(_: Ctx) -> dict[str, Any]:
    # The exchange itself runs only on a real `up`; tests run it against a local stand-in registry.
    return {"refresh_token": "offline-plan-acr-refresh-token"}


@fake_invoke("azure-native:authorization:getClientToken")
def _client_token(_: dict[str, Any]) -> dict[str, Any]:
    """An unsigned token of the shape Entra issues a signed-in user for ARM (a delegated token: `scp`)."""
    claims = {"aud": "https://management.azure.com/", "oid": FAKE_DEPLOYER, "tid": FAKE_TENANT,
              "scp": "user_impersonation"}  # fmt: skip
    parts = ({"alg": "none", "typ": "JWT"}, claims)
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
    return {"token": ".".join([*encoded, ""])}


@fake_invoke("azure-native:containerservice:listManagedClusterUserCredentials")
def _user_credentials(args: dict[str, Any]) -> dict[str, Any]:
    cluster = args["resourceName"]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {
                    "server": f"https://{_fqdn(cluster, FAKE_LOCATION)}:443",
                    "certificate-authority-data": FAKE_CA,
                },
            }
        ],
        "users": [{"name": f"clusterUser_{cluster}", "user": {"exec": {"command": "kubelogin"}}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{cluster}"}}],
        "current-context": cluster,
    }
    value = base64.b64encode(yaml.safe_dump(doc).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}
