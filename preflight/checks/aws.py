"""AWS checks: pure functions of `AwsFacts` and the stack config (docs/aws.md says what each needs)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from pydantic.alias_generators import to_camel

from infra.catalog import Cloud
from infra.config import StackConfig
from infra.config.aws import AwsConfig, EksAddons
from preflight.checks.common import name_row, quota_row, unreadable
from preflight.facts import AwsFacts, Unreadable
from preflight.pools import PoolMachine, gpu_machines
from preflight.report import Row, Status

CLOUD: Cloud = "aws"
KEY = "gpu-platform:aws"
SUPPORT_WARNING = timedelta(days=90)
"""Warn when standard support ends this soon: EKS then upgrades the cluster (upgradePolicy STANDARD)."""
GPU_QUOTAS: dict[tuple[str, bool], tuple[str, str]] = {
    ("g", False): ("Running On-Demand G and VT instances", "L-DB2E81BA"),
    ("g", True): ("All G and VT Spot Instance Requests", "L-3819A6DF"),
    ("p", False): ("Running On-Demand P instances", "L-417A185B"),
    ("p", True): ("All P Spot Instance Requests", "L-7212CCBC"),
}
"""(instance family letter, spot) -> the EC2 quota's name and Service Quotas code, in vCPUs (docs/aws.md)."""
ADDRESS_QUOTA = ("EC2-VPC Elastic IPs", "L-0263D0A3")
"""The EC2 quota on the Elastic IPs allocated in a region (5 by default), counted in addresses."""


def addon_name(field: str) -> str:
    """The EKS add-on an `aws.addons` field pins: vpc_cni -> vpc-cni."""
    return field.replace("_", "-")


def gpu_quota(machine: PoolMachine) -> tuple[str, str]:
    """The quota (its name and Service Quotas code) the pool's instances count against."""
    return GPU_QUOTAS[machine.offer.machine_type[0], machine.pool.spot]


def elastic_ips(cfg: StackConfig, aws: AwsConfig) -> dict[str, int]:
    """The Elastic IPs the stack allocates in its region, by use: one per NAT gateway (`natGateways`
    perZone: one per zone, single: one; infra/clouds/aws/network.py) and, with `serving.domain`, one per
    public subnet (one per zone) for the gateway's NLB (infra/clouds/aws/gateway_address.py)."""
    if aws.nat_gateways == "perZone":
        uses = {"NAT gateways, one per zone (natGateways: perZone)": aws.availability_zones}
    else:
        uses = {"the NAT gateway (natGateways: single)": 1}
    if cfg.serving.domain is not None:
        uses["the gateway's NLB, one per public subnet (serving.domain)"] = aws.availability_zones
    return uses


def identity(facts: AwsFacts, aws: AwsConfig) -> Row:
    want = aws.deployer_principal_arn
    who = f"caller {facts.caller_arn} (account {facts.account})"
    if isinstance(facts.principal_arn, Unreadable):
        return unreadable(CLOUD, "identity", f"the IAM role behind {who}", facts.principal_arn)
    if facts.principal_arn == want:
        return Row(CLOUD, "identity", Status.PASS, f"{who} is deployerPrincipalArn {want}")
    found = f"{who} resolves to {facts.principal_arn}, but {KEY}.deployerPrincipalArn is {want}"
    fix = f"log in as {want} (aws sso login), or set deployerPrincipalArn to {facts.principal_arn}"
    return Row(CLOUD, "identity", Status.FAIL, found, fix)


def versions(facts: AwsFacts, aws: AwsConfig, today: date) -> list[Row]:
    return [_cluster_version(facts, aws, today), _addons(facts, aws)]


def _cluster_version(facts: AwsFacts, aws: AwsConfig, today: date) -> Row:
    minor, where = aws.kubernetes_version, f"in {aws.region}"
    version = facts.cluster_version
    if isinstance(version, Unreadable):
        return unreadable(CLOUD, "versions", f"EKS versions {where}", version)
    fix = f"set {KEY}.kubernetesVersion to a minor in standard support (aws eks describe-cluster-versions)"
    if version is None:
        return Row(CLOUD, "versions", Status.FAIL, f"EKS does not offer Kubernetes {minor} {where}", fix)
    if version.status != "STANDARD_SUPPORT":
        # The cluster's upgradePolicy is STANDARD, which EKS allows only for a version in standard support.
        found = (
            f"EKS Kubernetes {minor} is in {version.status} {where}; the cluster disables extended support"
        )
        return Row(CLOUD, "versions", Status.FAIL, found, fix)
    end = version.end_of_standard_support
    found = f"EKS offers Kubernetes {minor} {where}, standard support until {end or 'unannounced'}"
    if end is not None and end - today <= SUPPORT_WARNING:
        upgrade = f"{found}: EKS then upgrades the cluster to the next minor"
        return Row(
            CLOUD, "versions", Status.WARN, upgrade, f"plan the upgrade, or {fix.removeprefix('set ')}"
        )
    return Row(CLOUD, "versions", Status.PASS, found)


def _addons(facts: AwsFacts, aws: AwsConfig) -> Row:
    bad, fixes = [], []
    for field in EksAddons.model_fields:
        pinned: str = getattr(aws.pinned_addons(), field)
        offered = facts.addon_versions[addon_name(field)]
        if isinstance(offered, Unreadable):
            return unreadable(CLOUD, "versions", f"the {addon_name(field)} add-on's versions", offered)
        if pinned not in offered:
            bad.append(f"{addon_name(field)} {pinned}")
            newest = offered[0] if offered else "none offered"
            fixes.append(f"{KEY}.addons.{to_camel(field)}: {newest}")
    minor = aws.kubernetes_version
    if bad:
        found = f"add-on versions not offered for Kubernetes {minor}: {', '.join(bad)}"
        return Row(CLOUD, "versions", Status.FAIL, found, "set the newest offered: " + "; ".join(fixes))
    count = len(EksAddons.model_fields)
    return Row(CLOUD, "versions", Status.PASS, f"all {count} add-on versions are offered for {minor}")


