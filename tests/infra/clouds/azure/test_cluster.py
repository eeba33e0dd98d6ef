"""The AKS ManagedCluster carries the control-plane controls on both stacks (CP-03..13, ND-06/07/10)."""

from __future__ import annotations

import pytest

from infra.clouds.azure import cluster as cluster_module
from infra.clouds.azure.context import ROLE_IDS, BuiltInRole
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import CLUSTER, KEY, REGISTRY, VAULT, cluster, named, one, role_ids
from tests.infra.clouds.federated import gke_nat
from tests.plans import plan_with, stack_values, waits_for

AZ = "gpu-platform:azure"


def test_cp03_api_server_limited_to_authorized_ranges(stack_plan: Plan) -> None:
    """The configured ranges and, where AKS is a MultiKueue worker (prod), the manager's (GKE's) NAT."""
    access = cluster(stack_plan)["apiServerAccessProfile"]
    expected = stack_values(stack_plan.stack)[AZ]["apiAccess"]["authorizedCidrs"]
    manager = [f"{ip}/32" for ip in gke_nat(stack_plan)] if stack_plan.stack == "prod" else []
    assert access["enablePrivateCluster"] is False
    assert access["authorizedIPRanges"] == [*expected, *manager]
    assert "0.0.0.0/0" not in access["authorizedIPRanges"]


def test_cp03_api_server_is_vnet_integrated(stack_plan: Plan) -> None:
    access = cluster(stack_plan)["apiServerAccessProfile"]
    assert access["enableVnetIntegration"] is True
    assert access["subnetId"].endswith("/subnets/apiserver")


def test_cp04_secrets_encrypted_with_key_vault_kms(stack_plan: Plan) -> None:
    kms = cluster(stack_plan)["securityProfile"]["azureKeyVaultKms"]
    key = named(stack_plan, KEY, "-aks-kms")
    vault = one(stack_plan, VAULT)
    assert kms["enabled"] is True
    assert kms["keyId"].startswith(f"https://{vault.inputs['vaultName']}.vault.azure.net/keys/aks-kms/")
    assert kms["keyVaultNetworkAccess"] == "Private"
    assert kms["keyVaultResourceId"].endswith(f"/vaults/{vault.inputs['vaultName']}")
    assert key.urn in one(stack_plan, CLUSTER).depends_on


def test_cp04_key_vault_is_rbac_purge_protected_and_private(stack_plan: Plan) -> None:
    props = one(stack_plan, VAULT).inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["enableSoftDelete"] is True
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}


def test_cp04_control_plane_can_use_only_its_key(stack_plan: Plan) -> None:
    crypto = role_ids(stack_plan, ROLE_IDS["Key Vault Crypto User"])
    assert len(crypto) == 1
    assert crypto[0].inputs["scope"].endswith("/keys/aks-kms")
    assert waits_for(stack_plan, one(stack_plan, CLUSTER), crypto[0])


def test_cp06_container_insights_and_kube_audit_logs(stack_plan: Plan) -> None:
    addons = cluster(stack_plan)["addonProfiles"]
    workspace = one(stack_plan, "azure-native:operationalinsights:Workspace")
    setting = one(stack_plan, "azure-native:monitor:DiagnosticSetting").inputs
    assert addons["omsagent"]["enabled"] is True
    assert addons["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"].endswith(
        workspace.inputs["workspaceName"]
    )
    assert setting["resourceUri"].endswith("/managedClusters/" + cluster(stack_plan)["resourceName"])
    assert setting["workspaceId"] == addons["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"]
    audit = [log["category"] for log in setting["logs"] if log["category"].startswith("kube-audit")]
    assert audit == [stack_values(stack_plan.stack)[AZ]["auditLog"]]
    assert all(log["enabled"] for log in setting["logs"])


def test_cp08_network_policy_enforced(stack_plan: Plan) -> None:
    profile = cluster(stack_plan)["networkProfile"]
    assert profile["networkPolicy"] in {"azure", "calico", "cilium"}
    if profile["networkPolicy"] == "cilium":
        assert profile["networkDataplane"] == "cilium"


def test_cp09_managed_upgrades(stack_plan: Plan) -> None:
    upgrades = cluster(stack_plan)["autoUpgradeProfile"]
    assert upgrades["upgradeChannel"] not in {None, "none"}
    assert upgrades["nodeOSUpgradeChannel"] in {"NodeImage", "SecurityPatch", "Unmanaged"}
    assert cluster(stack_plan)["kubernetesVersion"] == stack_values(stack_plan.stack)[AZ]["kubernetesVersion"]


