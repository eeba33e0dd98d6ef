"""Azure as a replication target (dev trains on AWS, prod on GCP): an identity whose one federated
credential trusts the home issuer for the replicator alone, a custom role of blob data actions only (no
management action, which no condition could limit) on the container under an ABAC condition that keeps it
to the model's prefix, and a storage firewall that admits the home cluster's NAT; and Azure as the home
cloud: its issuer (trailing slash kept) and its NAT's address."""

from __future__ import annotations

import uuid

import pulumi
import pytest

from infra import clouds, config, naming
from infra.clouds.azure.context import ROLE_IDS
from infra.clouds.azure.identity import read_write_under, role_guid
from plan import runner, stackfile
from plan.fakes.azure import FAKE_SUBSCRIPTION, FAKE_TENANT
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.azure.helpers import (
    FEDERATION,
    IDENTITY,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    STORAGE_ACCOUNT,
    azure,
    one,
    platform_of,
)
from tests.infra.clouds.federated import (
    MODELS,
    SUBJECT,
    answered,
    azure_home_plan,
    created_id,
    eks_issuer,
    gke_issuer,
    one_named,
    replicator,
)
from tests.plans import ROOT, waits_for

HOMES = {"dev": "aws", "prod": "gcp"}
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
SLEEP = "time:index/sleep:Sleep"


def _trust(plan: Plan) -> tuple[PlannedResource, PlannedResource, PlannedResource]:
    name = f"{plan.stack}-azure-federation-{HOMES[plan.stack]}"
    return (
        one_named(plan, IDENTITY, f"{name}-identity"),
        one_named(plan, FEDERATION, f"{name}-credential"),
        one_named(plan, ROLE_ASSIGNMENT, f"{name}-storage"),
    )


def _home_issuer(plan: Plan) -> str:
    return eks_issuer(plan) if HOMES[plan.stack] == "aws" else gke_issuer(plan)


def _home_nat(plan: Plan) -> str:
    if plan.stack == "dev":
        (eip,) = plan.of_type("aws:ec2/eip:Eip")
        return str(answered(plan.stack, eip)["publicIp"])
    (address,) = [a for a in plan.of_type("gcp:compute/address:Address") if "-gateway-" not in a.name]
    return str(answered(plan.stack, address)["address"])


def test_the_component_hangs_under_the_platform_with_its_provider(stack_plan: Plan) -> None:
    (trust,) = stack_plan.of_type("gpu-platform:azure:FederatedTrust")
    assert trust.name == f"{stack_plan.stack}-azure-federation-{HOMES[stack_plan.stack]}"
    assert stack_plan.by_urn()[str(trust.parent)].type == "gpu-platform:azure:Platform"
    children = [r for r in stack_plan.resources if r.parent == trust.urn]
    assert sorted(r.type for r in children) == sorted(
        [IDENTITY, FEDERATION, ROLE_DEFINITION, ROLE_ASSIGNMENT, SLEEP]
    )
    azure_children = [r for r in children if r.type != SLEEP]
    assert {str(r.provider).rsplit("::", 1)[1] for r in azure_children} == {
        f"{stack_plan.stack}-azure-provider"
    }


def test_the_assignment_waits_a_minute_after_the_role_definition(stack_plan: Plan) -> None:
    """Azure checks an assignment against role definitions it may not have propagated yet."""
    (trust,) = stack_plan.of_type("gpu-platform:azure:FederatedTrust")
    (definition,) = [r for r in stack_plan.of_type(ROLE_DEFINITION) if r.parent == trust.urn]
    (pause,) = [
        r
        for r in stack_plan.of_type(SLEEP)
        if r.name.endswith("-federation-" + HOMES[stack_plan.stack] + "-storage-role-settle")
    ]
    assignment = one_named(stack_plan, ROLE_ASSIGNMENT, pause.name.removesuffix("-role-settle"))
    assert pause.inputs["createDuration"] == "1m"
    assert definition.urn in pause.depends_on
    assert pause.urn in assignment.depends_on


