"""The VPC: private subnets for nodes and the control plane, public subnets for NAT and internet-facing
load balancers, one or one-per-zone NAT gateways, flow logs, and a default security group with no rules.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext

EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
"""Zones where EKS refuses control-plane subnets (UnsupportedAvailabilityZoneException); skipped."""


def subnet_plan(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Private subnets take a quarter of the VPC each (the VPC CNI gives every pod a VPC address); the
    public ones, which hold only NAT gateways and load balancers, share the last quarter."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(vpc.subnets(prefixlen_diff=2))
    public = list(quarters[3].subnets(prefixlen_diff=2))
    return [str(n) for n in quarters[:zones]], [str(n) for n in public[:zones]]


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    context: AwsContext
    cidr: str
    zones: int
    nat_gateways: Literal["single", "perZone"]
    cluster_name: str
    """Tagged on the subnets so the cloud provider's load balancer controller picks them."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int


class Network(pulumi.ComponentResource):
    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:Network", name, None, opts)
        self._name, self._args, context = name, args, args.context
        child = pulumi.ResourceOptions(parent=self)
        tags = context.tags("network")
        # Local Zones and Wavelength Zones are opt-in; only the region's regular zones are wanted.
        zones = aws.get_availability_zones_output(
            state="available",
            exclude_zone_ids=list(EKS_UNSUPPORTED_ZONE_IDS),
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            region=context.region,
            opts=context.invoke_opts(),
        )
        self.vpc = self._vpc()
        self.internet_gateway = igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags=tags, opts=child
        )
        private_cidrs, public_cidrs = subnet_plan(args.cidr, args.zones)
        self.public_subnets = [
            self._subnet("public", i, cidr, zones.names[i], {"kubernetes.io/role/elb": "1"})
            for i, cidr in enumerate(public_cidrs)
        ]
        self.private_subnets = [
            self._subnet("private", i, cidr, zones.names[i], {"kubernetes.io/role/internal-elb": "1"})
            for i, cidr in enumerate(private_cidrs)
        ]
        self._public_routes(igw)
        # What nodes need to get out: each private subnet's default route through NAT, and its association.
        self.private_egress: list[pulumi.Resource] = []
        self._s3_endpoint(self._private_routes(igw))
        self._flow_logs()
        self.vpc_id: pulumi.Output[str] = self.vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.private_subnet_zones = pulumi.Output.all(*[s.availability_zone for s in self.private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    def _vpc(self) -> aws.ec2.Vpc:
        tags = self._args.context.tags("network")
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.Vpc(
            f"{self._name}-vpc",
            cidr_block=self._args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": self._name},
            opts=child,
        )
        # With no ingress or egress blocks the provider strips every rule AWS put there.
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            vpc_id=vpc.id,
            tags={**tags, "Name": f"{self._name}-default"},
            opts=child,
        )
        return vpc

    def _subnet(
        self, tier: str, index: int, cidr: str, zone: pulumi.Input[str], role_tag: dict[str, str]
    ) -> aws.ec2.Subnet:
        tags = {
            **self._args.context.tags("network"),
            **role_tag,
            f"kubernetes.io/cluster/{self._args.cluster_name}": "shared",
            "Name": f"{self._name}-{tier}-{index}",
        }
        return aws.ec2.Subnet(
            f"{self._name}-{tier}-{index}",
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            # No instance gets a public address, not even in the public tier (NAT and NLBs do not need it).
            map_public_ip_on_launch=False,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _public_routes(self, igw: aws.ec2.InternetGateway) -> None:
        child = pulumi.ResourceOptions(parent=self)
        table = aws.ec2.RouteTable(
            f"{self._name}-public-rt", vpc_id=self.vpc.id, tags=self._args.context.tags("network"), opts=child
        )
        aws.ec2.Route(
            f"{self._name}-public-default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for i, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{self._name}-public-{i}-rta", route_table_id=table.id, subnet_id=subnet.id, opts=child
            )

    def _private_routes(self, igw: aws.ec2.InternetGateway) -> list[aws.ec2.RouteTable]:
        child = pulumi.ResourceOptions(parent=self)
        # A public NAT gateway created before the VPC's internet gateway fails ("has no Internet gateway
        # attached"), and on destroy the gateway cannot go while an address is still mapped.
        after_igw = pulumi.ResourceOptions(parent=self, depends_on=[igw])
        tags = self._args.context.tags("network")
        count = len(self.public_subnets) if self._args.nat_gateways == "perZone" else 1
        nats, eips = [], []
        for i in range(count):
            eip = aws.ec2.Eip(f"{self._name}-nat-{i}-eip", domain="vpc", tags=tags, opts=after_igw)
            eips.append(eip)
            nats.append(
                aws.ec2.NatGateway(
                    f"{self._name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[i].id,
                    tags=tags,
                    opts=after_igw,
                )
            )
        # Every pod reaches the internet from these addresses, allocated for the stack's life.
        self.egress_ips: pulumi.Output[list[str]] = pulumi.Output.all(*[e.public_ip for e in eips])
        tables = []
        for i, subnet in enumerate(self.private_subnets):
            table = aws.ec2.RouteTable(
                f"{self._name}-private-{i}-rt", vpc_id=self.vpc.id, tags=tags, opts=child
            )
            route = aws.ec2.Route(
                f"{self._name}-private-{i}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[i % count].id,
                opts=child,
            )
            association = aws.ec2.RouteTableAssociation(
                f"{self._name}-private-{i}-rta", route_table_id=table.id, subnet_id=subnet.id, opts=child
            )
            self.private_egress += [route, association]
            tables.append(table)
        return tables

    def _s3_endpoint(self, tables: list[aws.ec2.RouteTable]) -> None:
        # A free gateway endpoint: training data and checkpoints reach S3 without NAT processing charges.
        aws.ec2.VpcEndpoint(
            f"{self._name}-s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{self._args.context.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in tables],
            tags=self._args.context.tags("network"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _flow_logs(self) -> None:
        context, child = self._args.context, pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{self._name}-flow-logs",
            name=f"/aws/vpc/{self._args.cluster_name}/flow-logs",
            retention_in_days=self._args.log_retention_days,
            kms_key_id=self._args.logs_key_arn,
            tags=context.tags("network"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{self._name}-flow-logs-role",
            assume_role_policy=context.account_id.apply(policies.flow_logs_trust),
            tags=context.tags("network"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{self._name}-flow-logs-policy",
            role=role.id,
            policy=pulumi.Output.all(group.arn, context.partition, context.account_id).apply(
                lambda v: policies.flow_logs_policy(v[0], v[1], context.region, v[2])
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{self._name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=context.tags("network"),
            opts=child,
        )
