"""Workload controls beyond pod security: requests and limits with GPUs in limits (WL-07), images pinned by
digest from the stack's registry (WL-08), namespace hygiene (WL-09), and dedicated service accounts without
automounted tokens (ID-07)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policy.controls import registry
from policy.model import k8s
from policy.model.control import Advisory, control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, is_false, number, present, unknown
from policy.model.stack import Stack, Violation

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
UPSTREAM = "a vendor image pinned by digest; mirror it into the stack's registry to make this mandatory"
PSS_LABEL = "pod-security.kubernetes.io/enforce"
TOKENLESS_AGENT = "a node agent that mounts no service-account token"
API_CLIENT = "a node agent or kube-system controller, which may need the API (CONTROLS: unless needed)"
GRANTED_CLIENT = "an API client: the stack binds roles to its ServiceAccount (CONTROLS: unless needed)"
NODE_AGENT_NAMESPACE = "a namespace of node agents only, at the Pod Security level they need"

WL07 = control(
    "WL-07",
    "Requests and limits (GPUs in limits)",
    "Every container requests and limits CPU and memory; a container using GPUs limits nvidia.com/gpu and "
    "its pod tolerates the GPU taint.",
)
WL08 = control(
    "WL-08",
    "Images pinned by digest from the stack's registry",
    "Every image is pinned by sha256 digest and comes from a registry of the stack (vendor images from "
    "elsewhere are advisory findings).",
)
WL09 = control(
    "WL-09",
    "Namespace hygiene",
    "Nothing in the default namespace; namespaces enforce Pod Security restricted; secrets reach pods as "
    "volumes, not environment variables.",
)
ID07 = control(
    "ID-07",
    "Dedicated service account; no default",
    "Every workload names its own declared ServiceAccount (never default) and does not automount its token.",
)


def _gpu_tolerated(pod: Props) -> bool:
    return any(
        (t.get("key") == k8s.GPU_RESOURCE or (t.get("operator") == "Exists" and not t.get("key")))
        and t.get("effect") in (None, "NoSchedule")
        for t in as_list(pod.get("tolerations"))
    )


@resource_rule(WL07, *k8s.WORKLOAD_TYPES)
def resources(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    for c in k8s.containers(pod):
        if c.role == "ephemeral container":
            continue  # the API refuses resources on ephemeral containers
        for where in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if not present(get(c.spec, f"resources.{where}.{r}"))]
            if missing:
                yield f"{c} needs resources.{where} for {' and '.join(missing)}"
        if (
            k8s.gpu_count(c) > 0
            and (number(get(c.spec, "resources.limits", {}).get(k8s.GPU_RESOURCE)) or 0) < 1
        ):
            yield f"{c} uses GPUs; resources.limits[{k8s.GPU_RESOURCE}] must be at least 1"
    if k8s.uses_gpu(pod) and not _gpu_tolerated(pod):
        yield f"the pod uses GPUs but has no toleration for the {k8s.GPU_RESOURCE} NoSchedule taint"


@resource_rule(WL08, *k8s.WORKLOAD_TYPES)
def pinned(type_: str, props: Props) -> Iterator[str]:
    for c in k8s.containers(k8s.pod_spec(type_, props) or {}):
        image = c.spec.get("image")
        if not unknown(image) and not DIGEST.search(str(image or "")):
            yield f"{c} image {image!r} must be pinned by digest (...@sha256:<64 hex>)"


@stack_rule(WL08)
def own_registry(stack: Stack) -> list[Violation]:
    found = []
    for res, pod in k8s.workloads(stack):
        hosts = registry.hosts(stack, res.cloud)
        for c in k8s.containers(pod):
            image = str(c.spec.get("image") or "")
            if unknown(image) or any(h in image for h in hosts):
                continue
            found.append(
                res.violation(WL08, f"{c} image {image} is not from this stack's registry", UPSTREAM)
            )
    return found


def _secret_env(pod: Props) -> Iterator[str]:
    for c in k8s.containers(pod):
        for env in as_list(c.spec.get("env")):
            if present(get(env, "valueFrom.secretKeyRef")):
                yield f"{c} env {env.get('name')} reads a secret; mount it as a volume instead"
        for source in as_list(c.spec.get("envFrom")):
            if present(source.get("secretRef")):
                yield f"{c} envFrom reads a whole secret; mount it as a volume instead"


def _namespaced_object(type_: str) -> bool:
    return k8s.is_object(type_) and k8s.kind_of(type_).lower() not in k8s.CLUSTER_SCOPED


@resource_rule(WL09, match=k8s.is_object)
def namespace_hygiene(type_: str, props: Props) -> Iterator[str]:
    if _namespaced_object(type_) and k8s.namespace(props) in (None, "default"):
        yield "metadata.namespace must name the workload namespace, not default"
    pod = k8s.pod_spec(type_, props)
    if pod is not None:
        yield from _secret_env(pod)


def _only_node_agents(stack: Stack, cloud: str | None, name: str) -> bool:
    kinds = [
        res.kind for res, _ in k8s.workloads(stack) if res.cloud == cloud and k8s.namespace(res.props) == name
    ]
    return bool(kinds) and all(kind == "kubernetes:apps/v1:daemonset" for kind in kinds)


@stack_rule(WL09)
def namespaces_restricted(stack: Stack) -> list[Violation]:
    """Namespaces enforce PSS restricted; one that holds node agents only (DaemonSets that need the host)
    may declare the level they need, which then advises instead of failing."""
    found = []
    for ns in stack.of(k8s.NAMESPACE):
        name = k8s.object_name(ns.props, ns.name)
        level = get(ns.props, "metadata.labels", {}).get(PSS_LABEL)
        if name in k8s.SYSTEM_NAMESPACES or level == "restricted" or unknown(level):
            continue
        advisory = NODE_AGENT_NAMESPACE if level and _only_node_agents(stack, ns.cloud, name) else None
        found.append(ns.violation(WL09, f"the namespace needs the label {PSS_LABEL}: restricted", advisory))
    return found


@resource_rule(ID07, *k8s.WORKLOAD_TYPES)
def dedicated_account(type_: str, props: Props) -> Iterator[str]:
    pod = k8s.pod_spec(type_, props) or {}
    account = pod.get("serviceAccountName")
    if not present(account) or account == "default":
        message = "serviceAccountName must name a dedicated ServiceAccount, not default"
        # A node agent alone in its namespace that mounts no token gains nothing from an account of its own.
        tokenless = is_false(pod.get("automountServiceAccountToken")) and not unknown(
            pod.get("automountServiceAccountToken")
        )
        agent = k8s.is_node_agent(type_, props) and tokenless
        yield Advisory(message, TOKENLESS_AGENT) if agent else message


def _automount(pod: Props, account: Props) -> Any:
    """The pod's setting wins over its ServiceAccount's; unset on both means the token is mounted."""
    value = pod.get("automountServiceAccountToken")
    return value if value is not None else account.get("automountServiceAccountToken", True)


@stack_rule(ID07)
def accounts_declared(stack: Stack) -> list[Violation]:
    found = []
    for res, pod in k8s.workloads(stack):
        name = pod.get("serviceAccountName")
        if not present(name) or name == "default" or unknown(name):
            continue
        sa = k8s.service_accounts(stack, res.cloud).get((k8s.namespace(res.props), str(name)))
        if sa is None:
            found.append(res.violation(ID07, f"ServiceAccount {name} is not declared in its namespace"))
        elif not is_false(_automount(pod, sa.props)):
            advisory = API_CLIENT if k8s.is_node_agent(res.type, res.props) else None
            if advisory is None and k8s.is_bound(stack, res.cloud, k8s.namespace(res.props), str(name)):
                advisory = GRANTED_CLIENT
            message = "automountServiceAccountToken must be false (pod or ServiceAccount)"
            found.append(res.violation(ID07, message, advisory))
    return found
