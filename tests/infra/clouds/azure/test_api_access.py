"""Azure as a MultiKueue worker: the manager's token refresher signs in to the AKS API server with an
Entra token of an identity of its own, whose one federated credential trusts the manager's issuer for the
refresher's service account alone; the identity holds no Azure role (Kubernetes RBAC binds its object
id), and the API server's authorized ranges admit the manager's NAT addresses."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest

from infra.clouds.azure.cluster import _with_hosts, authorized_ranges
from plan import runner, stackfile
from plan.fakes.azure import FAKE_TENANT
from plan.fakes.registry import FAKE_CA
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.azure.helpers import (
    CLUSTER,
    FEDERATION,
    IDENTITY,
    ROLE_ASSIGNMENT,
    azure,
    cluster,
    one,
)
from tests.infra.clouds.federated import answered
from tests.plans import ROOT, contract_plan

STACKS = ("dev", "prod")
FOREIGN_ISSUER = "https://issuer.example/clusters/home"
"""The issuer the contract program asks every cloud to trust (its `FOREIGN_ISSUER`)."""
MANAGER_NAT = ("192.0.2.7", "192.0.2.9")
"""The addresses the admitting program gives as `api_admit` (its `MANAGER_NAT`)."""
REFRESHER = "system:serviceaccount:kueue-system:worker-token-refresher"
API_TRUST = "gpu-platform:azure:ApiTrust"
ADMIT_PROGRAM = ROOT / "tests" / "infra" / "clouds" / "azure" / "api_admit_program"


@pytest.fixture(scope="module", params=STACKS)
def plan(request: pytest.FixtureRequest) -> Plan:
    """The contract program's plan: each cloud's platform asked to federate the foreign replicator and to
    admit the foreign refresher, both of one issuer."""
    return contract_plan(request.param)


def _api(plan: Plan) -> dict[str, Any]:
    api: dict[str, Any] = plan.outputs["contracts"]["azure"]["api"]
    return api


def _trust(plan: Plan) -> tuple[PlannedResource, PlannedResource]:
    (trust,) = plan.of_type(API_TRUST)
    children = {r.type: r for r in plan.resources if r.parent == trust.urn}
    assert set(children) == {IDENTITY, FEDERATION}  # no role, no assignment
    return children[IDENTITY], children[FEDERATION]


def test_the_refresher_gets_an_identity_of_its_own_with_one_credential(plan: Plan) -> None:
    identity, credential = _trust(plan)
    (trust,) = plan.of_type(API_TRUST)
    assert trust.name == f"{plan.stack}-azure-api-aws"
    assert plan.by_urn()[str(trust.parent)].type == "gpu-platform:azure:Platform"
    assert identity.inputs["resourceName"] == f"{plan.stack}-azure-api-aws-identity"
    assert credential.inputs == {
        "resourceGroupName": identity.inputs["resourceGroupName"],
        "resourceName": identity.inputs["resourceName"],
        "federatedIdentityCredentialResourceName": "aws-kueue-system-worker-token-refresher",
        "issuer": FOREIGN_ISSUER,
        "subject": REFRESHER,
        "audiences": ["api://AzureADTokenExchange"],
    }
    assert identity.urn in credential.depends_on


def test_nothing_is_one_per_issuer_each_identity_trusts_it_once(plan: Plan) -> None:
    """Entra keys a federated credential by its identity and asks only that issuer and subject be unique
    on it (at most 20): the replicator's and the refresher's identities each hold one credential for the
    same issuer, and no identity holds two."""
    trusting = [c for c in azure(plan, FEDERATION) if c.inputs["issuer"] == FOREIGN_ISSUER]
    assert sorted(c.inputs["subject"] for c in trusting) == sorted(
        [REFRESHER, "system:serviceaccount:ml:replicator"]
    )
    holders = [c.inputs["resourceName"] for c in azure(plan, FEDERATION)]
    assert len(holders) == len(set(holders))  # one credential per identity, none shared
    identities = {r.inputs["resourceName"] for r in azure(plan, IDENTITY)}
    assert set(holders) <= identities


def test_the_token_names_the_identity_and_rbac_its_object_id(plan: Plan) -> None:
    """An app-only Entra token carries no `upn`: AKS takes its `oid` (the identity's principal id) as the
    Kubernetes username, which the ClusterRoleBinding names as a User."""
    identity, _ = _trust(plan)
    made = answered(plan.stack, identity)
    api = _api(plan)
    assert api["audience"] == "api://AzureADTokenExchange"
    assert api["token"] == {
        "tenantId": FAKE_TENANT,
        "clientId": made["clientId"],
        "tokenPath": "/var/run/secrets/gpu-platform/azure/token",
    }
    assert api["subject"] == {"kind": "User", "name": made["principalId"]}


def test_the_identity_holds_no_azure_role(plan: Plan) -> None:
    """Not Cluster User Role (it lists kubeconfigs, which the refresher never fetches), nor an AKS RBAC data
    role: Kubernetes RBAC grants it MultiKueue's objects and nothing else."""
    identity, _ = _trust(plan)
    principal = answered(plan.stack, identity)["principalId"]
    assert not [a for a in azure(plan, ROLE_ASSIGNMENT) if a.inputs["principalId"] == principal]


def test_ready_is_the_credential(plan: Plan) -> None:
    _, credential = _trust(plan)
    assert _api(plan)["ready"] == [credential.urn]


def test_the_server_is_the_clusters_fqdn_and_the_ca_its_own_unmarked(plan: Plan) -> None:
    aks = one(plan, CLUSTER)
    api = _api(plan)
    assert api["server"] == f"https://{answered(plan.stack, aks)['fqdn']}:443"
    assert api["caData"] == FAKE_CA  # from the user kubeconfig AKS lists, as the deployer's kubeconfig
    assert not [p for p in plan.secret_outputs if p.startswith("contracts.azure.api")]


@functools.cache
def _admitting(stack: str) -> Plan:
    return runner.run(dataclasses.replace(stackfile.load(ROOT, stack), program_dir=ADMIT_PROGRAM), stack)


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_server_admits_the_managers_nat_as_single_addresses(stack: str) -> None:
    configured = cluster(contract_plan(stack))["apiServerAccessProfile"]["authorizedIPRanges"]
    access = cluster(_admitting(stack))["apiServerAccessProfile"]
    assert access["authorizedIPRanges"] == [*configured, *(f"{ip}/32" for ip in MANAGER_NAT)]


def test_with_nothing_to_admit_the_ranges_are_the_configured_ones() -> None:
    assert authorized_ranges(("203.0.113.0/24",), ()) == ["203.0.113.0/24"]
    assert authorized_ranges(("203.0.113.0/24",), []) == ["203.0.113.0/24"]


def test_an_address_a_range_already_admits_is_not_repeated() -> None:
    assert _with_hosts(["203.0.113.0/24"], ["203.0.113.9", "192.0.2.1", "192.0.2.1"]) == [
        "203.0.113.0/24",
        "192.0.2.1/32",
    ]


def test_an_admitted_range_is_refused() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        _with_hosts([], ["192.0.2.0/24"])
