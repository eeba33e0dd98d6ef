"""Pricing rules for the AWS resources (pulumi_aws 7.x type tokens and wire names)."""

from __future__ import annotations

from typing import Any

from plan.cost import prices as p
from plan.cost.context import Context, Rule
from plan.cost.machines import Pool, disk_charges, pool_charges
from plan.cost.model import HOURS_PER_MONTH, Charge, PriceError
from plan.runner import PlannedResource

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
PUBLIC_ELB_TAG = "kubernetes.io/role/elb"
EKS_DEFAULT_DISK_GB = 20
"""A managed node group's root volume when neither `diskSize` nor a launch template sets one."""
H = HOURS_PER_MONTH


def cluster(res: PlannedResource, ctx: Context) -> list[Charge]:
    policy: dict[str, Any] = res.inputs.get("upgradePolicy") or {}
    note = ""
    if policy.get("supportType", "EXTENDED") != "STANDARD":
        version = res.inputs.get("version", "its version")
        note = (
            f"rises to ${p.EKS_EXTENDED.usd}/h when {version} leaves standard support (supportType EXTENDED)"
        )
    return [Charge("EKS control plane (standard support)", p.EKS_STANDARD, H, note=note)]


def _launch_template(res: PlannedResource, ctx: Context) -> dict[str, Any]:
    templates = ctx.dependencies(res, LAUNCH_TEMPLATE)
    return templates[0].inputs if templates else {}


def _disk(res: PlannedResource, template: dict[str, Any]) -> tuple[str, float]:
    """Volume type and total GB per node: the launch template's EBS volumes, else `diskSize`."""
    volumes = [m["ebs"] for m in template.get("blockDeviceMappings") or [] if m.get("ebs")]
    if volumes:
        return str(volumes[0].get("volumeType", "gp3")), sum(float(v.get("volumeSize", 0)) for v in volumes)
    return "gp3", float(res.inputs.get("diskSize", EKS_DEFAULT_DISK_GB))


def node_group(res: PlannedResource, ctx: Context) -> list[Charge]:
    template = _launch_template(res, ctx)
    types = list(res.inputs.get("instanceTypes") or [])
    machine = types[0] if types else template.get("instanceType")
    if not machine:
        raise PriceError("a node group with no instance type (neither instanceTypes nor its launch template)")
    scaling: dict[str, Any] = res.inputs.get("scalingConfig") or {}
    spot = res.inputs.get("capacityType") == "SPOT"
    pool = Pool("aws", str(machine), spot, int(scaling.get("minSize", 0)), int(scaling.get("maxSize", 0)))
    labels: dict[str, Any] = res.inputs.get("labels") or {}
    label = "GPU nodes" if labels.get("nvidia.com/gpu.present") == "true" else "nodes"
    charges = pool_charges(pool, label)
    if len(types) > 1:
        first = charges[0]
        charges[0] = Charge(
            first.item, first.rate, first.idle, first.busy, f"priced as {machine}, first of {types}"
        )
    volume_type, size = _disk(res, template)
    return charges + disk_charges(pool, volume_type, size)


def nat_gateway(res: PlannedResource, ctx: Context) -> list[Charge]:
    note = f"assumed {p.Assumed.NAT_GB:g} GB/month"
    return [
        Charge("NAT gateway", p.AWS_NAT_HOUR, H),
        Charge("NAT gateway data processing", p.AWS_NAT_GB, p.Assumed.NAT_GB, note=note),
    ]


def eip(res: PlannedResource, ctx: Context) -> list[Charge]:
    return [Charge("public IPv4 address (Elastic IP)", p.AWS_PUBLIC_IPV4, H)]


def kms_key(res: PlannedResource, ctx: Context) -> list[Charge]:
    note = "the first and second rotations add $1/month each (yearly rotation: from the second year)"
    return [Charge("KMS key", p.AWS_KMS_KEY, 1, note=note if res.inputs.get("enableKeyRotation") else "")]


def bucket(res: PlannedResource, ctx: Context) -> list[Charge]:
    gb = p.Assumed.OBJECT_STORE_GB
    note = f"assumed {gb:g} GB stored; requests and egress not included"
    return [Charge("S3 Standard storage", p.S3_STANDARD, gb, note=note)]


def repository(res: PlannedResource, ctx: Context) -> list[Charge]:
    gb = p.Assumed.REGISTRY_GB
    return [Charge("ECR storage", p.ECR_STORAGE, gb, note=f"assumed {gb:g} GB of images")]


