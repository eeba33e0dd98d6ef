"""AWS as a MultiKueue worker: the manager's token refresher signs in to EKS with a role only its service
account may assume, through the OIDC provider the replicator's trust already made for the same issuer
(IAM holds one per issuer URL), and an access entry that puts the role in one Kubernetes group and grants
nothing else."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest

from infra import config
from infra.clouds.aws import platform
from infra.clouds.aws.federation import API_GROUP
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, ForeignWorkload, PlatformArgs, token_path
from plan import runner, stackfile
from plan.fakes.registry import FAKE_ACCOUNT, FAKE_CA
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.aws.helpers import ATTACHMENT, CLUSTER, ROLE, ROLE_POLICY, aws_of, stack_config
from tests.infra.clouds.federated import answered
from tests.plans import ROOT, contract_plan

ISSUER = "https://issuer.example/clusters/home"
"""The foreign issuer the contract program asks every cloud to trust (its FOREIGN_ISSUER)."""
HOST = ISSUER.removeprefix("https://")
REFRESHER = "system:serviceaccount:kueue-system:worker-token-refresher"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
TRUST = "gpu-platform:aws:FederatedTrust"
STACKS = ("dev", "prod")


def _plan(stack: str) -> Plan:
    return contract_plan(stack)


def _contract(stack: str) -> dict[str, Any]:
    api: dict[str, Any] = _plan(stack).outputs["contracts"]["aws"]["api"]
    return api


def _trust_name(stack: str) -> str:
    """The contract program's foreign cloud for AWS is the first other cloud: GCP."""
    return f"{stack}-aws-federation-gcp"


def _named(plan: Plan, type_: str, name: str) -> PlannedResource:
    (found,) = [r for r in aws_of(plan, type_) if r.name == name]
    return found


def _statements(resource: PlannedResource) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(resource.inputs["assumeRolePolicy"])["Statement"]
    return statements


def _api_role(stack: str) -> PlannedResource:
    return _named(_plan(stack), ROLE, f"{_trust_name(stack)}-api-role")


@pytest.mark.parametrize("stack", STACKS)
def test_one_oidc_provider_serves_the_replicator_and_the_refresher(stack: str) -> None:
    """Both trusts of the one foreign issuer share its provider: a second for the same URL fails at apply."""
    plan = _plan(stack)
    (provider,) = [p for p in aws_of(plan, OIDC_PROVIDER) if p.inputs["url"] == ISSUER]
    assert len(aws_of(plan, OIDC_PROVIDER)) == 1
    (trust,) = aws_of(plan, TRUST)
    assert trust.name == _trust_name(stack)
    assert provider.name == f"{trust.name}-oidc"  # the replicator's provider, its name and URN unchanged
    roles = {r.name: r for r in aws_of(plan, ROLE) if r.parent == trust.urn}
    assert set(roles) == {f"{trust.name}-role", f"{trust.name}-api-role"}
    arn = answered(stack, provider)["arn"]
    for role in roles.values():
        [statement] = _statements(role)
        assert statement["Principal"] == {"Federated": arn}
        assert provider.urn in role.depends_on


@pytest.mark.parametrize("stack", STACKS)
def test_the_refresher_role_trusts_exactly_its_service_account_for_sts(stack: str) -> None:
    assert _statements(_api_role(stack)) == [
        {
            "Sid": "FederatedServiceAccount",
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{FAKE_ACCOUNT}:oidc-provider/{HOST}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:sub": REFRESHER, f"{HOST}:aud": "sts.amazonaws.com"}},
        }
    ]
    replicator = _named(_plan(stack), ROLE, f"{_trust_name(stack)}-role")
    subject = _statements(replicator)[0]["Condition"]["StringEquals"][f"{HOST}:sub"]
    namespace = stack_config(stack).namespace
    assert subject == f"system:serviceaccount:{namespace}:{SERVICE_ACCOUNTS['replicator']}"


@pytest.mark.parametrize("stack", STACKS)
def test_the_refresher_role_may_do_nothing_in_aws(stack: str) -> None:
    """AssumeRoleWithWebIdentity and a presigned GetCallerIdentity need no permission: no policy at all."""
    plan, role = _plan(stack), _api_role(stack)
    assert "managedPolicyArns" not in role.inputs
    assert "inlinePolicies" not in role.inputs
    assert not [p for p in aws_of(plan, ROLE_POLICY) if p.inputs["role"] == role.name]
    assert not [a for a in aws_of(plan, ATTACHMENT) if a.inputs["role"] == role.name]


