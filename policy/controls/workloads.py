"""Pod security controls (WL-01..WL-06), the Pod Security Standards' restricted profile checked on every
container of every workload kind, init containers included.

Node agents (DaemonSets such as the NVIDIA device plugin, and anything in kube-system) may need the host:
for them running as root, host paths and a writable root filesystem are advisory findings rather than
failures; everything else still holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import k8s
from policy.model.control import Advisory, control, resource_rule
from policy.model.k8s import Container
from policy.model.props import Props, as_list, equals, explicitly_true, get, is_false, is_true, number

NODE_AGENT = "a node agent (a DaemonSet, or in kube-system), outside the PSS-restricted workload namespace"
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
ALLOWED_CAPABILITIES = ("NET_BIND_SERVICE",)
PSS_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
"""Volume types the restricted profile allows (kubernetes.io/docs/concepts/security/
pod-security-standards)."""

WL01 = control("WL-01", "Non-root", "Every container runs with runAsNonRoot and a non-zero user.")
WL02 = control("WL-02", "No privilege escalation", "Every container sets allowPrivilegeEscalation false.")
WL03 = control(
    "WL-03",
    "Drop all capabilities",
    "Every container drops ALL capabilities and adds back at most NET_BIND_SERVICE.",
)
WL04 = control(
    "WL-04",
    "Seccomp",
    "Every container runs under the RuntimeDefault (or a Localhost) seccomp profile.",
)
WL05 = control(
    "WL-05",
    "No host access",
    "No privileged containers, host namespaces, host ports or host paths; only the volume types the "
    "restricted profile allows.",
)
WL06 = control(
    "WL-06",
    "Read-only root filesystem",
    "Every container has a read-only root filesystem and an emptyDir mounted at /tmp.",
)
WORKLOADS = k8s.WORKLOAD_TYPES


def _effective(container: Container, pod: Mapping[str, Any], key: str) -> Any:
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    value = container.security(key)
    return value if value is not None else get(pod, f"securityContext.{key}")


def _agent_aware(type_: str, props: Props, message: str) -> str:
    return Advisory(message, NODE_AGENT) if k8s.is_node_agent(type_, props) else message


@resource_rule(WL01, *WORKLOADS)
def non_root(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    for c in k8s.containers(pod):
        if not is_true(_effective(c, pod, "runAsNonRoot")):
            yield _agent_aware(type_, props, f"{c} must run with runAsNonRoot: true (pod or container)")
        if number(_effective(c, pod, "runAsUser")) == 0:
            yield _agent_aware(type_, props, f"{c} must not run as user 0")


@resource_rule(WL02, *WORKLOADS)
def no_escalation(type_: str, props: Props) -> Iterator[str]:
    for c in k8s.containers(k8s.pod_spec(type_, props) or {}):
        if c.security("allowPrivilegeEscalation") is None or not is_false(
            c.security("allowPrivilegeEscalation")
        ):
            yield f"{c} must set securityContext.allowPrivilegeEscalation: false"


@resource_rule(WL03, *WORKLOADS)
def drop_all(type_: str, props: Props) -> Iterator[str]:
    for c in k8s.containers(k8s.pod_spec(type_, props) or {}):
        if "ALL" not in as_list(c.security("capabilities.drop")):
            yield f"{c} must drop ALL capabilities"
        extra = [a for a in as_list(c.security("capabilities.add")) if a not in ALLOWED_CAPABILITIES]
        if extra:
            yield f"{c} must not add capabilities {', '.join(map(str, extra))}"


@resource_rule(WL04, *WORKLOADS)
def seccomp(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    for c in k8s.containers(pod):
        profile = _effective(c, pod, "seccompProfile")
        if not equals(get(profile, "type"), *SECCOMP_TYPES):
            yield f"{c} needs seccompProfile.type RuntimeDefault or Localhost (pod or container)"


def _volume_problems(type_: str, props: Props, pod: Mapping[str, Any]) -> Iterator[str]:
    for volume in as_list(pod.get("volumes")):
        kinds = set(volume) - {"name"}
        if "hostPath" in kinds:
            yield _agent_aware(type_, props, f"volume '{volume.get('name')}' must not be a hostPath")
        elif kinds - PSS_VOLUMES:
            kind = ", ".join(sorted(kinds))
            yield f"volume '{volume.get('name')}' is a {kind}; PSS restricted does not allow it"


@resource_rule(WL05, *WORKLOADS)
def no_host_access(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if explicitly_true(pod.get(key)):
            yield f"{key} must not be true"
    for c in k8s.containers(pod):
        if explicitly_true(c.security("privileged")):
            yield f"{c} must not be privileged"
        for port in as_list(c.spec.get("ports")):
            if number(port.get("hostPort")):
                yield f"{c} must not use hostPort {port.get('hostPort')}"
    yield from _volume_problems(type_, props, pod)


@resource_rule(WL06, *WORKLOADS)
def read_only_root(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    empty_dirs = {v.get("name") for v in as_list(pod.get("volumes")) if "emptyDir" in v}
    for c in k8s.containers(pod):
        if not is_true(c.security("readOnlyRootFilesystem")):
            yield _agent_aware(type_, props, f"{c} must set securityContext.readOnlyRootFilesystem: true")
        tmp = [m for m in as_list(c.spec.get("volumeMounts")) if m.get("mountPath") == "/tmp"]
        if not any(m.get("name") in empty_dirs for m in tmp):
            yield _agent_aware(type_, props, f"{c} needs an emptyDir volume mounted at /tmp")
