"""WL-01 to WL-08 on every pod template of the workload namespace (the training Job and the replicator
CronJob where they run, the Deployment and its sidecar), on every cloud in the plans and on the contract
doubles; WL-08 on every image, the device plugin's included."""

from __future__ import annotations

import re
from typing import Any

from plan.runner import Plan
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import Cluster, containers
from tests.plans import planned

PSS_VOLUMES = {
    "emptyDir",
    "configMap",
    "secret",
    "projected",
    "downwardAPI",
    "persistentVolumeClaim",
    "ephemeral",
}
HOST_FIELDS = ("hostNetwork", "hostPID", "hostIPC")


def pod_containers(cluster: Cluster) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (obj["metadata"]["name"], pod, c) for _, obj, pod in cluster.workload_pods() for c in containers(pod)
    ]


def test_wl01_non_root(any_cluster: Cluster) -> None:
    for name, pod, container in pod_containers(any_cluster):
        context = {**pod["securityContext"], **container.get("securityContext", {})}
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] != 0, name


def test_wl02_wl03_no_escalation_and_no_capabilities(any_cluster: Cluster) -> None:
    for name, _, container in pod_containers(any_cluster):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert "ALL" in context["capabilities"]["drop"], name
        assert set(context["capabilities"].get("add", [])) <= {"NET_BIND_SERVICE"}, name


def test_wl04_runtime_default_seccomp(any_cluster: Cluster) -> None:
    for _, obj, pod in any_cluster.workload_pods():
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", obj["metadata"]["name"]


def test_wl05_no_host_access(any_cluster: Cluster) -> None:
    for _, obj, pod in any_cluster.workload_pods():
        assert not any(pod.get(f) for f in HOST_FIELDS), obj["metadata"]["name"]
        for volume in pod["volumes"]:
            assert set(volume) - {"name"} <= PSS_VOLUMES, volume
        for container in containers(pod):
            assert not container["securityContext"].get("privileged"), container["name"]
            assert all("hostPort" not in p for p in container.get("ports", [])), container["name"]


def test_wl06_read_only_root_with_tmp(any_cluster: Cluster) -> None:
    for name, pod, container in pod_containers(any_cluster):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], name


def test_wl07_requests_limits_and_gpus(any_cluster: Cluster) -> None:
    for name, pod, container in pod_containers(any_cluster):
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), name
        gpus = int(resources["limits"].get("nvidia.com/gpu", 0))
        if gpus:
            tolerated = {t["key"] for t in pod["tolerations"] if t.get("effect") == "NoSchedule"}
            assert "nvidia.com/gpu" in tolerated, name


def test_wl07_gpus_where_the_pools_have_them(any_cluster: Cluster) -> None:
    cfg = any_cluster.cfg
    for kind, _, pod in any_cluster.workload_pods():
        (main,) = pod["containers"]
        gpus = int(main["resources"]["limits"].get("nvidia.com/gpu", 0))
        if kind == "Job":
            assert gpus == cfg.training.gpus_per_worker
        elif kind == "CronJob":
            assert gpus == 0  # the replicator only copies files
        else:
            assert gpus == (1 if cfg.pool(cfg.serving.pool) else 0)


def registry_host(plan: Plan, cloud: str | None) -> str:
    return str(plan.outputs["clouds"][cloud]["registry"]).split("/", 1)[0]


def assert_pinned_in(cluster: Cluster, host: str) -> None:
    pinned = re.compile(rf"^{re.escape(host)}/[^@]+@sha256:[0-9a-f]{{64}}$")
    images = [c["image"] for _, _, pod in cluster.pods() for c in containers(pod)]
    assert images
    assert all(pinned.match(image) for image in images), images


def test_wl08_every_image_is_pinned_in_the_stack_registry(cluster: Cluster) -> None:
    assert_pinned_in(cluster, registry_host(planned(cluster.stack), cluster.cloud))


def test_wl08_on_the_doubles_too(double: doubles.Built) -> None:
    assert_pinned_in(double.cluster, double.double.host)


def test_every_group_id_is_set(any_cluster: Cluster) -> None:
    """Admission that enforces the restricted profile by rule (Azure Policy's approved user and group
    IDs, `supplementalGroupsRule: MustRunAs`) refuses a pod that leaves a group id unset."""
    for _, _, pod in any_cluster.workload_pods():
        context = pod["securityContext"]
        uid = context["runAsUser"]
        assert (context["runAsGroup"], context["fsGroup"], context["supplementalGroups"]) == (uid, uid, [uid])
        assert 1 <= uid <= 65535
