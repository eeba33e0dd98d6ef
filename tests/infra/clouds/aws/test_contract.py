"""What only AWS's contract says: its exact names, ECR's token login, `aws eks get-token`, and the NLB
annotations. What every cloud's contract guarantees is checked in tests/infra/clouds/test_contract.py."""

from __future__ import annotations

import json
from typing import Any

from infra.clouds.aws.platform import NLB, cluster_name, service_annotations
from tests.plans import contract_plan


def _contract() -> dict[str, Any]:
    contract: dict[str, Any] = contract_plan("dev").outputs["contracts"]["aws"]
    return contract


def test_names_registry_and_network_of_the_dev_stack() -> None:
    contract = _contract()
    assert contract["clusterName"] == cluster_name("dev") == "gpu-platform-dev"
    assert contract["bucketUri"] == "s3://acme-gpu-platform-dev-ml"
    registry = contract["registry"]
    assert registry["host"].endswith(".dkr.ecr.us-east-1.amazonaws.com")
    assert registry["repository"] == f"{registry['host']}/gpu-platform/trainer"
    assert registry["auth"]["username"] == "AWS"  # ECR's authorization token, valid for 12 hours
    assert contract["network"]["vpcId"].startswith("vpc-")
    assert len(contract["network"]["privateSubnetIds"]) == 2


def test_kubeconfig_uses_aws_eks_get_token() -> None:
    [user] = json.loads(_contract()["kubeconfig"])["users"]
    assert user["user"]["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "gpu-platform-dev",
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]


def test_service_annotations_give_an_internal_or_public_nlb() -> None:
    assert _contract()["serviceAnnotations"][f"{NLB}-internal"] == "true"
    tags = {"Stack": "dev", "Project": "gpu-platform"}
    public = service_annotations("public", tags)
    assert public == {
        f"{NLB}-type": "nlb",
        f"{NLB}-additional-resource-tags": "Project=gpu-platform,Stack=dev",
    }
    assert service_annotations("internal", tags) == {**public, f"{NLB}-internal": "true"}
