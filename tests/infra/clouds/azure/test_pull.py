"""Azure as the home cloud, pulled from by the workers: the token refresher's own identity, trusted through
one federated credential for its service account only, may pull from the registry (AcrPull on it: the
registry is not in ABAC repository mode) and do nothing else. Read from the contract program, which grants
the refresher pulls on every cloud."""

from __future__ import annotations

from typing import Any

import pytest

from infra.clouds.azure.context import ROLE_IDS
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import (
    CLUSTER,
    FEDERATION,
    IDENTITY,
    REGISTRY,
    ROLE_ASSIGNMENT,
    azure,
    named,
    one,
)
from tests.infra.clouds.federated import aks_issuer, created_id
from tests.plans import contract_plan

PULLER = "-azure-pull-kueue-system-worker-token-refresher"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return contract_plan("dev")


def pull(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = plan.outputs["contracts"]["azure"]["pull"]
    return found


def test_only_the_refreshers_service_account_may_exchange_for_the_identity(plan: Plan) -> None:
    identity = named(plan, IDENTITY, f"{PULLER}-identity")
    credentials = [c for c in azure(plan, FEDERATION) if identity.urn in c.depends_on]
    assert [c.name for c in credentials] == [f"dev{PULLER}-federation"]
    (credential,) = credentials
    assert credential.inputs["subject"] == "system:serviceaccount:kueue-system:worker-token-refresher"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert credential.inputs["issuer"] == aks_issuer(plan)
    assert one(plan, CLUSTER).urn in credential.depends_on


def test_the_identity_may_pull_from_the_registry_and_nothing_else(plan: Plan) -> None:
    identity = named(plan, IDENTITY, f"{PULLER}-identity")
    assignments = [a for a in azure(plan, ROLE_ASSIGNMENT) if identity.urn in a.depends_on]
    assert [a.name for a in assignments] == [f"dev{PULLER}-acr-pull"]
    (assignment,) = assignments
    registry = one(plan, REGISTRY)
    assert assignment.inputs["scope"] == created_id(plan.stack, registry)
    assert assignment.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{ROLE_IDS['AcrPull']}")
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert "condition" not in assignment.inputs  # not honored outside ABAC repository mode
    assert "roleAssignmentMode" not in registry.inputs  # that mode, RBAC registry permissions, holds


def test_the_refresher_mints_for_the_login_server_once_credential_and_grant_exist(plan: Plan) -> None:
    found = pull(plan)
    login_server = plan.outputs["contracts"]["azure"]["registry"]["host"]
    assert found["host"] == found["token"]["loginServer"] == login_server
    assert set(found["token"]) == {"tenantId", "clientId", "loginServer"}
    assert found["annotations"] == {"azure.workload.identity/client-id": found["token"]["clientId"]}
    assert found["podLabels"] == {"azure.workload.identity/use": "true"}
    assert found["ready"] == [
        named(plan, FEDERATION, f"{PULLER}-federation").urn,
        named(plan, ROLE_ASSIGNMENT, f"{PULLER}-acr-pull").urn,
    ]
