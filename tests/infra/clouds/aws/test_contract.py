"""The AWS platform returns every field of `CloudPlatform`, with the secrets marked secret."""

from __future__ import annotations

import json
from typing import Any

from infra.clouds.aws.platform import NLB, cluster_name, service_annotations
from infra.clouds.base import SERVICE_ACCOUNTS
from plan.runner import Plan
from tests.plans import contract_plan, platform_resources


def _contract() -> dict[str, Any]:
    contract: dict[str, Any] = contract_plan("dev").outputs["contracts"]["aws"]
    return contract


def test_every_field_is_returned() -> None:
    contract = _contract()
    assert (contract["cloud"], contract["region"]) == ("aws", "us-east-1")
    assert contract["clusterName"] == cluster_name("dev") == "gpu-platform-dev"
    assert contract["k8sProvider"].endswith("pulumi:providers:kubernetes::dev-aws-cluster-k8s")
    assert contract["bucketUri"] == "s3://acme-gpu-platform-dev-ml"
    registry = contract["registry"]
    assert registry["repository"] == f"{registry['host']}/gpu-platform/trainer"
    assert registry["host"].endswith(".dkr.ecr.us-east-1.amazonaws.com")
    assert registry["auth"]["address"] == registry["host"]
    assert registry["auth"]["username"] == "AWS"
    assert registry["auth"]["password"]
    assert set(contract["network"]) == {"vpcId", "privateSubnetIds", "publicSubnetIds"}
    assert contract["network"]["vpcId"].startswith("vpc-")
    assert len(contract["network"]["privateSubnetIds"]) == 2


def test_kubeconfig_and_registry_password_are_secret() -> None:
    secret = contract_plan("dev").secret_outputs
    assert "contracts.aws.kubeconfig" in secret
    assert "contracts.aws.registry.auth.password" in secret


def test_kubeconfig_uses_aws_eks_get_token() -> None:
    kubeconfig = json.loads(_contract()["kubeconfig"])
    [user] = kubeconfig["users"]
    exec_ = user["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "gpu-platform-dev",
        "--region",
        "us-east-1",
        "--output",
        "json",
    ]
    assert "token" not in user["user"]
    assert "client-key-data" not in user["user"]
    [cluster] = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]


def test_identities_need_no_annotation_with_pod_identity() -> None:
    identities = _contract()["identities"]
    assert identities == {
        role: {"serviceAccount": sa, "annotations": {}, "podLabels": {}}
        for role, sa in SERVICE_ACCOUNTS.items()
    }


def test_device_plugin_declared_missing() -> None:
    assert set(_contract()["missing"]) == {"GPU_DEVICE_PLUGIN"}


def test_service_annotations_give_an_internal_or_public_nlb() -> None:
    assert _contract()["serviceAnnotations"][f"{NLB}-internal"] == "true"
    tags = {"Stack": "dev", "Project": "gpu-platform"}
    public = service_annotations("public", tags)
    assert public == {
        f"{NLB}-type": "nlb",
        f"{NLB}-additional-resource-tags": "Project=gpu-platform,Stack=dev",
    }
    assert service_annotations("internal", tags) == {**public, f"{NLB}-internal": "true"}


def test_stack_outputs_carry_the_aws_contract(stack_plan: Plan) -> None:
    aws = stack_plan.outputs["clouds"]["aws"]
    assert aws["bucketUri"].startswith("s3://")
    assert aws["clusterName"] == cluster_name(stack_plan.stack)
    assert "kubeconfigs" in stack_plan.secret_outputs
    assert "kubeconfig" not in aws
    assert aws["registry"].endswith("/gpu-platform/trainer")
    assert aws["network"]["vpcId"].startswith("vpc-")


def test_every_aws_resource_uses_the_explicit_provider_and_is_tagged(stack_plan: Plan) -> None:
    aws = [r for r in platform_resources(stack_plan, "aws") if r.custom]
    provider = f"pulumi:providers:aws::{stack_plan.stack}-aws-provider"
    for resource in aws:
        if resource.type.startswith("aws:"):
            assert resource.provider is not None
            assert resource.provider.endswith(provider), resource.name
        if "tags" in resource.inputs:
            tags = resource.inputs["tags"]
            assert (tags["Project"], tags["Stack"]) == ("gpu-platform", stack_plan.stack), resource.name
    kubernetes = [r for r in aws if r.type.startswith("kubernetes:")]
    assert kubernetes
    assert all(str(r.provider).endswith(f"::{stack_plan.stack}-aws-cluster-k8s") for r in kubernetes)
