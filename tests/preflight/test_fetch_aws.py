"""The AWS fetcher through boto3 against moto (STS, IAM, EC2, S3) and the stand-in for EKS versions and
EC2's Service Quotas, each reached through boto3's own endpoint variables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

import boto3
import pytest

from infra import naming
from infra.clouds.aws.network import EKS_UNSUPPORTED_ZONE_IDS
from infra.versions import EKS_PINS
from preflight.facts import EksVersion, ElasticIps, Name, Quota, Unreadable
from preflight.fetch import LoginError, aws
from tests.preflight import aws_api
from tests.preflight.conftest import assume
from tests.preflight.good import stack
from tests.preflight.standins import StandIn, serving

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_ec2.type_defs import TagSpecificationTypeDef


@pytest.fixture
def world() -> aws_api.AwsWorld:
    return aws_api.AwsWorld()


@pytest.fixture
def eks(world: aws_api.AwsWorld) -> Iterator[StandIn]:
    with serving(aws_api.routes(world)) as stand_in:
        yield stand_in


@pytest.fixture
def as_deployer(monkeypatch: pytest.MonkeyPatch, moto: str, eks: StandIn, deployer: dict[str, str]) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", eks.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", eks.url)
    for name, value in deployer.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("as_deployer")
def test_the_dev_stacks_facts(moto: str, eks: StandIn) -> None:
    cfg = stack("dev")
    assert cfg.aws is not None
    login = aws.login(cfg.aws)
    assert login.arn == "arn:aws:sts::123456789012:assumed-role/gpu-platform-deployer/alice"
    facts = aws.fetch(login, cfg)
    assert facts.principal_arn == cfg.aws.deployer_principal_arn
    assert facts.cluster_version == EksVersion("STANDARD_SUPPORT", date(2027, 7, 29))
    assert facts.addon_versions["vpc-cni"] == (EKS_PINS["1.35"].vpc_cni, "v1.20.4-eksbuild.1")
    assert facts.quotas == {"L-3819A6DF": Quota(8.0)}
    assert facts.address_quota == Quota(5.0)  # the stand-in's default, as on a fresh account
    assert facts.addresses == ElasticIps(allocated=0, ours=0)
    # moto's us-east-1 has zones a-f; e is use1-az3, where EKS refuses control-plane subnets.
    assert facts.cluster_zones == ("us-east-1a", "us-east-1b")
    assert facts.offerings["g4dn.xlarge"] == tuple(f"us-east-1{z}" for z in "abcdf")
    assert facts.bucket == Name("free")
    assert facts.autoscaling_role is False
    assert "GET /addons/supported-versions" in eks.requests


@pytest.mark.usefixtures("as_deployer")
def test_a_bucket_and_role_that_exist_are_seen(moto: str) -> None:
    admin = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    admin.client("s3", endpoint_url=moto).create_bucket(Bucket="preflight-ours-ml")
    admin.client("iam", endpoint_url=moto).create_service_linked_role(
        AWSServiceName="autoscaling.amazonaws.com"
    )
    cfg = stack("dev")
    assert cfg.aws is not None
    ours = cfg.model_copy(update={"aws": cfg.aws.model_copy(update={"bucket_name": "preflight-ours-ml"})})
    facts = aws.fetch(aws.login(cfg.aws), ours)
    assert facts.bucket == Name("ours", "HeadBucket answers 200")
    assert facts.autoscaling_role is True


@pytest.mark.usefixtures("as_deployer")
def test_an_assumed_role_resolves_to_the_role_with_its_path(
    monkeypatch: pytest.MonkeyPatch, moto: str
) -> None:
    for name, value in assume(moto, "platform-admin", path="/ops/").items():
        monkeypatch.setenv(name, value)
    cfg = stack("dev")
    assert cfg.aws is not None
    facts = aws.fetch(aws.login(cfg.aws), cfg)
    assert facts.principal_arn == "arn:aws:iam::123456789012:role/ops/platform-admin"


@pytest.mark.usefixtures("as_deployer")
def test_a_quota_without_an_applied_value_reads_the_default() -> None:
    prod = stack("prod")  # on-demand G pools: L-DB2E81BA, which the stand-in has only a default for
    assert prod.aws is not None
    facts = aws.fetch(aws.login(prod.aws), prod)
    assert facts.quotas["L-DB2E81BA"] == Quota(64.0)


@pytest.fixture
def us_east_1(moto: str) -> Iterator[EC2Client]:
    """moto's EC2 in dev's region, as an administrator; the Elastic IPs a test allocates there are
    released after it (moto serves the whole session)."""
    admin = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    ec2: EC2Client = admin.client("ec2", endpoint_url=moto)
    yield ec2
    for address in ec2.describe_addresses()["Addresses"]:
        ec2.release_address(AllocationId=address["AllocationId"])


@pytest.mark.usefixtures("as_deployer")
def test_addresses_tagged_as_the_stacks_are_its_own(us_east_1: EC2Client) -> None:
    # The tags the program puts on the NAT's address and on the gateway's; another stack's; none.
    for tags in (
        naming.tags("dev", "aws", "network"),
        {**naming.tags("dev", "aws", "gateway"), "Name": "dev-aws-gateway-eip-0"},
        naming.tags("prod", "aws", "network"),
    ):
        spec: list[TagSpecificationTypeDef] = [
            {"ResourceType": "elastic-ip", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
        us_east_1.allocate_address(Domain="vpc", TagSpecifications=spec)
    us_east_1.allocate_address(Domain="vpc")
    cfg = stack("dev")
    assert cfg.aws is not None
    facts = aws.fetch(aws.login(cfg.aws), cfg)
    assert facts.addresses == ElasticIps(allocated=4, ours=2)


@pytest.mark.usefixtures("as_deployer")
def test_a_refused_quota_is_unreadable_with_its_permission(world: aws_api.AwsWorld) -> None:
    world.deny_quotas = True
    cfg = stack("dev")
    assert cfg.aws is not None
    quota = aws.fetch(aws.login(cfg.aws), cfg).address_quota
    assert isinstance(quota, Unreadable)
    assert "AccessDeniedException" in quota.error
    assert quota.permission == "servicequotas:GetServiceQuota"


@pytest.mark.usefixtures("as_deployer")
def test_a_refused_call_is_unreadable_with_its_permission(world: aws_api.AwsWorld) -> None:
    world.deny_versions = True
    cfg = stack("dev")
    assert cfg.aws is not None
    version = aws.fetch(aws.login(cfg.aws), cfg).cluster_version
    assert isinstance(version, Unreadable)
    assert "AccessDeniedException" in version.error
    assert version.permission == "eks:DescribeClusterVersions"


def test_no_credentials_is_one_line_naming_the_login(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    cfg = stack("dev")
    assert cfg.aws is not None
    with pytest.raises(
        LoginError, match=r"^aws: no credentials found: run aws sso login, or set AWS_PROFILE$"
    ):
        aws.login(cfg.aws)


def test_the_zones_left_out_are_the_programs() -> None:
    assert aws.EKS_UNSUPPORTED_ZONE_IDS == EKS_UNSUPPORTED_ZONE_IDS
