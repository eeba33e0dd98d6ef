"""AWS facts with boto3, from the deployer's default credential chain (AWS_PROFILE, SSO, OIDC in CI).

Every call is a read: STS GetCallerIdentity, IAM GetRole/ListRoles, EKS DescribeClusterVersions and
DescribeAddonVersions, Service Quotas GetServiceQuota, EC2 DescribeAvailabilityZones,
DescribeInstanceTypeOfferings and DescribeAddresses, S3 HeadBucket. boto3 honours `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>`, which is how the tests point it at local servers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra import naming
from infra.clouds.aws.policies import AUTOSCALING_ROLE, AUTOSCALING_ROLE_PATH
from infra.config import StackConfig
from infra.config.aws import AwsConfig, EksAddons
from preflight.checks.aws import ADDRESS_QUOTA, addon_name, gpu_quota
from preflight.facts import AwsFacts, EksVersion, ElasticIps, Name, Quota, Read
from preflight.fetch import LoginError, attempt, first_line
from preflight.pools import gpu_machines

if TYPE_CHECKING:
    from types_boto3_ec2 import EC2Client
    from types_boto3_eks import EKSClient
    from types_boto3_iam import IAMClient
    from types_boto3_s3 import S3Client
    from types_boto3_service_quotas import ServiceQuotasClient

ERRORS = (ClientError, BotoCoreError)
LOGIN_HINT = "run aws sso login, or set AWS_PROFILE"
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
"""Zones the program leaves out, as `infra.clouds.aws.network` does (that module imports pulumi_aws, too
slow to load here; a test keeps the two equal)."""
ASSUMED_ROLE = re.compile(r"^arn:[^:]+:sts::\d{12}:assumed-role/(?P<role>[^/]+)/")


@dataclass(frozen=True)
class AwsLogin:
    session: boto3.Session
    account: str
    arn: str


def login(aws: AwsConfig) -> AwsLogin:
    """The default credential chain, proven by sts:GetCallerIdentity (which needs no permission)."""
    try:
        session = boto3.Session(region_name=aws.region)
        if session.get_credentials() is None:
            raise LoginError("aws", f"no credentials found: {LOGIN_HINT}")
        who = session.client("sts").get_caller_identity()
    except ERRORS as exc:
        raise LoginError("aws", f"credentials refused ({first_line(str(exc))}): {LOGIN_HINT}") from None
    return AwsLogin(session, who["Account"], who["Arn"])


def fetch(login: AwsLogin, cfg: StackConfig) -> AwsFacts:
    aws = cfg.aws
    if aws is None:
        raise ValueError("the stack does not enable aws")
    s, minor = login.session, aws.kubernetes_version
    eks: EKSClient = s.client("eks")
    ec2: EC2Client = s.client("ec2")
    iam: IAMClient = s.client("iam")
    s3: S3Client = s.client("s3")
    sq: ServiceQuotasClient = s.client("service-quotas")
    machines = gpu_machines(cfg, "aws")
    types = dict.fromkeys([aws.system_pool.machine_type, *(m.offer.machine_type for m in machines)])
    addons = [addon_name(field) for field in EksAddons.model_fields]
    return AwsFacts(
        account=login.account,
        caller_arn=login.arn,
        principal_arn=_principal(iam, login.arn),
        cluster_version=attempt(partial(_cluster_version, eks, minor), "eks:DescribeClusterVersions", ERRORS),
        addon_versions={
            a: attempt(partial(_addon_versions, eks, a, minor), "eks:DescribeAddonVersions", ERRORS)
            for a in addons
        },
        quotas={
            code: attempt(partial(_quota, sq, code), "servicequotas:GetServiceQuota", ERRORS)
            for code in dict.fromkeys(gpu_quota(m)[1] for m in machines)
        },
        address_quota=attempt(partial(_quota, sq, ADDRESS_QUOTA[1]), "servicequotas:GetServiceQuota", ERRORS),
        addresses=attempt(partial(_elastic_ips, ec2, cfg.stack), "ec2:DescribeAddresses", ERRORS),
        cluster_zones=attempt(
            partial(_cluster_zones, ec2, aws.availability_zones), "ec2:DescribeAvailabilityZones", ERRORS
        ),
        offerings={
            t: attempt(partial(_offered_in, ec2, t), "ec2:DescribeInstanceTypeOfferings", ERRORS)
            for t in types
        },
        bucket=attempt(partial(_bucket, s3, aws.bucket_name), f"s3:ListBucket on {aws.bucket_name}", ERRORS),
        autoscaling_role=attempt(partial(_autoscaling_role, iam), "iam:ListRoles", ERRORS),
    )


def _principal(iam: IAMClient, caller_arn: str) -> Read[str]:
    """The role behind an assumed-role session, with its path (which the session ARN leaves out); an IAM
    user or root is its own principal."""
    match = ASSUMED_ROLE.match(caller_arn)
    if match is None:
        return caller_arn
    role = match["role"]
    return attempt(lambda: iam.get_role(RoleName=role)["Role"]["Arn"], f"iam:GetRole on {role}", ERRORS)


def _cluster_version(eks: EKSClient, minor: str) -> EksVersion | None:
    found = eks.describe_cluster_versions(clusterVersions=[minor], includeAll=True)["clusterVersions"]
    version = next((v for v in found if v.get("clusterVersion") == minor), None)
    if version is None:
        return None
    end = version.get("endOfStandardSupportDate")
    return EksVersion(version.get("versionStatus", "UNSUPPORTED"), end.date() if end else None)


def _addon_versions(eks: EKSClient, name: str, minor: str) -> tuple[str, ...]:
    """The add-on's versions compatible with `minor` (the API filters by it), newest first."""
    pages = eks.get_paginator("describe_addon_versions").paginate(addonName=name, kubernetesVersion=minor)
    found = [
        v["addonVersion"]
        for page in pages
        for addon in page.get("addons", [])
        if addon.get("addonName") == name
        for v in addon.get("addonVersions", [])
        if "addonVersion" in v
    ]
    return tuple(sorted(found, key=lambda v: [int(n) for n in re.findall(r"\d+", v)], reverse=True))


