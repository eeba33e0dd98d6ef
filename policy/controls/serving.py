"""Serving reliability (RL-01..RL-04) for every Deployment outside kube-system: enough replicas spread over
zones and not only on Spot, a disruption budget that allows drains, probes, and zero-downtime rollouts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import k8s, pools
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, number, present, unknown
from policy.model.stack import Resource, Stack, Violation

SPOT_SELECTORS = {
    "cloud.google.com/gke-spot": "true",
    "eks.amazonaws.com/capacityType": "SPOT",
    "karpenter.sh/capacity-type": "spot",
    "kubernetes.azure.com/scalesetpriority": "spot",
}
SERVING_PORT = 8501
MIN_REPLICAS = 2

RL01 = control(
    "RL-01",
    "Serving HA",
    "Each serving Deployment keeps at least 2 replicas (its HPA's minReplicas where one scales it), spreads "
    "them with topology spread or anti-affinity, and is not pinned only to Spot nodes.",
)
RL02 = control(
    "RL-02",
    "Serving PodDisruptionBudget",
    "A PodDisruptionBudget selects each serving Deployment's pods and allows at least one, never every, "
    "voluntary disruption.",
)
RL03 = control(
    "RL-03",
    "Serving probes",
    "Every serving container has readiness and liveness probes; TF Serving's (port 8501) is ready on "
    "/v1/models/<model> and has a startup probe for slow model loads.",
)
RL04 = control(
    "RL-04",
    "Zero-downtime rollout",
    "RollingUpdate with maxUnavailable 0 and maxSurge >= 1, and a termination grace period.",
)


def serving(stack: Stack) -> Iterator[tuple[Resource, Mapping[str, Any]]]:
    for res, pod in k8s.workloads(stack, k8s.DEPLOYMENT):
        if not k8s.is_system(res.props):
            yield res, pod


def min_replicas(stack: Stack, deployment: Resource) -> float | None:
    """The replicas a Deployment keeps at least: its HPA's minReplicas (default 1), else spec.replicas."""
    name = k8s.object_name(deployment.props, deployment.name)
    for hpa in stack.of(k8s.HPA, "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"):
        target = get(hpa.props, "spec.scaleTargetRef", {})
        same_ns = k8s.namespace(hpa.props) == k8s.namespace(deployment.props)
        if target.get("kind") == "Deployment" and target.get("name") == name and same_ns:
            return number(get(hpa.props, "spec.minReplicas", 1))
    replicas = get(deployment.props, "spec.replicas", 1)
    return None if unknown(replicas) else number(replicas)


def _spot_only(stack: Stack, res: Resource, pod: Mapping[str, Any]) -> bool:
    selector = pod.get("nodeSelector") or {}
    if any(selector.get(k) == v for k, v in SPOT_SELECTORS.items()):
        return True
    label = selector.get(pools.POOL_LABEL)
    targets = pools.by_label(stack).get((str(res.cloud), str(label)), []) if label else []
    return bool(targets) and all(p.spot for p in targets)


@stack_rule(RL01)
def highly_available(stack: Stack) -> list[Violation]:
    found = []
    for res, pod in serving(stack):
        replicas = min_replicas(stack, res)
        if replicas is not None and replicas < MIN_REPLICAS:
            found.append(
                res.violation(RL01, f"keeps {replicas:g} replica(s); serving needs at least {MIN_REPLICAS}")
            )
        if not as_list(pod.get("topologySpreadConstraints")) and not present(
            get(pod, "affinity.podAntiAffinity")
        ):
            found.append(res.violation(RL01, "needs topologySpreadConstraints or pod anti-affinity"))
        if _spot_only(stack, res, pod):
            found.append(res.violation(RL01, "is pinned to Spot nodes only"))
    return found


def _fraction(value: Any) -> float | None:
    """A PDB field as a share of the pods: "25%" is 0.25; integers are None (not a share)."""
    if isinstance(value, str) and value.endswith("%"):
        return (number(value[:-1]) or 0) / 100
    return None


