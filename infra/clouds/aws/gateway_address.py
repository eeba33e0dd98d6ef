"""The gateway's static public addresses on AWS: one Elastic IP per public subnet, which the internet-facing
NLB of the gateway's `LoadBalancer` Service takes, one per subnet it spans.

The NLB comes from the same controller as serving's (`platform.service_annotations`): the AWS cloud
provider's service controller, which EKS runs in its control plane. No AWS Load Balancer Controller is
installed, so its own annotations (`aws-load-balancer-type: external`, `-scheme`, `-nlb-target-type`)
would leave the Service with no load balancer at all: the service controller skips a Service of type
`external`. That controller gives a Service of type `nlb` internet-facing unless `-internal`, with
instance targets, and takes two more annotations (kubernetes/cloud-provider-aws, pkg/providers/v1/aws.go
and aws_loadbalancer.go):
- `aws-load-balancer-subnets`: the subnets, by id, instead of those it would discover by their role tag,
  pinned here to the VPC's public ones;
- `aws-load-balancer-eip-allocations`: comma-separated allocation ids, one per subnet in the order of the
  subnets, used as the NLB's addresses; it refuses to create the NLB when the counts differ. It reads them
  only when it creates the NLB: a new address means a new Service.
- `aws-load-balancer-cross-zone-load-balancing-enabled: "true"`: the DNS names publish every address, and
  without cross-zone balancing an NLB node sends only to targets in its own zone, while Envoy Gateway's
  Service keeps client addresses (`externalTrafficPolicy: Local`): an address in a zone without a proxy
  pod would take connections and drop them. The controller sets the attribute from it (aws.go).

The addresses are protected with the stack's other stateful resources: they are what DNS names, and an
address released and allocated again is another address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.clouds.base import GatewayAddress

NLB = "service.beta.kubernetes.io/aws-load-balancer"
SUBNETS_ANNOTATION = f"{NLB}-subnets"
EIP_ANNOTATION = f"{NLB}-eip-allocations"
CROSS_ZONE = {f"{NLB}-cross-zone-load-balancing-enabled": "true"}


def _joined(values: Sequence[pulumi.Output[str]]) -> pulumi.Output[str]:
    """A comma-separated list, without spaces: the controller splits on ',' and trims nothing."""
    return pulumi.Output.all(*values).apply(",".join)


def reserve(
    name: str,
    *,
    public_subnets: Sequence[aws.ec2.Subnet],
    nlb_annotations: Mapping[str, str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> GatewayAddress:
    """An Elastic IP per public subnet, and the annotations of an internet-facing NLB on them
    (`nlb_annotations`, serving's public ones, plus the subnets and the allocations)."""
    eips = [
        aws.ec2.Eip(f"{name}-{i}", domain="vpc", tags={**tags, "Name": f"{name}-{i}"}, opts=opts)
        for i in range(len(public_subnets))
    ]
    return GatewayAddress(
        ips=pulumi.Output.all(*[e.public_ip for e in eips]),
        annotations={
            **nlb_annotations,
            **CROSS_ZONE,
            SUBNETS_ANNOTATION: _joined([s.id for s in public_subnets]),
            EIP_ANNOTATION: _joined([e.allocation_id for e in eips]),
        },
    )
