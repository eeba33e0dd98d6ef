"""The gateway's addresses on AWS: an Elastic IP per public subnet, and the annotations that give the
gateway's Service an internet-facing NLB on exactly those subnets and addresses, from the controller that
gives serving its NLB. Read from the contract program, which reserves them on every cloud."""

from __future__ import annotations

from typing import Any

import pytest

from infra.clouds.aws.gateway_address import EIP_ANNOTATION, NLB, SUBNETS_ANNOTATION
from infra.config.aws import AwsConfig
from infra.naming import tags
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import aws_of, stack_config
from tests.plans import contract_plan

EIP = "aws:ec2/eip:Eip"


@pytest.fixture(scope="module", params=["dev", "prod"])
def plan(request: pytest.FixtureRequest) -> Plan:
    return contract_plan(request.param)


def gateway(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = plan.outputs["contracts"]["aws"]["gateway"]
    return found


def test_one_vpc_elastic_ip_per_public_subnet(plan: Plan) -> None:
    eips = [e for e in aws_of(plan, EIP) if "-gateway-eip-" in e.name]
    public = plan.outputs["contracts"]["aws"]["network"]["publicSubnetIds"]
    assert len(eips) == len(public) == stack_config(plan.stack).section(AwsConfig).availability_zones
    for eip in eips:
        assert eip.inputs["domain"] == "vpc"
        assert {k: eip.inputs["tags"][k] for k in tags(plan.stack, "aws", "gateway")} == tags(
            plan.stack, "aws", "gateway"
        )
    assert len(gateway(plan)["ips"]) == len(eips)


def test_the_nlb_is_internet_facing_on_the_public_subnets_and_the_addresses(plan: Plan) -> None:
    annotations = gateway(plan)["annotations"]
    subnets = annotations[SUBNETS_ANNOTATION].split(",")
    allocations = annotations[EIP_ANNOTATION].split(",")
    # The service controller pairs them in order and refuses differing counts.
    assert subnets == plan.outputs["contracts"]["aws"]["network"]["publicSubnetIds"]
    assert len(allocations) == len(subnets) == len(set(allocations))
    assert all(a.startswith("eipalloc-") for a in allocations)
    assert annotations[f"{NLB}-type"] == "nlb"
    # Not internal, and nothing only the AWS Load Balancer Controller (not installed) reads.
    assert f"{NLB}-internal" not in annotations
    assert not {f"{NLB}-scheme", f"{NLB}-nlb-target-type"} & set(annotations)
