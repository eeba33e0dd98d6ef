"""cert-manager on every cluster answers DNS-01 in the Route 53 zone with no key: EKS's by Pod Identity,
GKE's and AKS's by web identity through the one OIDC provider per issuer that federation shares; each role
changes only its own cluster's TXT challenge records."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from infra.gateway.serving import cluster_issuer
from plan import stackfile
from plan.fakes.registry import FAKE_ACCOUNT
from plan.runner import Plan, PlannedResource, run
from tests.infra.clouds.aws.helpers import ASSOCIATION, ROLE, ROLE_POLICY, cluster_arn_of
from tests.infra.clouds.federated import answered, one_named
from tests.infra.gateway.schemas import GATEWAY
from tests.plans import ROOT, merged, stack_values

PROGRAM = Path(__file__).parent / "dns01_program"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ZONE = "Z0123456789ABCDEFGHIJ"
DOMAIN = "ml.example.com"
SUBJECT = "system:serviceaccount:cert-manager:cert-manager"
SERVING = {
    "exposure": "public",
    "sourceCidrs": ["198.51.100.0/24"],
    "domain": DOMAIN,
    "dns": {"provider": "route53", "zoneId": ZONE},
    "auth": {"clients": ["app"]},
}


@functools.cache
def dns_plan() -> Plan:
    values = merged(stack_values("prod"), {"gpu-platform:serving": SERVING})
    files = stackfile.load(ROOT, "prod-test", overrides=values)
    return run(dataclasses.replace(files, program_dir=PROGRAM), "prod")


def exported(cloud: str) -> dict[str, Any]:
    value: dict[str, Any] = dns_plan().outputs["dns01"][cloud]
    return value


def policy_of(resource: PlannedResource) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(resource.inputs["policy"])["Statement"]
    return statements


def trust_of(role: PlannedResource) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statements


def names(cloud: str) -> list[str]:
    return [f"_acme-challenge.{DOMAIN}", f"_acme-challenge.{cloud}.{DOMAIN}"]


def test_eks_cert_manager_is_trusted_by_pod_identity_for_its_own_account_only() -> None:
    plan = dns_plan()
    role = one_named(plan, ROLE, "prod-aws-dns01-role")
    (statement,) = trust_of(role)
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": cluster_arn_of(plan),
            "aws:RequestTag/kubernetes-namespace": "cert-manager",
            "aws:RequestTag/kubernetes-service-account": "cert-manager",
        }
    }
    association = one_named(plan, ASSOCIATION, "prod-aws-dns01-association")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "cert-manager",
        "cert-manager",
    )
    assert role.urn in association.depends_on


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_foreign_cert_manager_is_trusted_by_its_issuer_for_its_own_account_only(cloud: str) -> None:
    plan = dns_plan()
    host = plan.outputs["issuers"][cloud].removeprefix("https://")
    role = one_named(plan, ROLE, f"prod-aws-federation-{cloud}-dns01-role")
    assert trust_of(role) == [
        {
            "Sid": "FederatedServiceAccount",
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{FAKE_ACCOUNT}:oidc-provider/{host}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": SUBJECT, f"{host}:aud": "sts.amazonaws.com"}},
        }
    ]


def test_one_oidc_provider_per_issuer_shared_with_federation() -> None:
    plan = dns_plan()
    providers = plan.of_type(OIDC_PROVIDER)
    urls = sorted(p.inputs["url"] for p in providers)
    assert urls == sorted(plan.outputs["issuers"].values())
    gke = one_named(plan, OIDC_PROVIDER, "prod-aws-federation-gcp-oidc")
    replicator = one_named(plan, ROLE, "prod-aws-federation-gcp-role")
    solver = one_named(plan, ROLE, "prod-aws-federation-gcp-dns01-role")
    assert gke.urn in replicator.depends_on
    assert gke.urn in solver.depends_on


@pytest.mark.parametrize(
    ("cloud", "name"),
    [
        ("aws", "prod-aws-dns01-policy"),
        ("gcp", "prod-aws-federation-gcp-dns01-policy"),
        ("azure", "prod-aws-federation-azure-dns01-policy"),
    ],
)
def test_each_role_changes_only_its_own_txt_challenges_in_the_zone(cloud: str, name: str) -> None:
    zone = f"arn:aws:route53:::hostedzone/{ZONE}"
    types, records = (
        "route53:ChangeResourceRecordSetsRecordTypes",
        "route53:ChangeResourceRecordSetsNormalizedRecordNames",
    )
    assert policy_of(one_named(dns_plan(), ROLE_POLICY, name)) == [
        {
            "Sid": "ChangeChallengeRecords",
            "Effect": "Allow",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": zone,
            "Condition": {
                "ForAllValues:StringEquals": {types: ["TXT"], records: names(cloud)},
                "Null": {types: "false", records: "false"},
            },
        },
        {
            "Sid": "WaitForChanges",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": "arn:aws:route53:::change/*",
        },
    ]


def test_eks_solver_uses_ambient_credentials() -> None:
    access = exported("aws")
    region = stack_values("prod")["aws:region"]
    assert access["solver"] == {"route53": {"region": region, "hostedZoneID": ZONE}}
    assert (access["annotations"], access["podLabels"], access["rules"]) == ({}, {}, [])
    plan = dns_plan()
    assert set(access["ready"]) == {
        one_named(plan, ASSOCIATION, "prod-aws-dns01-association").urn,
        one_named(plan, ROLE_POLICY, "prod-aws-dns01-policy").urn,
    }


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_foreign_solver_names_the_role_and_mints_its_own_token(cloud: str) -> None:
    plan, access = dns_plan(), exported(cloud)
    role = one_named(plan, ROLE, f"prod-aws-federation-{cloud}-dns01-role")
    route53 = access["solver"]["route53"]
    assert route53["hostedZoneID"] == ZONE
    assert route53["role"] == answered(plan.stack, role)["arn"]
    assert route53["auth"] == {
        "kubernetes": {"serviceAccountRef": {"name": "cert-manager", "audiences": ["sts.amazonaws.com"]}}
    }
    assert access["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "resourceNames": ["cert-manager"],
            "verbs": ["create"],
        }
    ]
    assert (access["annotations"], access["podLabels"]) == ({}, {})


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_each_clusters_solver_makes_a_cluster_issuer_the_crd_accepts(cloud: str) -> None:
    """The solver as `dns01` hands it over is the whole `dns01` body of the ClusterIssuer's solver."""
    issuer = cluster_issuer(domain="ml.example.com", email=None, dns01=exported(cloud)["solver"], labels={})
    assert GATEWAY.validate(issuer) == []
    assert set(issuer["spec"]["acme"]["solvers"][0]["dns01"]) == {"route53"}
