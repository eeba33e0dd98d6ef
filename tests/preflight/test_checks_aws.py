"""The AWS checks on facts that satisfy them (PASS) and on each fact that breaks one (FAIL or WARN)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from infra.versions import EKS_PINS
from preflight.checks import aws
from preflight.facts import EksVersion, ElasticIps, Name, NameState, Quota, Unreadable
from preflight.report import Row, Status
from tests.preflight.good import TODAY, aws_facts, stack

DENIED = Unreadable("AccessDenied: not authorized", "the:Permission")


def rows(stack_name: str = "dev", /, **changes: Any) -> list[Row]:
    cfg = stack(stack_name)
    return aws.check(replace(aws_facts(cfg), **changes), cfg, TODAY)


def only(found: list[Row], check: str, status: Status) -> Row:
    matching = [r for r in found if r.check == check and r.status is status]
    assert len(matching) == 1, found
    return matching[0]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_check_passes_on_good_facts(stack_name: str) -> None:
    found = rows(stack_name)
    assert {r.check for r in found} == {"identity", "versions", "capacity", "names", "prerequisites"}
    assert [r for r in found if r.status is not Status.PASS] == []


def test_a_caller_other_than_the_deployer_fails_naming_both() -> None:
    row = only(rows(principal_arn="arn:aws:iam::123456789012:role/someone-else"), "identity", Status.FAIL)
    assert "role/someone-else" in row.found
    assert "role/gpu-platform-deployer" in row.found
    assert "deployerPrincipalArn" in row.fix


def test_an_unreadable_role_path_warns_with_the_permission() -> None:
    row = only(rows(principal_arn=DENIED), "identity", Status.WARN)
    assert "assumed-role/gpu-platform-deployer/alice" in row.found
    assert row.fix == "grant the:Permission"


@pytest.mark.parametrize(
    "version",
    [None, EksVersion("EXTENDED_SUPPORT", date(2026, 7, 29)), EksVersion("UNSUPPORTED", None)],
    ids=["not-offered", "extended-support", "unsupported"],
)
def test_a_minor_not_in_standard_support_fails(version: EksVersion | None) -> None:
    row = only(rows(cluster_version=version), "versions", Status.FAIL)
    assert "1.35" in row.found
    assert "kubernetesVersion" in row.fix


def test_standard_support_ending_within_90_days_of_today_warns() -> None:
    ending = EksVersion("STANDARD_SUPPORT", date(2027, 2, 1))
    row = only(rows(cluster_version=ending), "versions", Status.WARN)
    assert "2027-02-01" in row.found
    assert "upgrades" in row.found


def test_an_add_on_version_not_offered_fails_with_the_newest() -> None:
    cfg = stack("dev")
    offered = dict(aws_facts(cfg).addon_versions)
    offered["vpc-cni"] = ("v1.23.1-eksbuild.1", "v1.23.0-eksbuild.1")
    row = only(rows(addon_versions=offered), "versions", Status.FAIL)
    assert f"vpc-cni {EKS_PINS['1.35'].vpc_cni}" in row.found
    assert "gpu-platform:aws.addons.vpcCni: v1.23.1-eksbuild.1" in row.fix


def test_unreadable_versions_warn() -> None:
    found = rows(cluster_version=DENIED)
    assert only(found, "versions", Status.WARN).fix == "grant the:Permission"


def test_the_spot_quota_must_cover_max_nodes_times_vcpus() -> None:
    row = only(rows(quotas={"L-3819A6DF": Quota(4)}), "capacity", Status.FAIL)
    assert "L-3819A6DF" in row.found
    assert "the pools need 8" in row.found
    assert "--quota-code L-3819A6DF --desired-value 8 --region us-east-1" in row.fix
    assert not [r for r in rows(quotas={"L-3819A6DF": Quota(8)}) if r.status is not Status.PASS]


def test_pools_of_one_family_share_its_on_demand_quota() -> None:
    # prod: train 4 x g5.xlarge + serve 6 x g4dn.xlarge, 4 vCPUs each: 40 vCPUs of G (docs/aws.md).
    # (trainspot counts against the spot quota, which the good facts cover.)
    quotas = {**aws_facts(stack("prod")).quotas, "L-DB2E81BA": Quota(39)}
    row = only(rows("prod", quotas=quotas), "capacity", Status.FAIL)
    assert "the pools need 40" in row.found
    assert "train" in row.found
    assert "serve" in row.found


@pytest.mark.parametrize(
    ("stack_name", "uses"),
    [
        ("dev", {"the NAT gateway (natGateways: single)": 1}),
        (
            "prod",
            {
                "NAT gateways, one per zone (natGateways: perZone)": 3,
                "the gateway's NLB, one per public subnet (serving.domain)": 3,
            },
        ),
    ],
)
def test_the_stack_allocates_an_elastic_ip_per_nat_and_per_gateway_subnet(
    stack_name: str, uses: dict[str, int]
) -> None:
    # dev: one NAT, no domain; prod: a NAT per zone and the gateway's NLB in each of the 3 public subnets.
    cfg = stack(stack_name)
    assert cfg.aws is not None
    assert aws.elastic_ips(cfg, cfg.aws) == uses


def elastic_ip_row(found: list[Row], status: Status) -> Row:
    return only([r for r in found if "L-0263D0A3" in r.found], "capacity", status)


def test_elastic_ips_that_fit_beside_others_pass() -> None:
    # dev needs 1: the default 5, less 4 held by others, leaves it.
    row = elastic_ip_row(rows(address_quota=Quota(5), addresses=ElasticIps(4, 0)), Status.PASS)
    assert row.found == (
        "EC2-VPC Elastic IPs (L-0263D0A3) in us-east-1: limit 5, 4 allocated by others; "
        "the stack needs 1: 1 for the NAT gateway (natGateways: single)"
    )


def test_prods_elastic_ips_exceed_a_fresh_accounts_quota() -> None:
    row = elastic_ip_row(rows("prod", address_quota=Quota(5), addresses=ElasticIps(0, 0)), Status.FAIL)
    assert row.found == (
        "EC2-VPC Elastic IPs (L-0263D0A3) in us-west-2: limit 5, 0 allocated by others; the stack needs 6: "
        "3 for NAT gateways, one per zone (natGateways: perZone), "
        "3 for the gateway's NLB, one per public subnet (serving.domain)"
    )
    assert row.fix == (
        "aws service-quotas request-service-quota-increase --service-code ec2 "
        "--quota-code L-0263D0A3 --desired-value 6 --region us-west-2"
    )


def test_elastic_ips_held_by_others_raise_the_quota_asked_for() -> None:
    # dev needs 1, but all 5 are held by others: the quota must hold the 5 and dev's one.
    row = elastic_ip_row(rows(address_quota=Quota(5), addresses=ElasticIps(5, 0)), Status.FAIL)
    assert "5 allocated by others" in row.found
    assert row.fix.endswith("--quota-code L-0263D0A3 --desired-value 6 --region us-east-1")


def test_the_stacks_own_elastic_ips_are_not_counted_twice() -> None:
    # prod deployed: its 6 addresses, tagged as its, are what it needs, not others'.
    deployed = rows("prod", address_quota=Quota(6), addresses=ElasticIps(6, 6))
    assert (
        "0 allocated by others (not counting the stack's own 6" in elastic_ip_row(deployed, Status.PASS).found
    )
    another = rows("prod", address_quota=Quota(6), addresses=ElasticIps(7, 6))
    assert elastic_ip_row(another, Status.FAIL).fix.endswith("--desired-value 7 --region us-west-2")


@pytest.mark.parametrize(
    ("field", "permission"),
    [("address_quota", "servicequotas:GetServiceQuota"), ("addresses", "ec2:DescribeAddresses")],
)
def test_unreadable_elastic_ips_or_their_quota_warn_with_the_permission(field: str, permission: str) -> None:
    denied = Unreadable("AccessDenied: not authorized", permission)
    row = only(rows("prod", **{field: denied}), "capacity", Status.WARN)
    assert row.found.startswith("could not read")
    assert "in us-west-2 (the stack needs 6)" in row.found
    assert row.fix == f"grant {permission}"


def test_both_unreadable_name_both_permissions() -> None:
    found = rows(
        address_quota=Unreadable("AccessDenied", "servicequotas:GetServiceQuota"),
        addresses=Unreadable("UnauthorizedOperation", "ec2:DescribeAddresses"),
    )
    fixes = [r.fix for r in found if r.status is Status.WARN]
    assert fixes == ["grant servicequotas:GetServiceQuota", "grant ec2:DescribeAddresses"]


def test_an_instance_type_in_none_of_the_cluster_zones_fails() -> None:
    cfg = stack("dev")
    offered = {**aws_facts(cfg).offerings, "g4dn.xlarge": ("us-east-1d",)}
    row = only(rows(offerings=offered), "capacity", Status.FAIL)
    assert "g4dn.xlarge" in row.found
    assert "us-east-1d" in row.found
    assert "availabilityZones" in row.fix


def test_unreadable_quota_and_zones_warn() -> None:
    warned = [r for r in rows(cluster_zones=DENIED, quotas={"L-3819A6DF": DENIED}) if r.status is Status.WARN]
    assert len(warned) == 3  # the quota, and each of the two instance types' zones


@pytest.mark.parametrize(
    ("state", "status"), [("free", Status.PASS), ("ours", Status.PASS), ("taken", Status.FAIL)]
)
def test_the_bucket_name_is_free_or_ours(state: NameState, status: Status) -> None:
    row = only(rows(bucket=Name(state, "HeadBucket")), "names", status)
    assert "acme-gpu-platform-dev-ml" in row.found
    assert ("gpu-platform:aws.bucketName" in row.fix) == (status is Status.FAIL)


def test_a_missing_autoscaling_role_warns_that_the_program_creates_it() -> None:
    row = only(rows(autoscaling_role=False), "prerequisites", Status.WARN)
    assert "will create it" in row.found
    assert "iam:CreateServiceLinkedRole" in row.fix


def test_roles_the_deployer_cannot_list_fail_since_the_program_lists_them() -> None:
    assert only(rows(autoscaling_role=DENIED), "prerequisites", Status.FAIL).fix == "grant the:Permission"


@pytest.mark.parametrize(
    ("field", "check", "status"),
    [
        ("principal_arn", "identity", Status.WARN),
        ("cluster_version", "versions", Status.WARN),
        ("cluster_zones", "capacity", Status.WARN),
        ("bucket", "names", Status.WARN),
        ("autoscaling_role", "prerequisites", Status.FAIL),
    ],
)
def test_each_unreadable_fact_names_the_permission(field: str, check: str, status: Status) -> None:
    row = next(r for r in rows(**{field: DENIED}) if r.check == check and r.status is status)
    assert row.found.startswith("could not read")
    assert row.fix == "grant the:Permission"


def test_unreadable_add_on_versions_warn() -> None:
    offered = dict.fromkeys(aws_facts(stack("dev")).addon_versions, DENIED)
    assert only(rows(addon_versions=offered), "versions", Status.WARN).fix == "grant the:Permission"