def test_one_credential_trusts_the_home_issuer_for_the_replicator(stack_plan: Plan) -> None:
    identity, credential, _ = _trust(stack_plan)
    home = HOMES[stack_plan.stack]
    assert credential.inputs == {
        "resourceGroupName": identity.inputs["resourceGroupName"],
        "resourceName": identity.inputs["resourceName"],
        "federatedIdentityCredentialResourceName": f"{home}-ml-replicator",
        "issuer": _home_issuer(stack_plan),
        "subject": SUBJECT,
        "audiences": ["api://AzureADTokenExchange"],
    }
    assert identity.urn in credential.depends_on
    trusting = [
        c
        for c in azure(stack_plan, FEDERATION)
        if c.inputs["resourceName"] == identity.inputs["resourceName"]
    ]
    assert trusting == [credential]


def _role(plan: Plan) -> PlannedResource:
    return one_named(plan, ROLE_DEFINITION, f"{plan.stack}-azure-federation-{HOMES[plan.stack]}-role")


def test_the_role_grants_blob_data_actions_only_in_the_stacks_resource_group(stack_plan: Plan) -> None:
    """Exactly the blob data actions the condition limits to the prefix, and no management action: an
    ABAC condition cannot limit one, and Storage Blob Data Contributor's `containers/delete` would let a
    foreign token delete the whole container through ARM."""
    role, home = _role(stack_plan), HOMES[stack_plan.stack]
    (group,) = platform_of(stack_plan, "azure-native:resources:ResourceGroup")
    group_id = created_id(stack_plan.stack, group)
    assert group_id == f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/rg-gpu-platform-{stack_plan.stack}"
    assert role.inputs["permissions"] == [
        {
            "actions": [],
            "dataActions": [f"{BLOBS}/read", f"{BLOBS}/write", f"{BLOBS}/add/action", f"{BLOBS}/delete"],
        }
    ]
    assert role.inputs["roleType"] == "CustomRole"
    assert role.inputs["scope"] == group_id
    assert role.inputs["assignableScopes"] == [group_id]
    assert group.urn in role.property_dependencies["scope"]
    # Unique in the Entra tenant: the group, the foreign cloud and the subscription (a group's name can
    # repeat in another subscription of the tenant).
    assert role.inputs["roleName"] == (
        f"gpu-platform replicator from {home} rg-gpu-platform-{stack_plan.stack} "
        f"{naming.short_hash(FAKE_SUBSCRIPTION)}"
    )
    # A GUID of our own, the same on every run: a definition left behind is updated, not duplicated.
    assert role.inputs["roleDefinitionId"] == role_guid(group_id, home)
    assert role_guid(group_id, home) != role_guid(group_id, "gcp" if home == "aws" else "aws")
    assert role.inputs["roleDefinitionId"] == str(uuid.UUID(role.inputs["roleDefinitionId"]))


