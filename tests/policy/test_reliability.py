"""RL-01..RL-07: serving HA, disruption budget, probes and rollout; training Job preemption tolerance,
hygiene, scheduling onto its pool and checkpoints in a versioned bucket."""

from __future__ import annotations

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import Change, assert_breaks, case, delete_key, remove_resource, set_key

POD = "spec.template.spec"
MAIN = f"{POD}.containers[0]"
MUTATIONS = [
    case("gcp", "RL-01", set_key("serving-hpa", "spec.minReplicas", 1), on="serving"),
    case("gcp", "RL-01", delete_key("serving-hpa", "spec.minReplicas"), on="serving"),
    case(
        "gcp", "RL-01", remove_resource("serving-hpa"), set_key("serving", "spec.replicas", 1), on="serving"
    ),
    case("gcp", "RL-01", delete_key("serving", f"{POD}.topologySpreadConstraints")),
    case("gcp", "RL-01", set_key("serving", f"{POD}.nodeSelector", {"cloud.google.com/gke-spot": "true"})),
    case("gcp", "RL-01", set_key("serving", f"{POD}.nodeSelector", {"gpu-platform/pool": "train"})),
    case("gcp", "RL-02", set_key("serving-pdb", "spec.maxUnavailable", 0)),
    case("gcp", "RL-02", set_key("serving-pdb", "spec.maxUnavailable", "0%")),
    case("gcp", "RL-02", set_key("serving-pdb", "spec.maxUnavailable", "100%")),
    case("gcp", "RL-02", delete_key("serving-pdb", "spec.maxUnavailable")),
    case(
        "gcp",
        "RL-02",
        delete_key("serving-pdb", "spec.maxUnavailable"),
        set_key("serving-pdb", "spec.minAvailable", 2),
    ),
    case("gcp", "RL-02", set_key("serving-pdb", "spec.selector.matchLabels", {"app": "other"}), on="serving"),
    case("gcp", "RL-02", remove_resource("serving-pdb"), on="serving"),
    case("gcp", "RL-03", delete_key("serving", f"{MAIN}.readinessProbe")),
    case("gcp", "RL-03", delete_key("serving", f"{MAIN}.livenessProbe")),
    case("gcp", "RL-03", delete_key("serving", f"{MAIN}.startupProbe")),
    case("gcp", "RL-03", set_key("serving", f"{MAIN}.readinessProbe.httpGet.path", "/healthz")),
    case("gcp", "RL-03", set_key("serving", f"{MAIN}.readinessProbe.httpGet.port", 8500)),
    case("gcp", "RL-04", set_key("serving", "spec.strategy.type", "Recreate")),
    case("gcp", "RL-04", set_key("serving", "spec.strategy.rollingUpdate.maxUnavailable", 1)),
    case("gcp", "RL-04", set_key("serving", "spec.strategy.rollingUpdate.maxUnavailable", "25%")),
    case("gcp", "RL-04", delete_key("serving", "spec.strategy.rollingUpdate.maxUnavailable")),
    case("gcp", "RL-04", set_key("serving", "spec.strategy.rollingUpdate.maxSurge", 0)),
    case("gcp", "RL-04", delete_key("serving", f"{POD}.terminationGracePeriodSeconds")),
    case("gcp", "RL-05", delete_key("train", "spec.podFailurePolicy")),
    case("gcp", "RL-05", set_key("train", "spec.podFailurePolicy.rules[0].action", "FailJob")),
    case("gcp", "RL-05", set_key("train", "spec.podFailurePolicy.rules[0].onPodConditions[0].type", "Ready")),
    case("gcp", "RL-05", set_key("train", f"{POD}.restartPolicy", "OnFailure")),
    case("gcp", "RL-05", delete_key("train", "spec.backoffLimit")),
    case("gcp", "RL-05", set_key("train", "spec.backoffLimit", 100)),
    case("gcp", "RL-06", delete_key("train", "spec.ttlSecondsAfterFinished")),
    case("gcp", "RL-06", delete_key("train", "spec.activeDeadlineSeconds")),
    case("azure", "RL-06", set_key("train", "spec.activeDeadlineSeconds", 0)),
    case("aws", "RL-06", set_key("train", "spec.activeDeadlineSeconds", -60)),
    case("gcp", "RL-06", set_key("train", "spec.activeDeadlineSeconds", "forever")),
    case("gcp", "RL-06", delete_key("train", f"{POD}.nodeSelector")),
    case("gcp", "RL-06", set_key("train", f"{POD}.nodeSelector", {"gpu-platform/pool": "nope"})),
    case("gcp", "RL-06", set_key("train", f"{POD}.tolerations", [])),
    case("azure", "RL-06", set_key("train", f"{POD}.tolerations[1]", {"key": "other", "operator": "Exists"})),
    case("gcp", "RL-07", delete_key("train", f"{MAIN}.env")),
    case("gcp", "RL-07", set_key("train", f"{MAIN}.env[0].value", "gs://someone-elses-bucket/ckpt")),
    case("gcp", "RL-07", set_key("bucket", "versioning.enabled", False), on="train"),
    case("azure", "RL-07", set_key("train", f"{MAIN}.env[0].value", "az://other/ckpt")),
    case("azure", "RL-07", set_key("account-blob", "isVersioningEnabled", False), on="train"),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
