"""AWS as a replication target: an IAM OIDC provider for the home cluster's issuer, exactly as its tokens
carry it, a role only the replicator's service account may assume, with read/write/delete only under
models/ (prod: GKE's issuer; dev trained on Azure: AKS's, with its trailing slash)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.catalog import Cloud
from infra.clouds.aws.platform import cluster_name
from plan.fakes.registry import FAKE_ACCOUNT
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.aws.helpers import ROLE, ROLE_POLICY, aws_of, stack_config
from tests.infra.clouds.federated import (
    MODELS,
    SUBJECT,
    aks_issuer,
    answered,
    azure_home_plan,
    gke_issuer,
    gke_nat,
    one_named,
    replicator,
)

ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
EIP = "aws:ec2/eip:Eip"


def _trust(plan: Plan, home: Cloud) -> tuple[PlannedResource, PlannedResource, PlannedResource]:
    name = f"{plan.stack}-aws-federation-{home}"
    return (
        one_named(plan, OIDC_PROVIDER, f"{name}-oidc"),
        one_named(plan, ROLE, f"{name}-role"),
        one_named(plan, ROLE_POLICY, f"{name}-policy"),
    )


def _home(prod_plan: Plan, home: Cloud) -> tuple[Plan, str]:
    """The plan in which `home` trains and AWS is a target, and the home cluster's issuer."""
    if home == "gcp":
        return prod_plan, gke_issuer(prod_plan)
    plan = azure_home_plan()
    return plan, aks_issuer(plan)


def _statements(resource: PlannedResource, key: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(resource.inputs[key])["Statement"]
    return statements


def test_the_component_hangs_under_the_platform_with_its_provider(prod_plan: Plan) -> None:
    trusts = {t.name: t for t in prod_plan.of_type("gpu-platform:aws:FederatedTrust")}
    assert set(trusts) == {"prod-aws-federation-gcp", "prod-aws-federation-azure"}
    # The replicator's role and policy, and (prod dispatches from GKE) MultiKueue's refresher: its role,
    # access entry, and the wait for IAM between them, on a `time` provider of the trust's own; and (prod
    # serves under a domain in Route 53) cert-manager's DNS-01 role and policy, for every other cluster.
    expected = {
        "prod-aws-federation-gcp": [OIDC_PROVIDER, ROLE, ROLE_POLICY, ROLE, ACCESS_ENTRY, ROLE, ROLE_POLICY],
        "prod-aws-federation-azure": [OIDC_PROVIDER, ROLE, ROLE_POLICY],
    }
    for name, trust in trusts.items():
        assert prod_plan.by_urn()[str(trust.parent)].type == "gpu-platform:aws:Platform"
        children = [r for r in prod_plan.resources if r.parent == trust.urn]
        aws_children = [r for r in children if not r.type.startswith(("time:", "pulumi:providers:"))]
        assert sorted(r.type for r in aws_children) == sorted(expected[name])
        assert {str(r.provider).rsplit("::", 1)[1] for r in aws_children} == {"prod-aws-provider"}


@pytest.mark.parametrize("home", ["gcp", "azure"])
def test_the_provider_trusts_the_home_issuer_verbatim_for_sts(prod_plan: Plan, home: Cloud) -> None:
    plan, issuer = _home(prod_plan, home)
    provider, _, _ = _trust(plan, home)
    assert provider.inputs["url"] == issuer
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # IAM derives the thumbprint itself; a pinned one would outlive the issuer's certificate.
    assert "thumbprintLists" not in provider.inputs


@pytest.mark.parametrize("home", ["gcp", "azure"])
def test_the_role_trusts_exactly_the_replicator_of_that_issuer(prod_plan: Plan, home: Cloud) -> None:
    plan, issuer = _home(prod_plan, home)
    host = issuer.removeprefix("https://")
    provider, role, _ = _trust(plan, home)
    assert _statements(role, "assumeRolePolicy") == [
        {
            "Sid": "FederatedServiceAccount",
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{FAKE_ACCOUNT}:oidc-provider/{host}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": SUBJECT, f"{host}:aud": "sts.amazonaws.com"}},
        }
    ]
    assert provider.urn in role.depends_on


def test_aks_condition_keys_keep_the_trailing_slash() -> None:
    plan = azure_home_plan()
    _, role, _ = _trust(plan, "azure")
    keys = set(_statements(role, "assumeRolePolicy")[0]["Condition"]["StringEquals"])
    host = aks_issuer(plan).removeprefix("https://")
    assert host.endswith("/")
    assert keys == {f"{host}:sub", f"{host}:aud"}
    assert all(k.endswith(("/:sub", "/:aud")) for k in keys)


def test_the_role_reads_writes_and_deletes_only_under_models_from_the_home_nat(prod_plan: Plan) -> None:
    """S3 refuses the role's requests from anywhere but GKE's Cloud NAT addresses; KMS is called by S3."""
    nat = gke_nat(prod_plan)
    origin = {"IpAddress": {"aws:SourceIp": [f"{ip}/32" for ip in nat]}}
    assert nat
    cfg = stack_config("prod").aws
    assert cfg is not None
    bucket = f"arn:aws:s3:::{cfg.bucket_name}"
    _, role, policy = _trust(prod_plan, "gcp")
    assert role.urn in policy.depends_on
    key = next(s for s in _statements(policy, "policy") if s["Sid"] == "UseBucketKeyThroughS3")["Resource"]
    storage_key = next(r for r in aws_of(prod_plan, "aws:kms/key:Key") if r.name.endswith("-keys-storage"))
    assert answered(prod_plan.stack, storage_key)["arn"] == key
    assert _statements(policy, "policy") == [
        {
            "Sid": "ListModels",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [MODELS, f"{MODELS}*"]}, **origin},
        },
        {
            "Sid": "ReadWriteModels",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket}/{MODELS}*",
            "Condition": origin,
        },
        {
            "Sid": "UseBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{cfg.region}.amazonaws.com"}},
        },
    ]


