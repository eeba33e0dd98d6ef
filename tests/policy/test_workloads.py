"""WL-01..WL-09: the restricted pod profile on every container (init containers included), resources,
pinned images and namespace hygiene, on the training Job and the serving Deployment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, assert_breaks, case

POD = "spec.template.spec"
MAIN = f"{POD}.containers[0]"
INIT = f"{POD}.initContainers[0]"
SECRET_ENV = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


def _gpu_in_requests_only(resources: dict[str, Any]) -> dict[str, Any]:
    limits = {k: v for k, v in resources["limits"].items() if k != "nvidia.com/gpu"}
    return {"requests": {**resources["requests"], "nvidia.com/gpu": 1}, "limits": limits}


MUTATIONS = [
    case("gcp", "WL-01", ("train", f"{POD}.securityContext.runAsNonRoot", False)),
    case("gcp", "WL-01", ("train", f"{POD}.securityContext.runAsNonRoot", DELETE)),
    case("gcp", "WL-01", ("train", f"{POD}.securityContext.runAsUser", 0)),
    case("gcp", "WL-01", ("train", f"{MAIN}.securityContext.runAsNonRoot", False)),
    case("gcp", "WL-01", ("serving", f"{INIT}.securityContext.runAsUser", 0)),
    case("gcp", "WL-02", ("train", f"{MAIN}.securityContext.allowPrivilegeEscalation", True)),
    case("gcp", "WL-02", ("train", f"{MAIN}.securityContext.allowPrivilegeEscalation", DELETE)),
    case("gcp", "WL-02", ("serving", f"{INIT}.securityContext.allowPrivilegeEscalation", DELETE)),
    case("gcp", "WL-03", ("train", f"{MAIN}.securityContext.capabilities.drop", ["NET_RAW"])),
    case("gcp", "WL-03", ("train", f"{MAIN}.securityContext.capabilities", DELETE)),
    case("gcp", "WL-03", ("serving", f"{MAIN}.securityContext.capabilities.add", ["SYS_ADMIN"])),
    case("gcp", "WL-03", ("train", f"{INIT}.securityContext.capabilities", DELETE)),
    case("gcp", "WL-04", ("train", f"{POD}.securityContext.seccompProfile", DELETE)),
    case("gcp", "WL-04", ("train", f"{POD}.securityContext.seccompProfile.type", "Unconfined")),
    case("gcp", "WL-04", ("serving", f"{MAIN}.securityContext.seccompProfile", {"type": "Unconfined"})),
    case("gcp", "WL-05", ("train", f"{POD}.hostNetwork", True)),
    case("gcp", "WL-05", ("train", f"{POD}.hostPID", True)),
    case("gcp", "WL-05", ("serving", f"{POD}.hostIPC", True)),
    case("gcp", "WL-05", ("serving", f"{MAIN}.securityContext.privileged", True)),
    case("gcp", "WL-05", ("serving", f"{INIT}.ports", [{"containerPort": 80, "hostPort": 80}])),
    case("gcp", "WL-05", ("train", f"{POD}.volumes[0]", {"name": "tmp", "hostPath": {"path": "/tmp"}})),
    case(
        "gcp", "WL-05", ("train", f"{POD}.volumes[0]", {"name": "tmp", "gcePersistentDisk": {"pdName": "d"}})
    ),
    case("gcp", "WL-06", ("train", f"{MAIN}.securityContext.readOnlyRootFilesystem", False)),
    case("gcp", "WL-06", ("train", f"{MAIN}.securityContext.readOnlyRootFilesystem", DELETE)),
    case("gcp", "WL-06", ("serving", f"{INIT}.securityContext.readOnlyRootFilesystem", False)),
    case("gcp", "WL-06", ("serving", f"{MAIN}.volumeMounts", DELETE)),
    case("gcp", "WL-06", ("train", f"{POD}.volumes[0]", {"name": "tmp", "configMap": {"name": "c"}})),
    case("gcp", "WL-07", ("train", f"{MAIN}.resources.requests.cpu", DELETE)),
    case("gcp", "WL-07", ("train", f"{MAIN}.resources.requests.memory", DELETE)),
    case("gcp", "WL-07", ("serving", f"{MAIN}.resources.limits.cpu", DELETE)),
    case("gcp", "WL-07", ("serving", f"{MAIN}.resources.limits.memory", DELETE)),
    case("gcp", "WL-07", ("serving", f"{INIT}.resources", DELETE)),
    case("gcp", "WL-07", ("train", f"{MAIN}.resources", _gpu_in_requests_only)),
    case("gcp", "WL-07", ("train", f"{POD}.tolerations", DELETE)),
    case("gcp", "WL-08", ("train", f"{MAIN}.image", "us-central1-docker.pkg.dev/acme-dev/ml/trainer:latest")),
    case("gcp", "WL-08", ("train", f"{INIT}.image", "busybox:1.36")),
    case("gcp", "WL-08", ("serving", f"{MAIN}.image", "tensorflow/serving:2.19.0")),
    case("gcp", "WL-09", ("train", "metadata.namespace", "default")),
    case("gcp", "WL-09", ("train", "metadata.namespace", DELETE)),
    case("gcp", "WL-09", ("serving-pdb", "metadata.namespace", DELETE)),
    case("gcp", "WL-09", ("ns", "metadata.labels", DELETE)),
    case("gcp", "WL-09", ("ns", "metadata.labels", {"pod-security.kubernetes.io/enforce": "baseline"})),
    case("gcp", "WL-09", ("train", f"{MAIN}.env", SECRET_ENV)),
    case("gcp", "WL-09", ("serving", f"{INIT}.envFrom", [{"secretRef": {"name": "s"}}])),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
