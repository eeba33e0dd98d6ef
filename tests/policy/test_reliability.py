"""RL-01..RL-07: serving HA, disruption budget, probes and rollout; training Job preemption tolerance,
hygiene, scheduling onto its pool and checkpoints in a versioned bucket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, case

POD = "spec.template.spec"
MAIN = f"{POD}.containers[0]"
MUTATIONS = [
    case("gcp", "RL-01", ("serving-hpa", "spec.minReplicas", 1), on="serving"),
    case("gcp", "RL-01", ("serving-hpa", "spec.minReplicas", DELETE), on="serving"),
    case("gcp", "RL-01", ("serving-hpa", REMOVE, None), ("serving", "spec.replicas", 1), on="serving"),
    case("gcp", "RL-01", ("serving", f"{POD}.topologySpreadConstraints", DELETE)),
    case("gcp", "RL-01", ("serving", f"{POD}.nodeSelector", {"cloud.google.com/gke-spot": "true"})),
    case("gcp", "RL-01", ("serving", f"{POD}.nodeSelector", {"gpu-platform/pool": "train"})),
    case("gcp", "RL-02", ("serving-pdb", "spec.maxUnavailable", 0)),
    case("gcp", "RL-02", ("serving-pdb", "spec.maxUnavailable", "0%")),
    case("gcp", "RL-02", ("serving-pdb", "spec.maxUnavailable", "100%")),
    case("gcp", "RL-02", ("serving-pdb", "spec.maxUnavailable", DELETE)),
    case(
        "gcp",
        "RL-02",
        ("serving-pdb", "spec.maxUnavailable", DELETE),
        ("serving-pdb", "spec.minAvailable", 2),
    ),
    case("gcp", "RL-02", ("serving-pdb", "spec.selector.matchLabels", {"app": "other"}), on="serving"),
    case("gcp", "RL-02", ("serving-pdb", REMOVE, None), on="serving"),
    case("gcp", "RL-03", ("serving", f"{MAIN}.readinessProbe", DELETE)),
    case("gcp", "RL-03", ("serving", f"{MAIN}.livenessProbe", DELETE)),
    case("gcp", "RL-03", ("serving", f"{MAIN}.startupProbe", DELETE)),
    case("gcp", "RL-03", ("serving", f"{MAIN}.readinessProbe.httpGet.path", "/healthz")),
    case("gcp", "RL-03", ("serving", f"{MAIN}.readinessProbe.httpGet.port", 8500)),
    case("gcp", "RL-04", ("serving", "spec.strategy.type", "Recreate")),
    case("gcp", "RL-04", ("serving", "spec.strategy.rollingUpdate.maxUnavailable", 1)),
    case("gcp", "RL-04", ("serving", "spec.strategy.rollingUpdate.maxUnavailable", "25%")),
    case("gcp", "RL-04", ("serving", "spec.strategy.rollingUpdate.maxUnavailable", DELETE)),
    case("gcp", "RL-04", ("serving", "spec.strategy.rollingUpdate.maxSurge", 0)),
    case("gcp", "RL-04", ("serving", f"{POD}.terminationGracePeriodSeconds", DELETE)),
    case("gcp", "RL-05", ("train", "spec.podFailurePolicy", DELETE)),
    case("gcp", "RL-05", ("train", "spec.podFailurePolicy.rules[0].action", "FailJob")),
    case("gcp", "RL-05", ("train", "spec.podFailurePolicy.rules[0].onPodConditions[0].type", "Ready")),
    case("gcp", "RL-05", ("train", f"{POD}.restartPolicy", "OnFailure")),
    case("gcp", "RL-05", ("train", "spec.backoffLimit", DELETE)),
    case("gcp", "RL-05", ("train", "spec.backoffLimit", 100)),
    case("gcp", "RL-06", ("train", "spec.ttlSecondsAfterFinished", DELETE)),
    case("gcp", "RL-06", ("train", "spec.activeDeadlineSeconds", DELETE)),
    case("azure", "RL-06", ("train", "spec.activeDeadlineSeconds", 0)),
    case("aws", "RL-06", ("train", "spec.activeDeadlineSeconds", -60)),
    case("gcp", "RL-06", ("train", "spec.activeDeadlineSeconds", "forever")),
    case("gcp", "RL-06", ("train", f"{POD}.nodeSelector", DELETE)),
    case("gcp", "RL-06", ("train", f"{POD}.nodeSelector", {"gpu-platform/pool": "nope"})),
    case("gcp", "RL-06", ("train", f"{POD}.tolerations", [])),
    case("azure", "RL-06", ("train", f"{POD}.tolerations[1]", {"key": "other", "operator": "Exists"})),
    case("gcp", "RL-07", ("train", f"{MAIN}.env", DELETE)),
    case("gcp", "RL-07", ("train", f"{MAIN}.env[0].value", "gs://someone-elses-bucket/ckpt")),
    case("gcp", "RL-07", ("bucket", "versioning.enabled", False), on="train"),
    case("azure", "RL-07", ("train", f"{MAIN}.env[0].value", "az://other/ckpt")),
    case("azure", "RL-07", ("account-blob", "isVersioningEnabled", False), on="train"),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