def test_the_replicator_presents_an_sts_token_and_names_the_role(prod_plan: Plan) -> None:
    _, _, policy = _trust(prod_plan, "gcp")
    pod, region = replicator(prod_plan), stack_config("prod").aws.region  # type: ignore[union-attr]
    assert pod.token("aws")["audience"] == "sts.amazonaws.com"
    aws_env = {k: v for k, v in pod.env.items() if k.startswith("AWS_")}
    assert aws_env == {
        "AWS_ROLE_ARN": f"arn:aws:iam::{FAKE_ACCOUNT}:role/{policy.inputs['role']}",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/gpu-platform/aws/token",
        "AWS_ROLE_SESSION_NAME": "prod-gcp-replicator",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def test_the_home_cloud_trusts_no_foreign_issuer(dev_plan: Plan) -> None:
    """dev trains on AWS: its cluster's issuer is what the others trust, and AWS federates nothing."""
    assert not aws_of(dev_plan, OIDC_PROVIDER)
    assert not dev_plan.of_type("gpu-platform:aws:FederatedTrust")


def test_the_nat_addresses_are_the_egress_other_clouds_admit(dev_plan: Plan, prod_plan: Plan) -> None:
    """One EIP in dev, one per zone in prod (where AWS is a target, whose egress nobody admits); prod's
    gateway has its own, which are not egress."""
    assert len([e for e in aws_of(prod_plan, EIP) if "-gateway-" not in e.name]) == 3
    (eip,) = aws_of(dev_plan, EIP)
    address = answered(dev_plan.stack, eip)["publicIp"]
    (account,) = dev_plan.of_type("azure-native:storage:StorageAccount")
    assert account.inputs["networkRuleSet"]["ipRules"] == [{"iPAddressOrRange": address, "action": "Allow"}]


def test_the_eks_issuer_is_what_the_other_clouds_trust(dev_plan: Plan) -> None:
    (cluster,) = aws_of(dev_plan, "aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == cluster_name("dev")
    (oidc,) = answered(dev_plan.stack, cluster)["identities"][0]["oidcs"]
    assert oidc["issuer"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    credential = one_named(
        dev_plan,
        "azure-native:managedidentity:FederatedIdentityCredential",
        "dev-azure-federation-aws-credential",
    )
    (provider,) = dev_plan.of_type("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert credential.inputs["issuer"] == provider.inputs["oidc"]["issuerUri"] == oidc["issuer"]