def test_the_identity_gets_the_role_only_under_the_prefix(stack_plan: Plan) -> None:
    identity, _, grant = _trust(stack_plan)
    role = _role(stack_plan)
    (container,) = stack_plan.of_type("azure-native:storage:BlobContainer")
    assert grant.inputs["scope"] == created_id(stack_plan.stack, container)
    assert grant.inputs["scope"].endswith("/blobServices/default/containers/ml")
    # A role definition is a subscription-level resource: assignments name it there, by its GUID.
    guid = answered(stack_plan.stack, role)["name"]
    assert guid == role.inputs["roleDefinitionId"]
    assert grant.inputs["roleDefinitionId"] == (
        f"/subscriptions/{FAKE_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    )
    assert ROLE_IDS["Storage Blob Data Contributor"] not in grant.inputs["roleDefinitionId"]
    assert grant.inputs["principalId"] == answered(stack_plan.stack, identity)["principalId"]
    assert grant.inputs["principalType"] == "ServicePrincipal"
    assert grant.inputs["condition"] == read_write_under(MODELS)
    assert grant.inputs["conditionVersion"] == "2.0"


def test_the_assignment_waits_for_the_role_definition(stack_plan: Plan) -> None:
    _, _, grant = _trust(stack_plan)
    role = _role(stack_plan)
    assert role.urn in grant.depends_on
    assert role.urn in grant.property_dependencies["roleDefinitionId"]
    assert waits_for(stack_plan, grant, role)


def test_the_condition_gates_every_data_action_by_path_and_listing_by_prefix() -> None:
    """Reads, writes, adds and deletes only at paths under the prefix (`blobs:path` excludes the container);
    listings only of prefixes under it, so not of the container's root."""
    b = BLOBS
    assert read_write_under(MODELS) == (
        f"((!(ActionMatches{{'{b}/read'}} AND NOT SubOperationMatches{{'Blob.List'}})"
        f" AND !(ActionMatches{{'{b}/write'}}) AND !(ActionMatches{{'{b}/add/action'}})"
        f" AND !(ActionMatches{{'{b}/delete'}}))"
        f" OR (@Resource[{b}:path] StringStartsWith '{MODELS}'))"
        f" AND ((!(ActionMatches{{'{b}/read'}} AND SubOperationMatches{{'Blob.List'}}))"
        f" OR (@Request[{b}:prefix] StringStartsWith '{MODELS}'))"
    )


def test_the_replicator_presents_an_entra_token_and_names_the_identity(stack_plan: Plan) -> None:
    identity, _, _ = _trust(stack_plan)
    pod = replicator(stack_plan)
    assert pod.token("azure")["audience"] == "api://AzureADTokenExchange"
    assert {k: v for k, v in pod.env.items() if k.startswith("AZURE_")} == {
        "AZURE_CLIENT_ID": answered(stack_plan.stack, identity)["clientId"],
        "AZURE_TENANT_ID": FAKE_TENANT,
        "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/gpu-platform/azure/token",
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
        "AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential",
        "AZURE_STORAGE_ACCOUNT_NAME": one(stack_plan, STORAGE_ACCOUNT).inputs["accountName"],
        "AZURE_STORAGE_ANON": "false",
    }


def test_the_storage_firewall_admits_the_home_nat_and_nothing_else(stack_plan: Plan) -> None:
    rules = one(stack_plan, STORAGE_ACCOUNT).inputs["networkRuleSet"]
    assert rules["defaultAction"] == "Deny"
    assert rules["ipRules"] == [{"iPAddressOrRange": _home_nat(stack_plan), "action": "Allow"}]


def test_trained_on_azure_the_firewall_and_trust_are_as_before() -> None:
    plan = azure_home_plan()
    assert "ipRules" not in one(plan, STORAGE_ACCOUNT).inputs["networkRuleSet"]
    assert not plan.of_type("gpu-platform:azure:FederatedTrust")
    assert {c.name.rsplit("-", 2)[-2] for c in azure(plan, FEDERATION)} == {
        "trainer",
        "serving",
        "replicator",
    }


@pytest.fixture(scope="module")
def azure_contract() -> dict[str, object]:
    """dev's Azure platform alone, its issuer and egress addresses resolved."""

    def program() -> None:
        built = clouds.build("azure", config.load())
        pulumi.export("issuer", built.oidc_issuer)
        pulumi.export("egress", built.egress_ips)

    done = runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
    resources = {r.type: r for r in done.resources}
    cluster = answered("dev", resources["azure-native:containerservice:ManagedCluster"])
    nat = answered("dev", resources["azure-native:network:PublicIPAddress"])
    return {**done.outputs, "aks": cluster["oidcIssuerProfile"]["issuerURL"], "nat": nat["ipAddress"]}


def test_the_contract_names_the_aks_issuer_and_the_nat_address(azure_contract: dict[str, object]) -> None:
    issuer = str(azure_contract["issuer"])
    assert issuer == azure_contract["aks"]
    assert issuer.startswith("https://eastus.oic.prod-aks.azure.com/")
    assert issuer.endswith("/")  # as AKS tokens carry it, and as AWS and Entra must match it
    assert azure_contract["egress"] == [azure_contract["nat"]]
