"""The VPC (NW-01 and the subnet, NAT and route layout), on dev (one NAT) and prod (one per zone)."""

from __future__ import annotations

import ipaddress

from infra.clouds.aws.network import subnet_plan
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import aws_of, cluster_of, depends_on, one, stack_config


def test_nw01_flow_logs_and_empty_default_sg(stack_plan: Plan) -> None:
    """NW-01: flow logs on the VPC into an encrypted log group with retention; default SG without rules;
    no security group opens SSH or RDP to the internet."""
    vpc = one(stack_plan, "aws:ec2/vpc:Vpc")
    flow = one(stack_plan, "aws:ec2/flowLog:FlowLog")
    assert depends_on(flow, vpc)
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
    group = next(
        g for g in aws_of(stack_plan, "aws:cloudwatch/logGroup:LogGroup") if "flow-logs" in g.inputs["name"]
    )
    assert depends_on(flow, group)
    assert group.inputs["retentionInDays"] == stack_config(stack_plan.stack).aws.log_retention_days  # type: ignore[union-attr]
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    default_sg = one(stack_plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert depends_on(default_sg, vpc)
    assert not default_sg.inputs.get("ingress")
    assert not default_sg.inputs.get("egress")
    assert not aws_of(stack_plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not aws_of(stack_plan, "aws:ec2/securityGroupRule:SecurityGroupRule")


def test_subnets_per_zone_with_load_balancer_tags(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan.stack).aws
    assert cfg is not None
    zones = cfg.availability_zones
    assert zones == (3 if stack_plan.stack == "prod" else 2)
    subnets = aws_of(stack_plan, "aws:ec2/subnet:Subnet")
    public = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/elb") == "1"]
    private = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    assert len(public) == len(private) == zones
    assert len(subnets) == 2 * zones
    assert len({s.inputs["availabilityZone"] for s in private}) == zones
    assert all(s.inputs["availabilityZone"].startswith(cfg.region) for s in subnets)
    assert all(
        s.inputs["tags"][f"kubernetes.io/cluster/{cluster_of(stack_plan)}"] == "shared" for s in subnets
    )
    vpc = ipaddress.IPv4Network(cfg.vpc_cidr)
    cidrs = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_nat_per_config_and_private_default_routes(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan.stack).aws
    assert cfg is not None
    nats = aws_of(stack_plan, "aws:ec2/natGateway:NatGateway")
    expected = cfg.availability_zones if cfg.nat_gateways == "perZone" else 1
    eips = [e for e in aws_of(stack_plan, "aws:ec2/eip:Eip") if "-gateway-" not in e.name]
    assert len(nats) == len(eips) == expected
    assert all(e.inputs["domain"] == "vpc" for e in eips)
    routes = aws_of(stack_plan, "aws:ec2/route:Route")
    to_nat = [r for r in routes if "natGatewayId" in r.inputs]
    to_igw = [r for r in routes if "gatewayId" in r.inputs]
    assert len(to_nat) == cfg.availability_zones
    assert len(to_igw) == 1
    assert all(r.inputs["destinationCidrBlock"] == "0.0.0.0/0" for r in routes)
    assert len({r.inputs["natGatewayId"] for r in to_nat}) == expected
    one(stack_plan, "aws:ec2/internetGateway:InternetGateway")
    endpoint = one(stack_plan, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint.inputs["serviceName"] == f"com.amazonaws.{cfg.region}.s3"
    assert len(endpoint.inputs["routeTableIds"]) == cfg.availability_zones


def test_subnet_plan_fits_every_allowed_vpc_size() -> None:
    for prefix in range(16, 21):
        private, public = subnet_plan(f"10.0.0.0/{prefix}", 3)
        nets = [ipaddress.IPv4Network(c) for c in private + public]
        assert [n.prefixlen for n in nets] == [prefix + 2] * 3 + [prefix + 4] * 3
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
