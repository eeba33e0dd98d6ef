"""WL-01..WL-09: the restricted pod profile on every container (init containers included), resources,
pinned images and namespace hygiene, on the training Job and the serving Deployment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import Change, assert_breaks, case, delete_key, set_key, update_key

POD = "spec.template.spec"
MAIN = f"{POD}.containers[0]"
INIT = f"{POD}.initContainers[0]"
SECRET_ENV = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


def _gpu_in_requests_only(resources: dict[str, Any]) -> dict[str, Any]:
    limits = {k: v for k, v in resources["limits"].items() if k != "nvidia.com/gpu"}
    return {"requests": {**resources["requests"], "nvidia.com/gpu": 1}, "limits": limits}


MUTATIONS = [
    case("gcp", "WL-01", set_key("train", f"{POD}.securityContext.runAsNonRoot", False)),
    case("gcp", "WL-01", delete_key("train", f"{POD}.securityContext.runAsNonRoot")),
    case("gcp", "WL-01", set_key("train", f"{POD}.securityContext.runAsUser", 0)),
    case("gcp", "WL-01", set_key("train", f"{MAIN}.securityContext.runAsNonRoot", False)),
    case("gcp", "WL-01", set_key("serving", f"{INIT}.securityContext.runAsUser", 0)),
    case("gcp", "WL-02", set_key("train", f"{MAIN}.securityContext.allowPrivilegeEscalation", True)),
    case("gcp", "WL-02", delete_key("train", f"{MAIN}.securityContext.allowPrivilegeEscalation")),
    case("gcp", "WL-02", delete_key("serving", f"{INIT}.securityContext.allowPrivilegeEscalation")),
    case("gcp", "WL-03", set_key("train", f"{MAIN}.securityContext.capabilities.drop", ["NET_RAW"])),
    case("gcp", "WL-03", delete_key("train", f"{MAIN}.securityContext.capabilities")),
    case("gcp", "WL-03", set_key("serving", f"{MAIN}.securityContext.capabilities.add", ["SYS_ADMIN"])),
    case("gcp", "WL-03", delete_key("train", f"{INIT}.securityContext.capabilities")),
    case("gcp", "WL-04", delete_key("train", f"{POD}.securityContext.seccompProfile")),
    case("gcp", "WL-04", set_key("train", f"{POD}.securityContext.seccompProfile.type", "Unconfined")),
    case(
        "gcp", "WL-04", set_key("serving", f"{MAIN}.securityContext.seccompProfile", {"type": "Unconfined"})
    ),
    case("gcp", "WL-05", set_key("train", f"{POD}.hostNetwork", True)),
    case("gcp", "WL-05", set_key("train", f"{POD}.hostPID", True)),
    case("gcp", "WL-05", set_key("serving", f"{POD}.hostIPC", True)),
    case("gcp", "WL-05", set_key("serving", f"{MAIN}.securityContext.privileged", True)),
    case("gcp", "WL-05", set_key("serving", f"{INIT}.ports", [{"containerPort": 80, "hostPort": 80}])),
    case(
        "gcp", "WL-05", set_key("train", f"{POD}.volumes[0]", {"name": "tmp", "hostPath": {"path": "/tmp"}})
    ),
    case(
        "gcp",
        "WL-05",
        set_key("train", f"{POD}.volumes[0]", {"name": "tmp", "gcePersistentDisk": {"pdName": "d"}}),
    ),
    case("gcp", "WL-06", set_key("train", f"{MAIN}.securityContext.readOnlyRootFilesystem", False)),
    case("gcp", "WL-06", delete_key("train", f"{MAIN}.securityContext.readOnlyRootFilesystem")),
    case("gcp", "WL-06", set_key("serving", f"{INIT}.securityContext.readOnlyRootFilesystem", False)),
    case("gcp", "WL-06", delete_key("serving", f"{MAIN}.volumeMounts")),
    case("gcp", "WL-06", set_key("train", f"{POD}.volumes[0]", {"name": "tmp", "configMap": {"name": "c"}})),
    case("gcp", "WL-07", delete_key("train", f"{MAIN}.resources.requests.cpu")),
    case("gcp", "WL-07", delete_key("train", f"{MAIN}.resources.requests.memory")),
    case("gcp", "WL-07", delete_key("serving", f"{MAIN}.resources.limits.cpu")),
    case("gcp", "WL-07", delete_key("serving", f"{MAIN}.resources.limits.memory")),
    case("gcp", "WL-07", delete_key("serving", f"{INIT}.resources")),
    case("gcp", "WL-07", update_key("train", f"{MAIN}.resources", _gpu_in_requests_only)),
    case("gcp", "WL-07", delete_key("train", f"{POD}.tolerations")),
    case(
        "gcp",
        "WL-08",
        set_key("train", f"{MAIN}.image", "us-central1-docker.pkg.dev/acme-dev/ml/trainer:latest"),
    ),
    case("gcp", "WL-08", set_key("train", f"{INIT}.image", "busybox:1.36")),
    case("gcp", "WL-08", set_key("serving", f"{MAIN}.image", "tensorflow/serving:2.19.0")),
    case("gcp", "WL-09", set_key("train", "metadata.namespace", "default")),
    case("gcp", "WL-09", delete_key("train", "metadata.namespace")),
    case("gcp", "WL-09", delete_key("serving-pdb", "metadata.namespace")),
    case("gcp", "WL-09", delete_key("ns", "metadata.labels")),
    case(
        "gcp", "WL-09", set_key("ns", "metadata.labels", {"pod-security.kubernetes.io/enforce": "baseline"})
    ),
    case("gcp", "WL-09", set_key("train", f"{MAIN}.env", SECRET_ENV)),
    case("gcp", "WL-09", set_key("serving", f"{INIT}.envFrom", [{"secretRef": {"name": "s"}}])),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
