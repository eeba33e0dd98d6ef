"""Lookups over a plan's AWS resources, shared by the AWS test modules."""

from __future__ import annotations

import functools
import json
from typing import Any

from infra import config
from infra.clouds.aws.platform import cluster_name
from infra.config import StackConfig
from plan import stackfile
from plan.fakes.registry import FAKE_ACCOUNT
from plan.runner import Plan, PlannedResource
from tests.plans import ROOT, platform_resources

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


@functools.cache
def stack_config(stack: str) -> StackConfig:
    files = stackfile.load(ROOT, stack)
    return config.parse(config.read_raw(files.config.get), stack=stack)


def aws_of(plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in platform_resources(plan, "aws") if r.type.lower() == type_.lower()]


def one(plan: Plan, type_: str) -> PlannedResource:
    found = aws_of(plan, type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def named(plan: Plan, type_: str, suffix: str) -> PlannedResource:
    found = [r for r in aws_of(plan, type_) if r.name.endswith(suffix)]
    assert len(found) == 1, (suffix, [r.name for r in aws_of(plan, type_)])
    return found[0]


def addon(plan: Plan, name: str) -> PlannedResource:
    return next(r for r in aws_of(plan, ADDON) if r.inputs["addonName"] == name)


def node_group(plan: Plan, pool: str) -> PlannedResource:
    return named(plan, NODE_GROUP, f"-nodes-{pool}")


def doc(resource: PlannedResource, key: str) -> dict[str, Any]:
    """A JSON policy input, parsed."""
    parsed: dict[str, Any] = json.loads(resource.inputs[key])
    return parsed


def depends_on(resource: PlannedResource, other: PlannedResource) -> bool:
    return other.urn in resource.depends_on


def cluster_of(plan: Plan) -> str:
    return cluster_name(plan.stack)


def cluster_arn_of(plan: Plan) -> str:
    """The EKS cluster's ARN, in the mock engine's account: what Pod Identity trusts name."""
    (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:aws"]
    return f"arn:aws:eks:{provider.inputs['region']}:{FAKE_ACCOUNT}:cluster/{cluster_of(plan)}"
