"""The Azure platform as a whole, where it differs from the others: names, kubelogin's login, tags on
everything ARM can tag, deletion protection, and the network the cluster sits in. What every cloud's
platform guarantees is checked in tests/infra/clouds/test_contract.py."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from infra import config
from plan import report, stackfile
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import azure, named, one
from tests.plans import ROOT

STATEFUL = (
    "azure-native:resources:ResourceGroup",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Key",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:containerregistry:Registry",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:operationalinsights:Workspace",
)
UNTAGGABLE = (
    "Subnet",
    "RoleAssignment",
    "RoleDefinition",
    "FederatedIdentityCredential",
    "DiagnosticSetting",
    "BlobServiceProperties",
    "BlobContainer",
    "ManagementPolicy",
    "MaintenanceConfiguration",
    "DataCollectionRuleAssociation",
    "PolicyAssignment",
)
"""Sub-resources and proxy resources ARM gives no tags of their own."""


def test_contract_outputs_name_what_the_stack_configures(stack_plan: Plan) -> None:
    out = stack_plan.outputs["clouds"]["azure"]
    assert out["region"] == {"dev": "eastus", "prod": "eastus2"}[stack_plan.stack]
    assert out["clusterName"] == f"{stack_plan.stack}-aks"
    assert out["bucketUri"] == "az://ml"
    assert out["registry"] == f"acmegpuplatform{stack_plan.stack}.azurecr.io/trainer"


def test_kubelogin_gets_an_aks_token_with_the_azure_cli_login(stack_plan: Plan) -> None:
    kubeconfig = stack_plan.outputs["kubeconfigs"]["azure"]
    assert "- azurecli" in kubeconfig
    assert "6dae42f8-4368-4678-94ff-3960e28e3630" in kubeconfig  # the AKS AAD server application


def test_the_provider_deploys_to_the_configured_location(stack_plan: Plan) -> None:
    (provider,) = azure(stack_plan, "pulumi:providers:azure-native")
    assert provider.inputs["location"] == stack_plan.outputs["clouds"]["azure"]["region"]


def test_everything_taggable_is_tagged(stack_plan: Plan) -> None:
    taggable = [
        r
        for r in stack_plan.resources
        if r.type.startswith("azure-native:") and r.type.split(":")[-1] not in UNTAGGABLE
    ]
    assert len(taggable) > 15
    for r in taggable:
        assert r.inputs.get("tags", {}).get("ManagedBy") == "pulumi-gpu-platform", r.type
        assert r.inputs["tags"]["Stack"] == stack_plan.stack


@pytest.mark.parametrize("type_", STATEFUL)
def test_stateful_resources_protected_in_prod_only(dev_plan: Plan, prod_plan: Plan, type_: str) -> None:
    assert all(r.protect for r in azure(prod_plan, type_))
    assert not any(r.protect for r in azure(dev_plan, type_))


def test_resource_group_named_from_config(stack_plan: Plan) -> None:
    group = one(stack_plan, "azure-native:resources:ResourceGroup").inputs
    assert group["resourceGroupName"] == f"rg-gpu-platform-{stack_plan.stack}"


def test_node_subnets_leave_through_the_nat_gateway_and_carry_nsgs(stack_plan: Plan) -> None:
    nat = one(stack_plan, "azure-native:network:NatGateway").inputs
    ip = one(stack_plan, "azure-native:network:PublicIPAddress").inputs
    assert nat["sku"] == {"name": "Standard"}
    assert ip["sku"] == {"name": "Standard", "tier": "Regional"}
    assert ip["publicIPAllocationMethod"] == "Static"
    for role in ("system", "gpu"):
        subnet = named(stack_plan, "azure-native:network:Subnet", f"-net-{role}").inputs
        assert subnet["networkSecurityGroup"]["id"].endswith(f"-net-{role}-nsg")
        assert subnet["natGateway"]["id"].endswith("-net-nat")
        assert subnet["defaultOutboundAccess"] is False
    apiserver = named(stack_plan, "azure-native:network:Subnet", "-net-apiserver").inputs
    assert apiserver["delegations"][0]["serviceName"] == "Microsoft.ContainerService/managedClusters"
    assert "natGateway" not in apiserver
    assert "networkSecurityGroup" not in apiserver


def test_plan_prints_the_dev_waiver(dev_plan: Plan) -> None:
    cfg = config.parse(config.read_raw(stackfile.load(ROOT, "dev").config.get), stack="dev")
    buffer = io.StringIO()
    report.print_plan(dev_plan, cfg, Console(file=buffer, width=200))
    assert "ST-12 on azure" in buffer.getvalue()
