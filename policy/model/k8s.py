"""Kubernetes objects as the rules see them: where the pod spec sits in each workload kind, every container
(init and ephemeral ones included), namespaces, tolerations and label selectors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy.model.props import Props, as_list, canonical, get, unknown
from policy.model.stack import Resource, Stack

POD_SPEC_PATHS = {
    "kubernetes:core/v1:pod": "spec",
    "kubernetes:apps/v1:deployment": "spec.template.spec",
    "kubernetes:apps/v1:statefulset": "spec.template.spec",
    "kubernetes:apps/v1:daemonset": "spec.template.spec",
    "kubernetes:apps/v1:replicaset": "spec.template.spec",
    "kubernetes:batch/v1:job": "spec.template.spec",
    "kubernetes:batch/v1:cronjob": "spec.jobTemplate.spec.template.spec",
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SYSTEM_NAMESPACES = frozenset({"kube-system"})
"""Where node agents that need the host (the NVIDIA device plugin) run, outside the PSS-restricted
workload namespace."""
GPU_RESOURCE = "nvidia.com/gpu"
NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize/")
"""Components, not Kubernetes objects: their rendered objects are invisible on inputs (see README)."""
CLUSTER_SCOPED = frozenset(
    {
        "namespace",
        "clusterrole",
        "clusterrolebinding",
        "priorityclass",
        "storageclass",
        "customresourcedefinition",
        "persistentvolume",
        "runtimeclass",
        "validatingwebhookconfiguration",
        "mutatingwebhookconfiguration",
        "validatingadmissionpolicy",
        "validatingadmissionpolicybinding",
        "apiservice",
        "csidriver",
        "ingressclass",
        # Kueue's cluster-scoped kinds (kueue.x-k8s.io).
        "clusterqueue",
        "resourceflavor",
        "cohort",
        "admissioncheck",
        "multikueueconfig",
        "multikueuecluster",
        "workloadpriorityclass",
        "topology",
        # The gateway's: the Gateway API's class and cert-manager's cluster-wide issuer.
        "gatewayclass",
        "clusterissuer",
    }
)
ROLE_BINDINGS = (
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)


@dataclass(frozen=True)
class Container:
    role: str
    """"container", "init container" or "ephemeral container", for messages."""
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "?")

    def __str__(self) -> str:
        return f"{self.role} '{self.name}'"

    def security(self, key: str) -> Any:
        return get(self.spec, f"securityContext.{key}")


def is_object(type_: str) -> bool:
    token = canonical(type_)
    # `*Patch` resources change part of an object someone else owns; `*List` wraps objects.
    partial = token.endswith(("patch", "list"))
    return token.startswith("kubernetes:") and not token.startswith(NOT_OBJECTS) and not partial


def kind_of(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def pod_spec(type_: str, props: Props) -> Mapping[str, Any] | None:
    path = POD_SPEC_PATHS.get(canonical(type_))
    spec = get(props, path) if path else None
    return spec if isinstance(spec, Mapping) else None


def pod_labels(type_: str, props: Props) -> Mapping[str, Any]:
    path = POD_SPEC_PATHS.get(canonical(type_), "")
    meta = "metadata" if path == "spec" else path.removesuffix(".spec") + ".metadata"
    labels = get(props, f"{meta}.labels", {})
    return labels if isinstance(labels, Mapping) else {}


def containers(spec: Mapping[str, Any]) -> Iterator[Container]:
    for key, role in (
        ("initContainers", "init container"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral container"),
    ):
        for c in as_list(spec.get(key)):
            if isinstance(c, Mapping):
                yield Container(role, c)


def namespace(props: Props) -> str | None:
    value = get(props, "metadata.namespace")
    return str(value) if value is not None else None


def is_system(props: Props) -> bool:
    return namespace(props) in SYSTEM_NAMESPACES


def is_node_agent(type_: str, props: Props) -> bool:
    """A DaemonSet (one pod per node: the device plugin, log and metric agents) or anything in kube-system:
    software that serves the nodes and the cluster rather than being a workload."""
    return canonical(type_) == "kubernetes:apps/v1:daemonset" or is_system(props)


def object_name(props: Props, fallback: str) -> str:
    value = get(props, "metadata.name")
    return str(value) if isinstance(value, str) and not unknown(value) else fallback


def named(
    stack: Stack, type_: str, cloud: str | None, name: str, in_namespace: str | None = None
) -> Resource | None:
    """The object of `type_` the stack sends to `cloud`'s cluster by that name, in that namespace (None:
    cluster-scoped), if it declares one."""
    for res in stack.of(type_):
        if (
            res.cloud == cloud
            and object_name(res.props, res.name) == name
            and namespace(res.props) == in_namespace
        ):
            return res
    return None


def gpu_count(container: Container) -> float:
    """GPUs a container asks for (limits, else requests); 0 when none."""
    for where in ("limits", "requests"):
        value = get(container.spec, f"resources.{where}")
        if isinstance(value, Mapping) and value.get(GPU_RESOURCE) is not None:
            try:
                return float(value[GPU_RESOURCE])
            except (TypeError, ValueError):
                return 1.0
    return 0.0


def uses_gpu(spec: Mapping[str, Any]) -> bool:
    return any(gpu_count(c) > 0 for c in containers(spec))


def tolerates(tolerations: list[Any], key: str, value: str | None, effect: str) -> bool:
    """Whether any toleration matches the taint `key=value:effect` (Kubernetes' matching rules)."""
    for t in tolerations:
        if not isinstance(t, Mapping):
            continue
        operator = t.get("operator") or "Equal"
        key_ok = (operator == "Exists" and not t.get("key")) or t.get("key") == key
        value_ok = operator == "Exists" or (t.get("value") or "") == (value or "")
        effect_ok = not t.get("effect") or t.get("effect") == effect
        if key_ok and value_ok and effect_ok:
            return True
    return False


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A label selector's `matchLabels` (and simple `In`/`Exists` expressions) against pod labels."""
    if not isinstance(selector, Mapping):
        return False
    match = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expr in as_list(selector.get("matchExpressions")):
        op, key = expr.get("operator"), expr.get("key")
        if op == "In" and labels.get(key) not in as_list(expr.get("values")):
            return False
        if op == "Exists" and key not in labels:
            return False
    return bool(match) or bool(as_list(selector.get("matchExpressions")))


def service_accounts(stack: Stack, cloud: str | None) -> dict[tuple[str | None, str], Resource]:
    """The ServiceAccount objects declared on one cloud's cluster, by (namespace, name)."""
    return {
        (namespace(sa.props), object_name(sa.props, sa.name)): sa
        for sa in stack.of(SERVICE_ACCOUNT)
        if sa.cloud == cloud
    }


def workloads(stack: Stack, *types: str) -> Iterator[tuple[Resource, Mapping[str, Any]]]:
    """Each workload object (of `types`, default every kind) with its pod spec."""
    for res in stack.of(*(types or WORKLOAD_TYPES)):
        spec = pod_spec(res.type, res.props)
        if spec is not None:
            yield res, spec


def is_bound(stack: Stack, cloud: str | None, account_namespace: str | None, account: str) -> bool:
    """Whether a RoleBinding or ClusterRoleBinding of the stack grants ServiceAccount `namespace/account`
    a role: a workload that the stack lets call the API needs its token."""
    for binding in stack.of(*ROLE_BINDINGS):
        if binding.cloud != cloud:
            continue
        for subject in as_list(binding.props.get("subjects")):
            kind, name = subject.get("kind"), subject.get("name")
            ns = subject.get("namespace") or namespace(binding.props)
            if kind == "ServiceAccount" and name == account and ns == account_namespace:
                return True
    return False