@resource_rule(RL02, k8s.PDB)
def budget_values(_: str, props: Props) -> Iterator[str]:
    low, high = get(props, "spec.minAvailable"), get(props, "spec.maxUnavailable")
    if low is None and high is None:
        yield "spec needs minAvailable or maxUnavailable"
    if low is not None and (number(low) == 0 or _fraction(low) in (0.0, 1.0)):
        yield f"minAvailable {low} protects nothing or blocks every drain"
    if high is not None and (number(high) == 0 or _fraction(high) in (0.0, 1.0)):
        yield f"maxUnavailable {high} blocks every drain or protects nothing"


@stack_rule(RL02)
def budget_exists(stack: Stack) -> list[Violation]:
    found = []
    for res, _ in serving(stack):
        labels = k8s.pod_labels(res.type, res.props)
        budgets = [
            b
            for b in stack.of(k8s.PDB)
            if b.cloud == res.cloud
            and k8s.namespace(b.props) == k8s.namespace(res.props)
            and k8s.selector_matches(get(b.props, "spec.selector"), labels)
        ]
        if not budgets:
            found.append(res.violation(RL02, "no PodDisruptionBudget selects its pods"))
        replicas = min_replicas(stack, res)
        for b in budgets:
            low = number(get(b.props, "spec.minAvailable"))
            if low is not None and replicas is not None and low >= replicas:
                found.append(
                    b.violation(RL02, f"minAvailable {low:g} >= {replicas:g} replicas blocks every drain")
                )
    return found


def _port_number(container: Mapping[str, Any], port: Any) -> float | None:
    if isinstance(port, str) and not port.isdigit():
        named = [p for p in as_list(container.get("ports")) if p.get("name") == port]
        return number(named[0].get("containerPort")) if named else None
    return number(port)


def _tf_serving_probes(c: k8s.Container) -> Iterator[str]:
    path = str(get(c.spec, "readinessProbe.httpGet.path") or "")
    port = _port_number(c.spec, get(c.spec, "readinessProbe.httpGet.port"))
    if not path.startswith("/v1/models/") or port != SERVING_PORT:
        yield f"{c} readinessProbe must GET /v1/models/<model> on port {SERVING_PORT}"
    if not present(c.spec.get("startupProbe")):
        yield f"{c} needs a startupProbe (model loads are slow)"


@resource_rule(RL03, k8s.DEPLOYMENT)
def probes(type_: str, props: Props) -> Iterator[str]:
    if k8s.is_system(props):
        return
    for c in k8s.containers(k8s.pod_spec(type_, props) or {}):
        if c.role != "container":
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            if not present(c.spec.get(probe)):
                yield f"{c} needs a {probe}"
        if any(number(p.get("containerPort")) == SERVING_PORT for p in as_list(c.spec.get("ports"))):
            yield from _tf_serving_probes(c)


@resource_rule(RL04, k8s.DEPLOYMENT)
def rollout(type_: str, props: Props) -> Iterator[str]:
    if k8s.is_system(props):
        return
    strategy = get(props, "spec.strategy", {})
    if strategy.get("type") != "RollingUpdate":
        yield 'spec.strategy.type must be "RollingUpdate"'
    unavailable, surge = (
        get(strategy, "rollingUpdate.maxUnavailable"),
        get(strategy, "rollingUpdate.maxSurge"),
    )
    if not (number(unavailable) == 0 or _fraction(unavailable) == 0.0):
        yield "spec.strategy.rollingUpdate.maxUnavailable must be 0"
    if not ((number(surge) or 0) >= 1 or (_fraction(surge) or 0) > 0):
        yield "spec.strategy.rollingUpdate.maxSurge must be at least 1"
    if not present(get(props, "spec.template.spec.terminationGracePeriodSeconds")):
        yield "spec.template.spec.terminationGracePeriodSeconds must be set"
