"""MultiKueue's access to other clusters (ID-10): short-lived tokens only, and RBAC that grants a foreign
identity no more than MultiKueue needs.

On the manager, every MultiKueueCluster reads its kubeconfig from a Secret of the stack (never a path on
the controller's disk, which would be a credential outside the plan), and that Secret is declared empty:
a token in the plan would be a static credential in the state. Something must then write those Secrets:
a Role of the same cluster that may patch exactly them, by name (the token refresher's).

On a worker, a binding to a `User` or `Group` is how the stack admits an identity from outside the
cluster (another cloud's refresher): the role it binds must grant no wildcard, no Secrets, and none of the
verbs that escalate (bind, escalate, impersonate); bound cluster-wide it may only read, so that it writes
only in the namespaces a RoleBinding names (never kube-system).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import k8s
from policy.model.control import control, stack_rule
from policy.model.props import as_list, get, unknown
from policy.model.stack import Resource, Stack, Violation

MULTIKUEUE_CLUSTER = "kubernetes:kueue.x-k8s.io/v1beta2:MultiKueueCluster"
SECRET = "kubernetes:core/v1:Secret"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
READ = frozenset({"get", "list", "watch"})
ESCALATING = frozenset({"bind", "escalate", "impersonate", "*"})
EXTERNAL = frozenset({"User", "Group"})

ID10 = control(
    "ID-10",
    "Other clusters reached with short-lived tokens only",
    "Each MultiKueue worker's kubeconfig is a Secret of the stack declared empty, which a Role may patch "
    "by name only (the token refresher writes short-lived tokens into it); an identity from outside a "
    "cluster (a User or Group subject) is bound to a role with no wildcard, no Secrets and no escalating "
    "verb, and cluster-wide to reading only.",
)


def _patchers(stack: Stack, cloud: str | None, namespace: str) -> dict[str, set[str]]:
    """Per Secret name in `namespace`, the verbs Roles there grant on it by name."""
    found: dict[str, set[str]] = {}
    for role in stack.of(ROLE):
        if role.cloud != cloud or k8s.namespace(role.props) != namespace:
            continue
        for rule in as_list(get(role.props, "rules")):
            if "secrets" in as_list(rule.get("resources")):
                for name in as_list(rule.get("resourceNames")):
                    found.setdefault(str(name), set()).update(str(v) for v in as_list(rule.get("verbs")))
    return found


def _cluster(stack: Stack, cluster: Resource) -> Iterator[str]:
    source = get(cluster.props, "spec.clusterSource")
    if unknown(source):
        return
    config = (source or {}).get("kubeConfig")
    if not config:
        yield "spec.clusterSource must be a kubeConfig Secret (a cluster profile runs exec plugins)"
        return
    if config.get("locationType", "Secret") != "Secret":
        yield "spec.clusterSource.kubeConfig must be a Secret of the stack, not a path on the controller"
        return
    name, namespace = str(config.get("location")), k8s.namespace(cluster.props) or "kueue-system"
    secret = k8s.named(stack, SECRET, cluster.cloud, name, namespace)
    if secret is None:
        yield f"its kubeconfig Secret {namespace}/{name} is not declared by the stack"
        return
    if get(secret.props, "data") or get(secret.props, "stringData"):
        yield f"Secret {namespace}/{name} holds its kubeconfig in the plan: a static credential in the state"
    if "patch" not in _patchers(stack, cluster.cloud, namespace).get(name, set()):
        yield f"no Role may patch Secret {namespace}/{name} by name: nothing keeps its token fresh"


def _rule_problems(rule: Mapping[str, Any], cluster_wide: bool) -> Iterator[str]:
    resources = [str(r) for r in as_list(rule.get("resources"))]
    verbs = {str(v) for v in as_list(rule.get("verbs"))}
    if "*" in resources or "*" in as_list(rule.get("apiGroups")):
        yield "grants a wildcard resource or API group"
    if "secrets" in resources:
        yield "grants Secrets"
    if verbs & ESCALATING:
        yield f"grants {', '.join(sorted(verbs & ESCALATING))}"
    elif cluster_wide and verbs - READ:
        yield f"grants {', '.join(sorted(verbs - READ))} in every namespace: bind writes per namespace"


def _external_bindings(stack: Stack) -> Iterator[Violation]:
    for binding in stack.of(CLUSTER_ROLE_BINDING, ROLE_BINDING):
        subjects = [s for s in as_list(get(binding.props, "subjects")) if s.get("kind") in EXTERNAL]
        if not subjects:
            continue
        role_name, kind = str(get(binding.props, "roleRef.name")), get(binding.props, "roleRef.kind")
        namespace = None if kind == "ClusterRole" else k8s.namespace(binding.props)
        role = k8s.named(
            stack, CLUSTER_ROLE if kind == "ClusterRole" else ROLE, binding.cloud, role_name, namespace
        )
        if role is None:
            yield binding.violation(ID10, f"binds {role_name}, a role the stack does not declare")
            continue
        cluster_wide = binding.type.endswith(":ClusterRoleBinding")
        for rule in as_list(get(role.props, "rules")):
            for problem in _rule_problems(rule, cluster_wide):
                yield binding.violation(ID10, f"binds an outside identity to {role_name}, which {problem}")


@stack_rule(ID10)
def short_lived_access(stack: Stack) -> list[Violation]:
    found = [c.violation(ID10, m) for c in stack.of(MULTIKUEUE_CLUSTER) for m in _cluster(stack, c)]
    return [*found, *_external_bindings(stack)]