def _quota(sq: ServiceQuotasClient, code: str) -> Quota:
    try:
        value = sq.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"].get("Value")
    except sq.exceptions.NoSuchResourceException:
        # GetServiceQuota has no applied value for a quota never raised in some accounts; the default holds.
        value = sq.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"].get("Value")
    return Quota(value or 0.0)


def _elastic_ips(ec2: EC2Client, stack: str) -> ElasticIps:
    """The region's Elastic IPs, and how many carry the stack's `Project` and `Stack` tags
    (`infra.naming.tags`, which the NAT gateways' and the gateway's addresses are tagged with)."""
    addresses = ec2.describe_addresses()["Addresses"]  # one page: the call has no pagination
    mine = {("Project", naming.PROJECT), ("Stack", stack)}
    ours = sum(mine <= {(t.get("Key"), t.get("Value")) for t in a.get("Tags", [])} for a in addresses)
    return ElasticIps(len(addresses), ours)


def _cluster_zones(ec2: EC2Client, count: int) -> tuple[str, ...]:
    """The first `count` regular zones by name, as the program's `get_availability_zones` picks them."""
    zones = ec2.describe_availability_zones(
        Filters=[
            {"Name": "state", "Values": ["available"]},
            {"Name": "opt-in-status", "Values": ["opt-in-not-required"]},
        ]
    )["AvailabilityZones"]
    names = sorted(z["ZoneName"] for z in zones if z.get("ZoneId") not in EKS_UNSUPPORTED_ZONE_IDS)
    return tuple(names[:count])


def _offered_in(ec2: EC2Client, instance_type: str) -> tuple[str, ...]:
    pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [instance_type]}]
    )
    return tuple(sorted(o["Location"] for page in pages for o in page["InstanceTypeOfferings"]))


def _bucket(s3: S3Client, name: str) -> Name:
    """HeadBucket: 404 free, 403 someone else's, 200 ours (this account can read it)."""
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket"):
            return Name("free")
        if code in ("403", "AccessDenied"):
            return Name("taken", "HeadBucket answers 403")
        raise
    return Name("ours", "HeadBucket answers 200")


def _autoscaling_role(iam: IAMClient) -> bool:
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=AUTOSCALING_ROLE_PATH)
    return any(role["RoleName"] == AUTOSCALING_ROLE for page in pages for role in page["Roles"])
