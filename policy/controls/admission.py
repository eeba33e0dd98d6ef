"""Trusted-image admission (CP-13): the cluster's switch, and what it enforces.

A switch alone admits everything. GKE enforcing the project's Binary Authorization policy enforces the
project's default policy, which allows every image, unless the stack declares one that denies by default
and admits only named repositories. The AKS Azure Policy add-on (Gatekeeper) enforces the policies
assigned at the cluster's scope, and nothing without them: the rules want the built-in "allowed images"
definition and the "pod security restricted" initiative assigned to the cluster, with effect Deny.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import k8s
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, equals, first, get, is_true, present, unknown
from policy.model.stack import Resource, Stack, Violation

GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"
BINAUTHZ_POLICY = "gcp:binaryauthorization/policy:Policy"
POLICY_ASSIGNMENT = "azure-native:authorization:PolicyAssignment"
ENFORCE = "PROJECT_SINGLETON_POLICY_ENFORCE"
DENYING = ("ALWAYS_DENY", "REQUIRE_ATTESTATION")
BLOCK = "ENFORCED_BLOCK_AND_AUDIT_LOG"
REPOSITORY_EXAMPLE = "REGION-docker.pkg.dev/PROJECT/REPOSITORY/**"
_BUILT_IN = "/providers/Microsoft.Authorization"
ALLOWED_IMAGES = f"{_BUILT_IN}/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
"""Built-in "Kubernetes cluster containers should only use allowed images" (default effect Audit)."""
RESTRICTED_PODS = f"{_BUILT_IN}/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00"
"""Built-in initiative "Kubernetes cluster pod security restricted standards for Linux-based workloads"."""
DEFINITIONS = {
    ALLOWED_IMAGES: "allowed-images definition",
    RESTRICTED_PODS: "pod-security restricted initiative",
}
MATCH_ALL = frozenset({".*", "^.*$", "^.+$", "^.*", "^.+", ".+"})
FOREIGN_IMAGES = ("docker.io/library/busybox:latest", "attacker.example.com/miner/xmrig:latest")
"""Images no stack's regex may admit; Gatekeeper's `re_match` searches, so an unanchored pattern matches
anywhere in the reference."""

CP13 = control(
    "CP-13",
    "Trusted-image admission",
    "GKE enforces the project's Binary Authorization policy, which the stack declares: deny by default "
    "(or require attestations), block, and admit only named repositories. AKS runs the Azure Policy add-on "
    "with the built-in allowed-images definition (an anchored registry regex) and the pod-security "
    "restricted initiative assigned to the cluster with effect Deny.",
)


@resource_rule(CP13, GKE, AKS)
def cluster_switch(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        if not equals(get(props, "binaryAuthorization.evaluationMode"), ENFORCE):
            yield f'binaryAuthorization.evaluationMode must be "{ENFORCE}"'
        return
    policy = first(get(props, "addonProfiles", {}), "azurepolicy", "azurePolicy")
    if not is_true(get(policy, "enabled")):
        yield "addonProfiles.azurepolicy.enabled must be true"


def _admission_rule(where: str, rule: Any) -> Iterator[str]:
    if unknown(rule):
        return
    if not isinstance(rule, Mapping) or not rule:
        yield f"{where} must be set (evaluationMode ALWAYS_DENY, enforcementMode {BLOCK})"
        return
    mode = rule.get("evaluationMode")
    if not equals(mode, *DENYING):
        yield f"{where}.evaluationMode must be ALWAYS_DENY or REQUIRE_ATTESTATION, got {mode!r}"
    if not equals(rule.get("enforcementMode"), BLOCK):
        yield f"{where}.enforcementMode must be {BLOCK}, got {rule.get('enforcementMode')!r}"
    if mode == "REQUIRE_ATTESTATION" and not present(rule.get("requireAttestationsBy")):
        yield f"{where}.requireAttestationsBy must name the attestors REQUIRE_ATTESTATION checks"


def names_a_repository(pattern: str) -> bool:
    """A registry host, then a project and a repository with no wildcard in any of the three."""
    parts = pattern.split("/")
    host = parts[0]
    looks_like_host = "." in host or ":" in host or host == "localhost"
    return len(parts) >= 3 and looks_like_host and all(p and "*" not in p for p in parts[:3])


@resource_rule(CP13, BINAUTHZ_POLICY)
def binauthz_policy(_: str, props: Props) -> Iterator[str]:
    yield from _admission_rule("defaultAdmissionRule", props.get("defaultAdmissionRule"))
    rules = props.get("clusterAdmissionRules")
    for rule in [] if unknown(rules) else as_list(rules):
        cluster = rule.get("cluster") if isinstance(rule, Mapping) else None
        yield from _admission_rule(f"clusterAdmissionRules[{cluster}]", rule)
    patterns = props.get("admissionWhitelistPatterns")
    for entry in [] if unknown(patterns) else as_list(patterns):
        name = get(entry, "namePattern")
        if not unknown(name) and not names_a_repository(str(name or "")):
            yield (
                f"admissionWhitelistPatterns namePattern {name!r} must name a registry host, a project and "
                f"a repository without wildcards (like {REPOSITORY_EXAMPLE})"
            )


def _same_project(a: Any, b: Any) -> bool:
    """Unset (the provider's project) or not known yet counts as the same project."""
    return a is None or b is None or unknown(a) or unknown(b) or a == b


@stack_rule(CP13)
def gke_policy_declared(stack: Stack) -> list[Violation]:
    found = []
    for cluster in stack.of(GKE):
        if get(cluster.props, "binaryAuthorization.evaluationMode") != ENFORCE:
            continue  # the resource rule reports a cluster that does not enforce
        project = cluster.props.get("project")
        declared = [
            p
            for p in stack.of(BINAUTHZ_POLICY)
            if p.cloud == cluster.cloud and _same_project(project, p.props.get("project"))
        ]
        if not declared:
            found.append(
                cluster.violation(
                    CP13,
                    f"enforces its project's Binary Authorization policy, which allows every image unless "
                    f"the stack declares a {BINAUTHZ_POLICY} that denies by default and admits the stack's "
                    "repository",
                )
            )
    return found


def definition_of(props: Props) -> str | None:
    """Which of the two built-ins an assignment assigns (the exact built-in path, any case), else None."""
    value = str(props.get("policyDefinitionId") or "").lower()
    return next((d for d in DEFINITIONS if d.lower() == value), None)


def _image_regex(value: Any) -> Iterator[str]:
    key = "parameters.allowedContainerImagesRegex.value"
    if unknown(value):
        return
    if not isinstance(value, str) or not value:
        yield f"{key} must be set to the stack's registry, like ^<registry>\\.azurecr\\.io/.+$"
        return
    if not value.startswith("^"):
        yield f"{key} {value!r} must be anchored with ^ (Gatekeeper matches it anywhere in the image)"
        return
    try:
        admits = [image for image in FOREIGN_IMAGES if re.search(value, image)]
    except re.error:
        yield f"{key} {value!r} is not a valid regular expression"
        return
    if value in MATCH_ALL or admits:
        yield f"{key} {value!r} admits any image ({', '.join(admits) or 'match-all'}); name the registry"


@resource_rule(CP13, POLICY_ASSIGNMENT)
def aks_assignment(_: str, props: Props) -> Iterator[str]:
    definition = definition_of(props)
    if definition is None:
        return
    if str(props.get("enforcementMode") or "").lower() == "donotenforce":
        yield 'enforcementMode must be "Default" (DoNotEnforce only audits)'
    effect = get(props, "parameters.effect.value")
    if not unknown(effect) and str(effect or "").lower() != "deny":
        yield f'parameters.effect.value must be "Deny" (the default only audits), got {effect!r}'
    if definition == ALLOWED_IMAGES:
        yield from _image_regex(get(props, "parameters.allowedContainerImagesRegex.value"))


def _covers(assignment: Resource, namespace: str) -> bool:
    """Whether the assignment's namespace parameters leave `namespace` in (unknown ones count as in)."""
    excluded, included = (
        get(assignment.props, f"parameters.{key}.value") for key in ("excludedNamespaces", "namespaces")
    )
    if unknown(excluded) or unknown(included):
        return True
    return namespace not in as_list(excluded) and (not as_list(included) or namespace in as_list(included))


def _uncovered(stack: Stack, cluster: Resource, assignment: Resource, definition: str) -> list[Violation]:
    """Workload namespaces the assignment leaves out: any outside kube-system for the images; for pod
    security, those of workloads other than node agents (the device plugin's needs a host path)."""
    namespaces = set()
    for res, _ in k8s.workloads(stack):
        agent_ok = definition == RESTRICTED_PODS and k8s.is_node_agent(res.type, res.props)
        if res.cloud == cluster.cloud and not k8s.is_system(res.props) and not agent_ok:
            namespaces.add(k8s.namespace(res.props) or "default")
    return [
        assignment.violation(
            CP13,
            f"leaves out namespace {ns}, where workloads run (parameters.excludedNamespaces or namespaces)",
        )
        for ns in sorted(namespaces)
        if not _covers(assignment, ns)
    ]


@stack_rule(CP13)
def aks_assignments(stack: Stack) -> list[Violation]:
    found = []
    for cluster in stack.of(AKS):
        assigned = stack.dependents(cluster, POLICY_ASSIGNMENT, via="scope")
        for definition, what in DEFINITIONS.items():
            mine = [a for a in assigned if definition_of(a.props) == definition]
            if not mine:
                found.append(
                    cluster.violation(
                        CP13,
                        f"the Azure Policy add-on enforces nothing by itself: assign the built-in {what} "
                        f"({definition}) with scope the cluster and effect Deny",
                    )
                )
            for assignment in mine:
                found += _uncovered(stack, cluster, assignment, definition)
    return found
