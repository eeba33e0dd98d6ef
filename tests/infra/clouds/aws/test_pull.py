"""AWS as the home cloud, pulled from by the workers: the token refresher's own role, trusted through EKS
Pod Identity for its service account only, reads the trainer repository and nothing else. Read from the
contract program, which grants the refresher pulls on every cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.clouds.aws import policies
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import (
    ASSOCIATION,
    CLUSTER,
    ROLE,
    ROLE_POLICY,
    aws_of,
    cluster_arn_of,
    named,
    one,
)
from tests.plans import contract_plan

PULLER = "-aws-pull-kueue-system-worker-token-refresher"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/gpu-platform/trainer"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return contract_plan("dev")


def pull(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = plan.outputs["contracts"]["aws"]["pull"]
    return found


def test_only_the_refreshers_service_account_may_assume_the_role(plan: Plan) -> None:
    role = named(plan, ROLE, f"{PULLER}-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": cluster_arn_of(plan),
            "aws:RequestTag/kubernetes-namespace": "kueue-system",
            "aws:RequestTag/kubernetes-service-account": "worker-token-refresher",
        }
    }
    association = named(plan, ASSOCIATION, f"{PULLER}-association")
    assert {k: association.inputs[k] for k in ("clusterName", "namespace", "serviceAccount")} == {
        "clusterName": one(plan, CLUSTER).inputs["name"],
        "namespace": "kueue-system",
        "serviceAccount": "worker-token-refresher",
    }
    assert role.urn in association.depends_on
    assert one(plan, CLUSTER).urn in association.depends_on


def test_the_role_reads_the_trainer_repository_and_nothing_else(plan: Plan) -> None:
    role = named(plan, ROLE, f"{PULLER}-role")
    policies_of_role = [p for p in aws_of(plan, ROLE_POLICY) if role.urn in p.depends_on]
    assert [p.name for p in policies_of_role] == [f"dev{PULLER}-policy"]
    (policy,) = policies_of_role
    token, pulls = json.loads(policy.inputs["policy"])["Statement"]
    # The registry token has no resource ARN; what it may pull is the role's pulls, on one repository.
    assert (token["Action"], token["Resource"]) == ("ecr:GetAuthorizationToken", "*")
    assert sorted(pulls["Action"]) == sorted(policies.ECR_PULL)
    assert pulls["Resource"] == REPOSITORY_ARN
    assert one(plan, REPOSITORY).urn in policy.depends_on
    assert not [s for s in (token, pulls) if s["Effect"] != "Allow" or "Condition" in s]


def test_the_refresher_mints_for_the_registry_once_association_and_policy_exist(plan: Plan) -> None:
    found = pull(plan)
    assert found["token"] == {"region": "us-east-1", "registryId": "123456789012"}
    assert found["host"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert (found["annotations"], found["podLabels"]) == ({}, {})  # Pod Identity needs neither
    assert found["ready"] == [
        named(plan, ASSOCIATION, f"{PULLER}-association").urn,
        named(plan, ROLE_POLICY, f"{PULLER}-policy").urn,
    ]
