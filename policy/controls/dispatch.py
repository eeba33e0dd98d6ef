"""MultiKueue's access to other clusters (ID-10): short-lived tokens only, and RBAC that grants a foreign
identity no more than MultiKueue needs.

On the manager, every MultiKueueCluster reads its kubeconfig from a Secret of the stack (never a path on
the controller's disk, which would be a credential outside the plan), and that Secret is declared empty:
a token in the plan would be a static credential in the state. Something must then write those Secrets:
a Role of the same cluster that may patch exactly them, by name (the token refresher's).

On a worker, a binding to a `User` or `Group` is how the stack admits an identity from outside the
cluster (another cloud's refresher): the role it binds must grant no wildcard and none of the verbs that
escalate (bind, escalate, impersonate); bound cluster-wide it may only read, so that it writes only in the
namespaces a RoleBinding names (never kube-system). Of Secrets it may only get and patch, by name in one
namespace, image pull Secrets the stack declares holding no credential (the refresher writes a
short-lived registry credential into them): never read a Secret it did not write. An outside identity
that may create Jobs (MultiKueue's, which copies the manager's Jobs as they are) is confined by a
ValidatingAdmissionPolicy of the same cluster, bound with Deny, that matches its requests and pins the
service account and the image its Jobs run: RBAC can say where it may create a Job, not what the Job runs.
"""

from __future__ import annotations

import json
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
REFRESH = frozenset({"get", "patch"})
PULL_SECRET_TYPE = "kubernetes.io/dockerconfigjson"
DOCKER_CONFIG = ".dockerconfigjson"
ESCALATING = frozenset({"bind", "escalate", "impersonate", "*"})
ADMISSION_POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
ADMISSION_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
PINNED = ("serviceAccountName ==", ".image ==")
"""What a confining policy's validations must compare: the pod's service account and its images."""
EXTERNAL = frozenset({"User", "Group"})

ID10 = control(
    "ID-10",
    "Other clusters reached with short-lived tokens only",
    "Each MultiKueue worker's kubeconfig is a Secret of the stack declared empty, which a Role may patch "
    "by name only (the token refresher writes short-lived tokens into it); an identity from outside a "
    "cluster (a User or Group subject) is bound to a role with no wildcard and no escalating verb, "
    "cluster-wide to reading only, and of Secrets only to getting and patching, by name, image pull "
    "Secrets the stack declares empty; one that may create Jobs is confined by a ValidatingAdmissionPolicy "
    "bound with Deny that pins the service account and the image of its Jobs.",
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


def holds_credential(secret: Resource) -> bool:
    """Whether an image pull Secret's planned content admits to any registry."""
    if get(secret.props, "data"):
        return True
    text = (get(secret.props, "stringData") or {}).get(DOCKER_CONFIG)
    if text is None or unknown(text):
        return text is not None
    try:
        return bool(json.loads(str(text)).get("auths"))
    except (ValueError, AttributeError):
        return True


def _secret_problems(
    stack: Stack, rule: Mapping[str, Any], where: tuple[str | None, str | None]
) -> Iterator[str]:
    """A rule on Secrets, bound in namespace `where[1]` of cloud `where[0]` (None: cluster-wide)."""
    cloud, namespace = where
    names, verbs = as_list(rule.get("resourceNames")), {str(v) for v in as_list(rule.get("verbs"))}
    if namespace is None or not names or verbs - REFRESH:
        yield "grants Secrets beyond get and patch, by name in one namespace"
        return
    for name in names:
        secret = k8s.named(stack, SECRET, cloud, str(name), namespace)
        if secret is None or get(secret.props, "type") != PULL_SECRET_TYPE:
            yield f"grants Secret {namespace}/{name}, which is not an image pull Secret of the stack"
        elif holds_credential(secret):
            yield f"grants Secret {namespace}/{name}, which holds a credential in the plan"


def _rule_problems(
    stack: Stack, rule: Mapping[str, Any], where: tuple[str | None, str | None]
) -> Iterator[str]:
    resources = [str(r) for r in as_list(rule.get("resources"))]
    verbs = {str(v) for v in as_list(rule.get("verbs"))}
    cluster_wide = where[1] is None
    if "*" in resources or "*" in as_list(rule.get("apiGroups")):
        yield "grants a wildcard resource or API group"
    if "secrets" in resources:
        yield from _secret_problems(stack, rule, where)
        return
    if verbs & ESCALATING:
        yield f"grants {', '.join(sorted(verbs & ESCALATING))}"
    elif cluster_wide and verbs - READ:
        yield f"grants {', '.join(sorted(verbs - READ))} in every namespace: bind writes per namespace"


def _creates_jobs(rule: Mapping[str, Any]) -> bool:
    verbs = {str(v) for v in as_list(rule.get("verbs"))}
    return (
        "jobs" in as_list(rule.get("resources"))
        and "batch" in as_list(rule.get("apiGroups"))
        and bool(verbs & {"create", "*"})
    )


def _confined(stack: Stack, cloud: str | None, subject: Any) -> bool:
    """Whether a ValidatingAdmissionPolicy of `cloud`'s cluster, bound with Deny, matches the requests of
    `subject` (by its name in a match condition) and pins what their Jobs run."""
    if unknown(subject):
        return True
    for policy in stack.of(ADMISSION_POLICY):
        if policy.cloud != cloud:
            continue
        conditions = " ".join(
            str(c.get("expression")) for c in as_list(get(policy.props, "spec.matchConditions"))
        )
        checks = " ".join(str(v.get("expression")) for v in as_list(get(policy.props, "spec.validations")))
        if json.dumps(str(subject)) not in conditions or not all(p in checks for p in PINNED):
            continue
        name = k8s.object_name(policy.props, policy.name)
        for binding in stack.of(ADMISSION_BINDING):
            actions = as_list(get(binding.props, "spec.validationActions"))
            if binding.cloud == cloud and get(binding.props, "spec.policyName") == name and "Deny" in actions:
                return True
    return False


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
        bound_in = None if binding.type.endswith(":ClusterRoleBinding") else k8s.namespace(binding.props)
        rules = as_list(get(role.props, "rules"))
        for rule in rules:
            for problem in _rule_problems(stack, rule, (binding.cloud, bound_in)):
                yield binding.violation(ID10, f"binds an outside identity to {role_name}, which {problem}")
        if any(_creates_jobs(r) for r in rules):
            for subject in subjects:
                if not _confined(stack, binding.cloud, subject.get("name")):
                    yield binding.violation(
                        ID10,
                        f"lets {subject.get('name')} create Jobs that no ValidatingAdmissionPolicy bound "
                        "with Deny confines: it could run any image as any service account of the namespace",
                    )


@stack_rule(ID10)
def short_lived_access(stack: Stack) -> list[Violation]:
    found = [c.violation(ID10, m) for c in stack.of(MULTIKUEUE_CLUSTER) for m in _cluster(stack, c)]
    return [*found, *_external_bindings(stack)]