@pytest.mark.parametrize("stack", STACKS)
def test_the_access_entry_puts_the_role_in_the_multikueue_group_and_grants_nothing(stack: str) -> None:
    plan, role = _plan(stack), _api_role(stack)
    entry = _named(plan, ACCESS_ENTRY, f"{_trust_name(stack)}-api-access")
    role_arn = answered(stack, role)["arn"]
    assert role_arn.startswith(f"arn:aws:iam::{FAKE_ACCOUNT}:role/")  # the role, never a session
    assert entry.inputs["principalArn"] == role_arn
    assert entry.inputs["clusterName"] == platform.cluster_name(stack)
    assert entry.inputs["type"] == "STANDARD"
    assert entry.inputs["kubernetesGroups"] == [API_GROUP]
    assert "userName" not in entry.inputs  # EKS names it arn:aws:sts::<account>:assumed-role/<role>/<session>
    assert role.urn in entry.depends_on
    (cluster,) = aws_of(plan, CLUSTER)
    assert cluster.urn in entry.depends_on
    # The deployer's is the only access entry with an EKS access policy.
    deployer = stack_config(stack).aws.deployer_principal_arn  # type: ignore[union-attr]
    assert [a.inputs["principalArn"] for a in aws_of(plan, ASSOCIATION)] == [deployer]


def test_the_group_is_one_eks_accepts_and_rbac_can_bind() -> None:
    """EKS refuses access-entry groups starting with `system:` and reserves `eks:`, `aws:`, `amazon:`,
    `iam:` for usernames; Kubernetes reserves `system:` for itself."""
    assert API_GROUP == "gpu-platform:multikueue"
    assert not API_GROUP.startswith(("system:", "eks:", "aws:", "amazon:", "iam:"))


@pytest.mark.parametrize("stack", STACKS)
def test_the_contract_says_where_to_sign_in_and_as_whom(stack: str) -> None:
    plan, api = _plan(stack), _contract(stack)
    (cluster,) = aws_of(plan, CLUSTER)
    created = answered(stack, cluster)
    region = stack_config(stack).aws.region  # type: ignore[union-attr]
    assert api["server"] == created["endpoint"]
    assert api["caData"] == FAKE_CA == created["certificateAuthority"]["data"]
    assert api["audience"] == "sts.amazonaws.com"
    assert api["token"] == {
        "roleArn": answered(stack, _api_role(stack))["arn"],
        "clusterName": platform.cluster_name(stack),
        "region": region,
        "tokenPath": token_path("aws"),
    }
    assert api["subject"] == {"kind": "Group", "name": API_GROUP}
    entry = _named(plan, ACCESS_ENTRY, f"{_trust_name(stack)}-api-access")
    assert api["ready"] == [_api_role(stack).urn, entry.urn]


def _aws_alone(workloads: Sequence[ForeignWorkload]) -> list[PlannedResource]:
    """AWS's platform alone on dev's config, admitting `workloads` to its API."""

    def program() -> None:
        built = platform.build(PlatformArgs(cfg=config.load()))
        for workload in workloads:
            built.admit_api(workload)

    return runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program).resources


def _refresher(issuer: str) -> ForeignWorkload:
    return ForeignWorkload(
        cloud="gcp",
        issuer=issuer,
        namespace="kueue-system",
        service_account="worker-token-refresher",
        prefix="",
    )


def test_admit_api_alone_makes_the_provider_it_needs() -> None:
    """A worker that is no replication target still gets the issuer's provider, once."""
    resources = _aws_alone(workloads=[_refresher(ISSUER)])
    (provider,) = [r for r in resources if r.type == OIDC_PROVIDER]
    assert (provider.name, provider.inputs["url"]) == ("dev-aws-federation-gcp-oidc", ISSUER)
    assert [r.name for r in resources if r.type == ROLE and r.parent == provider.parent] == [
        "dev-aws-federation-gcp-api-role"
    ]


def test_a_second_issuer_for_the_same_cloud_is_refused() -> None:
    """One trust per foreign cloud holds one provider: a workload of another issuer would be trusted by the
    wrong one, so the plan fails instead."""
    replicator = ForeignWorkload(
        cloud="gcp", issuer=ISSUER, namespace="ml", service_account="replicator", prefix=MODELS_PREFIX
    )

    def program() -> None:
        built = platform.build(PlatformArgs(cfg=config.load()))
        built.federate(replicator)
        built.admit_api(_refresher("https://issuer.example/clusters/other"))

    other = re.escape("is issued by https://issuer.example/clusters/other")
    with pytest.raises(runner.ProgramFailedError, match=other):
        runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