def capacity(facts: AwsFacts, cfg: StackConfig, aws: AwsConfig) -> list[Row]:
    machines = gpu_machines(cfg, CLOUD)
    needs: dict[tuple[str, str], list[PoolMachine]] = defaultdict(list)
    for m in machines:
        needs[gpu_quota(m)].append(m)
    rows = []
    for (name, code), users in needs.items():
        quota, need = facts.quotas[code], sum(m.vcpus for m in users)
        label = f"{name} ({code}) in {aws.region} for {', '.join(m.describe() for m in users)}"
        if isinstance(quota, Unreadable):
            rows.append(unreadable(CLOUD, "capacity", label, quota))
            continue
        fix = (
            "aws service-quotas request-service-quota-increase --service-code ec2 "
            f"--quota-code {code} --desired-value {need} --region {aws.region}"
        )
        rows.append(quota_row(CLOUD, label, quota, need, unit="vCPUs", fix=fix))
    types = [aws.system_pool.machine_type, *dict.fromkeys(m.offer.machine_type for m in machines)]
    return rows + _addresses(facts, cfg, aws) + [_offered(facts, t) for t in types]


def _addresses(facts: AwsFacts, cfg: StackConfig, aws: AwsConfig) -> list[Row]:
    """The stack's Elastic IPs against the quota less those others hold in the region. The stack's own
    (tagged as its) are not counted as others': a deployed stack keeps them, within what it needs."""
    uses = elastic_ips(cfg, aws)
    need = sum(uses.values())
    name, code = ADDRESS_QUOTA
    quota, held = facts.address_quota, facts.addresses
    if isinstance(quota, Unreadable) or isinstance(held, Unreadable):
        reads = [(f"{name} ({code})", quota), ("the Elastic IPs allocated", held)]
        return [
            unreadable(CLOUD, "capacity", f"{what} in {aws.region} (the stack needs {need})", read)
            for what, read in reads
            if isinstance(read, Unreadable)
        ]
    others = held.allocated - held.ours
    own = f" (not counting the stack's own {held.ours}, tagged as its)" if held.ours else ""
    found = (
        f"{name} ({code}) in {aws.region}: limit {quota.limit:g}, {others} allocated by others{own}; "
        f"the stack needs {need}: " + ", ".join(f"{n} for {use}" for use, n in uses.items())
    )
    if quota.limit - others >= need:
        return [Row(CLOUD, "capacity", Status.PASS, found)]
    fix = (
        "aws service-quotas request-service-quota-increase --service-code ec2 "
        f"--quota-code {code} --desired-value {others + need} --region {aws.region}"
    )
    return [Row(CLOUD, "capacity", Status.FAIL, found, fix)]


def _offered(facts: AwsFacts, instance_type: str) -> Row:
    zones, offered = facts.cluster_zones, facts.offerings[instance_type]
    if isinstance(zones, Unreadable):
        return unreadable(CLOUD, "capacity", "the region's availability zones", zones)
    if isinstance(offered, Unreadable):
        return unreadable(CLOUD, "capacity", f"the zones offering {instance_type}", offered)
    usable = [z for z in zones if z in offered]
    if usable:
        found = f"{instance_type} is offered in {', '.join(usable)} of the cluster's {', '.join(zones)}"
        return Row(CLOUD, "capacity", Status.PASS, found)
    found = (
        f"no zone of the cluster ({', '.join(zones)}) offers {instance_type}; "
        f"the region offers it in {', '.join(offered) or 'no zone'}"
    )
    fix = f"choose another GPU type or region, or {KEY}.availabilityZones: 3"
    return Row(CLOUD, "capacity", Status.FAIL, found, fix)


def names(facts: AwsFacts, aws: AwsConfig) -> Row:
    if isinstance(facts.bucket, Unreadable):
        return unreadable(CLOUD, "names", f"S3 bucket {aws.bucket_name}", facts.bucket)
    return name_row(CLOUD, "S3 bucket", f"{KEY}.bucketName", aws.bucket_name, facts.bucket)


def prerequisites(facts: AwsFacts) -> Row:
    role = facts.autoscaling_role
    if isinstance(role, Unreadable):
        # The program lists roles itself at every `pulumi up` (iam.getRoles), so this denial would fail it.
        return unreadable(CLOUD, "prerequisites", "Auto Scaling's service-linked role", role, Status.FAIL)
    if role:
        return Row(CLOUD, "prerequisites", Status.PASS, "Auto Scaling's service-linked role exists")
    found = "the account has no Auto Scaling service-linked role yet: the program will create it"
    fix = (
        "let the deployer call iam:CreateServiceLinkedRole, or create it once: "
        "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com"
    )
    return Row(CLOUD, "prerequisites", Status.WARN, found, fix)


def check(facts: AwsFacts, cfg: StackConfig, today: date) -> list[Row]:
    aws = cfg.aws
    if aws is None:
        raise ValueError("the stack does not enable aws")
    return [
        identity(facts, aws),
        *versions(facts, aws, today),
        *capacity(facts, cfg, aws),
        names(facts, aws),
        prerequisites(facts),
    ]
