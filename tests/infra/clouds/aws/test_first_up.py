"""What a first `pulumi up` on a fresh AWS account needs beyond the controls: Auto Scaling's service-linked
role before the key policy that names it, node groups only in zones that offer their instance type, and
the metrics API the serving autoscaler reads."""

from __future__ import annotations

import json

import pytest

from infra.clouds.aws.keys import needs_service_linked_role
from infra.clouds.aws.nodepools import subnets_offering
from plan.fakes.registry import Ctx
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import KEY, NODE_GROUP, addon, aws_of, depends_on, named, one

SLR = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
SUBNET = "aws:ec2/subnet:Subnet"


def test_a_fresh_account_gets_auto_scalings_role_before_the_disks_key(stack_plan: Plan) -> None:
    """KMS refuses a key policy naming a principal that does not exist: the role comes first. It is the
    account's, so the stack never deletes it (retained), and only the disks key waits for it."""
    role = one(stack_plan, SLR)
    assert role.inputs == {"awsServiceName": "autoscaling.amazonaws.com"}
    assert role.retain_on_delete is True
    disks = named(stack_plan, KEY, "-keys-disks")
    principals = [s["Principal"] for s in json.loads(disks.inputs["policy"])["Statement"]]
    assert {"AWS": "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling"} in principals  # fmt: skip
    assert depends_on(disks, role)
    assert [k.name for k in aws_of(stack_plan, KEY) if depends_on(k, role)] == [disks.name]


def test_the_role_is_declared_only_while_the_account_lacks_it() -> None:
    assert needs_service_linked_role([])
    assert needs_service_linked_role(["AWSServiceRoleForAutoScaling_custom"])
    assert not needs_service_linked_role(["AWSServiceRoleForAutoScaling"])


def test_node_groups_only_in_zones_that_offer_their_instance_type(stack_plan: Plan) -> None:
    """The plan's EC2 answers leave GPU types out of each region's first zone (as real regions leave them
    out of some): GPU groups skip that zone's subnet, the system group keeps every subnet."""
    # The ids the plan's fakes give the subnets (plan/fakes/aws.py), by zone.
    zone_of = {
        f"subnet-{Ctx(SUBNET, s.name, {}, stack_plan.stack).hex()}": s.inputs["availabilityZone"]
        for s in aws_of(stack_plan, SUBNET)
        if "-private-" in s.name
    }
    for group in aws_of(stack_plan, NODE_GROUP):
        gpu = group.inputs["instanceTypes"][0].startswith(("g", "p"))
        expected = [z for z in sorted(zone_of.values()) if not (gpu and z.endswith("a"))]
        assert sorted(zone_of[s] for s in group.inputs["subnetIds"]) == expected, group.name


def test_no_subnet_in_a_zone_with_the_type_is_one_clear_error() -> None:
    assert subnets_offering("g5.xlarge", ["s-1", "s-2"], ["z-a", "z-b"], ["z-b", "z-c"]) == ["s-2"]
    with pytest.raises(
        ValueError, match=r"no private subnet is in a zone that offers p5.48xlarge: .* z-a, z-b"
    ):
        subnets_offering("p5.48xlarge", ["s-1", "s-2"], ["z-a", "z-b"], ["z-c"])


def test_metrics_server_after_the_system_nodes(stack_plan: Plan) -> None:
    """EKS installs no metrics API; without it the serving HPA never gets a metric and never scales."""
    server = addon(stack_plan, "metrics-server")
    assert depends_on(server, named(stack_plan, NODE_GROUP, "-nodes-system"))
    assert server.inputs["addonVersion"].startswith("v0.")


def test_nat_gateways_and_their_addresses_wait_for_the_internet_gateway(stack_plan: Plan) -> None:
    """A public NAT gateway created before the VPC's internet gateway fails; on destroy, the gateway
    cannot be detached while a NAT still holds an address."""
    igw = one(stack_plan, "aws:ec2/internetGateway:InternetGateway")
    for type_ in ("aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip"):
        found = aws_of(stack_plan, type_)
        assert found
        assert all(depends_on(r, igw) for r in found), type_


def test_the_cni_and_the_autoscaler_wait_for_their_policies(stack_plan: Plan) -> None:
    cni = addon(stack_plan, "vpc-cni")
    assert depends_on(
        cni,
        named(stack_plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-cni-AmazonEKS_CNI_Policy"),
    )
    autoscaler = next(
        r
        for r in stack_plan.of_type("kubernetes:apps/v1:Deployment")
        if r.name.endswith("autoscaler-deployment")
    )
    assert depends_on(autoscaler, named(stack_plan, "aws:iam/rolePolicy:RolePolicy", "autoscaler-policy"))
    assert depends_on(
        autoscaler,
        named(stack_plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "autoscaler-pod-identity"),
    )
