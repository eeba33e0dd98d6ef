"""Workload identity: exact federation per service account (ID-05) and storage RBAC scoped to the
container, read-only under models/ for serving, read/write there for the replicator (ID-06)."""

from __future__ import annotations

from infra.clouds.azure.context import ROLE_IDS
from infra.clouds.azure.identity import READ_WRITE_ACTIONS, read_only_under, read_write_under
from infra.clouds.base import model_prefix
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.azure.helpers import (
    FEDERATION,
    IDENTITY,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    azure,
    named,
    platform_of,
    role_ids,
)
from tests.plans import stack_values

ISSUER_PREFIX = "https://"


def _own(plan: Plan) -> list[PlannedResource]:
    """The federated credentials for this cluster's service accounts (test_federation has the others')."""
    return [r for r in azure(plan, FEDERATION) if "-identity-" in r.name]


def test_id05_one_exact_federation_per_service_account(stack_plan: Plan) -> None:
    federations = {r.name.rsplit("-", 2)[-2]: r.inputs for r in _own(stack_plan)}
    assert sorted(federations) == ["replicator", "serving", "trainer"]
    for sa, fic in federations.items():
        assert fic["subject"] == f"system:serviceaccount:ml:{sa}"
        assert fic["audiences"] == ["api://AzureADTokenExchange"]
        assert fic["issuer"].startswith(ISSUER_PREFIX)
        assert ".oic.prod-aks.azure.com/" in fic["issuer"]
        assert fic["resourceName"].endswith(f"-identity-{sa}")


def test_id05_federation_trusts_this_clusters_issuer(stack_plan: Plan) -> None:
    cluster = next(
        r for r in stack_plan.resources if r.type == "azure-native:containerservice:ManagedCluster"
    )
    for fic in _own(stack_plan):
        assert cluster.urn in fic.depends_on


def test_id06_trainer_contributes_to_the_container_only(stack_plan: Plan) -> None:
    (grant,) = [
        g for g in role_ids(stack_plan, ROLE_IDS["Storage Blob Data Contributor"]) if "-identity-" in g.name
    ]
    assert grant.inputs["scope"].endswith("/blobServices/default/containers/ml")
    assert grant.inputs["principalType"] == "ServicePrincipal"
    assert "condition" not in grant.inputs


def test_id06_serving_reads_models_only(stack_plan: Plan) -> None:
    (grant,) = [
        g.inputs for g in role_ids(stack_plan, ROLE_IDS["Storage Blob Data Reader"]) if "-identity-" in g.name
    ]
    assert grant["scope"].endswith("/blobServices/default/containers/ml")
    assert grant["condition"] == read_only_under("models/")
    assert grant["conditionVersion"] == "2.0"


def test_id06_the_replicator_reads_and_writes_models_through_blob_data_actions_only(stack_plan: Plan) -> None:
    """A version another cloud exported is copied in here too; the custom role has no management action,
    which no condition could limit (as other clouds' replicators get, test_federation)."""
    (grant,) = [
        g for g in azure(stack_plan, ROLE_ASSIGNMENT) if g.name.endswith("-identity-replicator-storage")
    ]
    (definition,) = [
        r for r in azure(stack_plan, ROLE_DEFINITION) if r.name.endswith("-identity-replicator-role")
    ]
    assert grant.inputs["scope"].endswith("/blobServices/default/containers/ml")
    model = stack_plan.outputs["clouds"]["azure"]["model"]["name"]
    assert grant.inputs["condition"] == read_write_under(model_prefix(model))
    assert definition.urn in {
        d for r in stack_plan.resources if r.urn in grant.depends_on for d in r.depends_on
    }
    (permissions,) = definition.inputs["permissions"]
    assert permissions.get("actions", []) == []
    assert sorted(permissions["dataActions"]) == sorted(READ_WRITE_ACTIONS)


def test_id06_no_assignment_wider_than_a_resource(stack_plan: Plan) -> None:
    """Nothing is granted on a subscription or a resource group (but the gateway address's own group,
    test_gateway_address.py)."""
    for grant in platform_of(stack_plan, ROLE_ASSIGNMENT):
        assert "/providers/" in grant.inputs["scope"], grant.name


def test_id06_kubelet_pulls_from_the_registry_only(stack_plan: Plan) -> None:
    (grant,) = role_ids(stack_plan, ROLE_IDS["AcrPull"])
    kubelet = named(stack_plan, IDENTITY, "-kubelet")
    registry = stack_values(stack_plan.stack)["gpu-platform:azure"]["registryName"]
    assert grant.inputs["scope"].endswith(f"/registries/{registry}")
    assert kubelet.urn in grant.depends_on


def test_abac_condition_limits_reads_and_listings() -> None:
    condition = read_only_under("models/")
    blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
    assert f"@Resource[{blobs}:path] StringStartsWith 'models/'" in condition
    assert f"@Request[{blobs}:prefix] StringStartsWith 'models/'" in condition
    assert condition.count("SubOperationMatches{'Blob.List'}") == 2
