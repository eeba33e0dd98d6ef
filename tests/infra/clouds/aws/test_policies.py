"""The policy documents as pure functions: key policies trust only the services each key serves."""

from __future__ import annotations

import fnmatch
import json

import pytest

from infra.clouds.aws import policies
from infra.clouds.aws.keys import PURPOSES
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import one

ACCOUNT = "123456789012"


def _principals(purpose: str) -> list[object]:
    doc = json.loads(policies.key_policy(purpose, "aws", ACCOUNT, "us-west-2"))
    return [s["Principal"] for s in doc["Statement"]]


@pytest.mark.parametrize("purpose", list(PURPOSES))
def test_key_policy_keeps_the_account_in_control(purpose: str) -> None:
    assert {"AWS": f"arn:aws:iam::{ACCOUNT}:root"} in _principals(purpose)
    assert "*" not in _principals(purpose)


def test_only_the_logs_key_trusts_cloudwatch_and_only_disks_trusts_autoscaling() -> None:
    logs = {"Service": "logs.us-west-2.amazonaws.com"}
    role = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    asg = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{role}"}
    for purpose in PURPOSES:
        assert (logs in _principals(purpose)) is (purpose == "logs")
        assert (asg in _principals(purpose)) is (purpose == "disks")


def test_autoscaler_writes_only_to_its_clusters_groups() -> None:
    doc = json.loads(policies.autoscaler_policy("aws", "us-west-2", ACCOUNT, "gpu-platform-prod"))
    scale = next(s for s in doc["Statement"] if s["Sid"] == "ScaleOwnGroups")
    assert scale["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/gpu-platform-prod": "owned"}
    }
    wildcard = [s for s in doc["Statement"] if s["Resource"] == "*"]
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for s in wildcard for a in s["Action"])


def test_ecr_lifecycle_expires_only_builds_and_untagged_layers() -> None:
    """The mirrored images (TF Serving, rclone, the device plugin) share the repository and are pinned by
    running pods: no rule may count them. ECR wants `tagStatus: any` last; no rule uses it at all."""
    rules = json.loads(policies.ecr_lifecycle("build-"))["rules"]
    statuses = {r["selection"]["tagStatus"] for r in rules}
    assert statuses == {"untagged", "tagged"}
    (counted,) = [r for r in rules if r["selection"]["countType"] == "imageCountMoreThan"]
    assert counted["selection"]["tagPatternList"] == ["build-*"]
    assert len({r["rulePriority"] for r in rules}) == len(rules)


def test_ecr_lifecycle_spares_every_mirror_tag(dev_plan: Plan) -> None:
    """Against the plan's real tags: every mirror tag misses the counted rule's pattern, the build matches."""
    rules = json.loads(one(dev_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    tagged = next(r["selection"] for r in rules if r["selection"]["tagStatus"] == "tagged")
    (pattern,) = tagged["tagPatternList"]
    images = [r for r in dev_plan.of_type("docker-build:index:Image") if r.cloud == "aws"]
    tags = [t.rsplit(":", 1)[1] for i in images for t in i.inputs["tags"]]
    built = [t for t in tags if fnmatch.fnmatchcase(t, pattern)]
    assert len(built) == 1
    assert len(tags) >= 3  # the trainer and at least the serving and model-sync mirrors
