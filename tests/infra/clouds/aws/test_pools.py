"""GPU pool changes in config change exactly the expected node-group inputs (each plan_with is a full
program run, so each test makes one)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import config
from plan import stackfile
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import CLUSTER, LAUNCH_TEMPLATE, NODE_GROUP, aws_of, node_group, one
from tests.plans import ROOT, merged, plan_with, stack_values

POOLS = "gpu-platform:gpuPools"


def _diff(before: Any, after: Any, path: str = "") -> set[str]:
    """Paths whose values differ, down to the leaves."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = set(before) | set(after)
        return set().union(*(_diff(before.get(k), after.get(k), f"{path}.{k}" if path else k) for k in keys))
    return set() if before == after else {path}


def _comparable(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs without the ids the fakes derive from resource names."""
    return {k: v for k, v in inputs.items() if k not in ("launchTemplate", "nodeRoleArn", "subnetIds")}


def test_second_gpu_pool_adds_one_group_and_one_template(dev_plan: Plan) -> None:
    extra = {"name": "infer", "gpu": "l4", "minNodes": 0, "maxNodes": 2, "diskGb": 80, "clouds": ["aws"]}
    plan = plan_with({POOLS: [*stack_values("dev")[POOLS], extra]})
    before = {r.name for r in aws_of(dev_plan, NODE_GROUP) + aws_of(dev_plan, LAUNCH_TEMPLATE)}
    after = {r.name for r in aws_of(plan, NODE_GROUP) + aws_of(plan, LAUNCH_TEMPLATE)}
    assert after - before == {"dev-aws-cluster-nodes-infer", "dev-aws-cluster-nodes-infer-lt"}
    assert before <= after
    group = node_group(plan, "infer")
    assert (group.inputs["instanceTypes"], group.inputs["capacityType"]) == (["g6.xlarge"], "ON_DEMAND")
    assert node_group(plan, "train").inputs == node_group(dev_plan, "train").inputs


def test_changing_type_size_and_spot_changes_only_those_inputs(dev_plan: Plan) -> None:
    [train] = stack_values("dev")[POOLS]
    # a10g is AWS-only; the other clouds keep their t4.
    gpu = {"aws": "a10g", "gcp": "t4", "azure": "t4"}
    changed = {**train, "gpu": gpu, "minNodes": 1, "maxNodes": 5, "spot": False}
    plan = plan_with({POOLS: [changed]})
    before, after = node_group(dev_plan, "train"), node_group(plan, "train")
    template = "k8s.io/cluster-autoscaler/node-template/label"
    assert _diff(_comparable(before.inputs), _comparable(after.inputs)) == {
        "instanceTypes",
        "capacityType",
        "scalingConfig.minSize",
        "scalingConfig.maxSize",
        "scalingConfig.desiredSize",
        "labels.gpu-platform/gpu",
        "labels.k8s.amazonaws.com/accelerator",
        f"tags.{template}/gpu-platform/gpu",
        f"tags.{template}/k8s.amazonaws.com/accelerator",
    }
    assert (after.inputs["instanceTypes"], after.inputs["capacityType"]) == (["g5.xlarge"], "ON_DEMAND")
    assert after.inputs["scalingConfig"] == {"minSize": 1, "maxSize": 5, "desiredSize": 1}
    assert node_group(plan, "system").inputs == node_group(dev_plan, "system").inputs
    lt = "dev-aws-cluster-nodes-train-lt"
    assert [t.inputs for t in aws_of(plan, LAUNCH_TEMPLATE) if t.name == lt] == [
        t.inputs for t in aws_of(dev_plan, LAUNCH_TEMPLATE) if t.name == lt
    ]


def test_private_endpoint_turns_public_access_off() -> None:
    """CP-01, the other way: `privateEndpoint: true` closes the public endpoint entirely, and a security
    group on the control plane admits HTTPS from the authorized private networks, which nothing else
    would (only the cluster security group is admitted by default)."""
    access = {"privateEndpoint": True, "authorizedCidrs": ["10.200.0.0/16"]}
    plan = plan_with({"gpu-platform:aws": {"apiAccess": access}})
    vpc = one(plan, CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    group = one(plan, "aws:ec2/securityGroup:SecurityGroup")
    (rule,) = group.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)
    assert rule["cidrBlocks"] == ["10.200.0.0/16"]
    assert group.urn in one(plan, CLUSTER).property_dependencies["vpcConfig"]


def test_a_private_endpoint_needs_the_networks_that_reach_it() -> None:
    """Without them nothing (`pulumi up` included) could reach the API of the cluster just created."""
    access = {"privateEndpoint": True, "authorizedCidrs": []}
    values = merged(stack_values("dev"), {"gpu-platform:aws": {"apiAccess": access}})
    files = stackfile.load(ROOT, "dev-test", overrides=values)
    with pytest.raises(config.ConfigError) as caught:
        config.parse(config.read_raw(files.config.get), stack="dev")
    (problem,) = caught.value.problems
    assert problem.startswith("gpu-platform:aws.apiAccess: got ")
    assert "expected authorizedCidrs with a private endpoint too" in problem