def log_group(res: PlannedResource, ctx: Context) -> list[Charge]:
    gb = p.Assumed.CLOUDWATCH_GB
    note = f"assumed {gb:g} GB/month ingested; storage ($0.03/GB-month) not included"
    return [Charge("CloudWatch Logs ingestion", p.CLOUDWATCH_INGEST, gb, note=note)]


def vpc_endpoint(res: PlannedResource, ctx: Context) -> list[Charge]:
    """A gateway endpoint (S3, DynamoDB) costs nothing; an interface endpoint bills per zone it serves."""
    kind = res.inputs.get("vpcEndpointType", "Gateway")
    if kind == "Gateway":
        return []
    if kind == "Interface":
        zones = len(res.inputs.get("subnetIds") or []) or 1
        note = f"one network interface per subnet ({zones}); data processed ($0.01/GB) not included"
        return [Charge("VPC interface endpoint", p.AWS_INTERFACE_ENDPOINT, zones * H, note=note)]
    raise PriceError(f"no price for VPC endpoint type {kind!r}; priced: Gateway, Interface")


def public_subnets(ctx: Context, cloud: str | None) -> int:
    """Subnets tagged for internet-facing load balancers: one NLB address each."""
    return sum(1 for s in ctx.of_cloud(cloud, SUBNET) if PUBLIC_ELB_TAG in (s.inputs.get("tags") or {}))


def nlb(internet_facing: bool, subnets: int) -> list[Charge]:
    """A Network Load Balancer, as the AWS Load Balancer Controller or the in-tree NLB support makes one."""
    lcu = p.Assumed.NLB_LCU
    charges = [
        Charge("Network Load Balancer", p.AWS_NLB_HOUR, H),
        Charge("NLB capacity units", p.AWS_NLB_LCU, lcu * H, note=f"assumed {lcu:g} NLCU on average"),
    ]
    if internet_facing:
        note = f"one address per public subnet ({subnets})"
        charges.append(Charge("NLB public IPv4 addresses", p.AWS_PUBLIC_IPV4, subnets * H, note=note))
    return charges


def load_balancer(res: PlannedResource, ctx: Context) -> list[Charge]:
    kind = res.inputs.get("loadBalancerType", "application")
    if kind == "network":
        return nlb(not res.inputs.get("internal", False), public_subnets(ctx, res.cloud))
    if kind == "application":
        note = f"assumed {p.Assumed.NLB_LCU:g} LCU on average"
        return [
            Charge("Application Load Balancer", p.AWS_ALB_HOUR, H),
            Charge("ALB capacity units", p.AWS_ALB_LCU, p.Assumed.NLB_LCU * H, note=note),
        ]
    raise PriceError(f"no price for load balancer type {kind!r}; priced: network, application")


def health_check(res: PlannedResource, ctx: Context) -> list[Charge]:
    """A Route 53 endpoint check, at the rates of a non-AWS endpoint: the other clouds' gateways are, and
    the AWS gateway's check costs less ($0.50 and $1.00 a feature), so this is the upper bound."""
    inputs = res.inputs
    features = [
        name
        for name, on in (
            ("HTTPS", str(inputs.get("type", "")).startswith("HTTPS")),
            ("string matching", str(inputs.get("type", "")).endswith("STR_MATCH")),
            ("fast interval", inputs.get("requestInterval") == 10),
            ("latency measurement", bool(inputs.get("measureLatency"))),
        )
        if on
    ]
    charges = [Charge("Route 53 health check", p.AWS_R53_HEALTH_CHECK, 1)]
    if features:
        note = ", ".join(features)
        charges.append(Charge("health check features", p.AWS_R53_CHECK_FEATURE, len(features), note=note))
    return charges


RULES: dict[str, Rule] = {
    "aws:eks/cluster:Cluster": cluster,
    "aws:eks/nodeGroup:NodeGroup": node_group,
    "aws:ec2/natGateway:NatGateway": nat_gateway,
    "aws:ec2/eip:Eip": eip,
    "aws:kms/key:Key": kms_key,
    "aws:s3/bucket:Bucket": bucket,
    "aws:s3/bucketV2:BucketV2": bucket,
    "aws:ecr/repository:Repository": repository,
    "aws:cloudwatch/logGroup:LogGroup": log_group,
    "aws:lb/loadBalancer:LoadBalancer": load_balancer,
    "aws:ec2/vpcEndpoint:VpcEndpoint": vpc_endpoint,
    "aws:route53/healthCheck:HealthCheck": health_check,
}