def test_cp10_no_local_accounts_entra_id_with_azure_rbac(stack_plan: Plan) -> None:
    inputs = cluster(stack_plan)
    aad = inputs["aadProfile"]
    assert inputs["disableLocalAccounts"] is True
    assert inputs["enableRBAC"] is True
    assert aad["managed"] is True
    assert aad["enableAzureRBAC"] is True
    assert aad["adminGroupObjectIDs"] == stack_values(stack_plan.stack)[AZ]["adminGroupObjectIds"]
    assert aad["tenantID"] == stack_values(stack_plan.stack)[AZ]["tenantId"]


def test_cp11_workload_identity_and_oidc_issuer(stack_plan: Plan) -> None:
    inputs = cluster(stack_plan)
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"]["workloadIdentity"] == {"enabled": True}


def test_cp12_azure_cni_overlay_with_pods_outside_the_vnet(stack_plan: Plan) -> None:
    profile = cluster(stack_plan)["networkProfile"]
    section = stack_values(stack_plan.stack)[AZ]
    assert profile["networkPlugin"] == "azure"
    assert profile["networkPluginMode"] == "overlay"
    assert profile["podCidr"] == section["podCidr"]
    assert profile["serviceCidr"] == section["serviceCidr"]
    assert profile["dnsServiceIP"] == cluster_module.dns_service_ip(section["serviceCidr"])
    assert profile["outboundType"] == "userAssignedNATGateway"


def test_cp13_azure_policy_admission(stack_plan: Plan) -> None:
    assert cluster(stack_plan)["addonProfiles"]["azurepolicy"] == {"enabled": True}


def test_sku_tier_free_in_dev_standard_in_prod(dev_plan: Plan, prod_plan: Plan) -> None:
    assert cluster(dev_plan)["sku"] == {"name": "Base", "tier": "Free"}
    assert cluster(prod_plan)["sku"] == {"name": "Base", "tier": "Standard"}


def test_user_assigned_identities_for_control_plane_and_kubelet(stack_plan: Plan) -> None:
    inputs = cluster(stack_plan)
    assert inputs["identity"]["type"] == "UserAssigned"
    assert inputs["identity"]["userAssignedIdentities"][0].endswith("-control-plane")
    assert inputs["identityProfile"]["kubeletidentity"]["resourceId"].endswith("-kubelet")


def test_role_assignments_precede_the_cluster(stack_plan: Plan) -> None:
    """AKS checks its identity's rights on the subnets, kubelet identity and key at creation."""
    needed: tuple[BuiltInRole, ...] = (
        "Network Contributor",
        "Managed Identity Operator",
        "Key Vault Crypto User",
        "Key Vault Contributor",
    )
    cluster = one(stack_plan, CLUSTER)
    for role in needed:
        (grant,) = role_ids(stack_plan, ROLE_IDS[role])
        assert waits_for(stack_plan, cluster, grant), role
    # ...and lets them propagate first: AKS's KMS check fails on a grant that has not arrived yet.
    (pause,) = [r for r in stack_plan.resources if r.name.endswith("-cluster-grants-settle")]
    assert pause.urn in cluster.depends_on
    assert pause.inputs["createDuration"] == "2m"


def test_nd06_nd07_nd10_system_pool(stack_plan: Plan) -> None:
    (system,) = cluster(stack_plan)["agentPoolProfiles"]
    assert system["mode"] == "System"
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["scaleSetPriority"] == "Regular"
    assert system["enableEncryptionAtHost"] is True
    assert system["enableNodePublicIP"] is False
    assert system["vnetSubnetID"].endswith("/subnets/system")


def test_cluster_is_protected_per_config(dev_plan: Plan, prod_plan: Plan) -> None:
    assert one(dev_plan, CLUSTER).protect is False
    assert one(prod_plan, CLUSTER).protect is True


@pytest.mark.parametrize(("cidr", "dns"), [("172.20.0.0/16", "172.20.0.10"), ("10.0.64.0/18", "10.0.64.10")])
def test_dns_service_ip_is_the_tenth_address(cidr: str, dns: str) -> None:
    assert cluster_module.dns_service_ip(cidr) == dns


@pytest.fixture(scope="module")
def private_plan() -> Plan:
    return plan_with(
        {AZ: {"apiAccess": {"privateEndpoint": True, "authorizedCidrs": []}}, "gpu-platform:waivers": []}
    )


def test_cp03_private_cluster_when_configured(private_plan: Plan) -> None:
    access = cluster(private_plan)["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True
    assert "authorizedIPRanges" not in access
    rules = one(private_plan, REGISTRY).inputs["networkRuleSet"]["ipRules"]
    assert len(rules) == 1, "a private stack opens the registry to the cluster's NAT address only"
