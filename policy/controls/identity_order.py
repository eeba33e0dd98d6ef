"""ID-08: workloads wait for their identity. The cloud binds a Kubernetes service account to its cloud
identity with one resource (an EKS Pod Identity association, an Azure federated credential, a GKE
workload identity IAM member); a pod admitted before that resource exists gets no credentials, and a Job
that fails on it may not be retried. Each Job, CronJob and Deployment outside kube-system therefore
depends on every binding the stack declares for its (namespace, service account), and on every
cross-cloud trust of it (ID-09's) by its own cluster's issuer (or by an issuer not traced to a cluster):
another cloud refuses its token until that trust exists. Each cluster's cert-manager has the same account
name, and is trusted by its own issuer only."""

from __future__ import annotations

import re
from collections import defaultdict

from policy.controls import cross_cloud
from policy.model import k8s
from policy.model.control import control, stack_rule
from policy.model.props import unknown
from policy.model.stack import Resource, Stack, Violation

POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
SA_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
WI_USER = "roles/iam.workloadIdentityUser"
AZ_SUBJECT = re.compile(r"^system:serviceaccount:([^:]+):([^:]+)$")
GKE_MEMBER = re.compile(r"\.svc\.id\.goog\[([^/\]]+)/([^\]]+)\]$")

ID08 = control(
    "ID-08",
    "Workloads wait for their identity",
    "Each Job, CronJob and Deployment depends on the cloud-side binding of its namespace and service "
    "account where the stack declares one (EKS Pod Identity association, Azure federated credential, GKE "
    "workload identity member), and on each other cloud's trust of it: pods admitted before it exists get "
    "no credentials.",
)


def bound_account(res: Resource) -> tuple[str, str] | None:
    """The (namespace, service account) a binding resource grants, if known."""
    props = res.props
    if res.kind == POD_IDENTITY.lower():
        pair = (props.get("namespace"), props.get("serviceAccount"))
    elif res.kind == FEDERATED_CREDENTIAL.lower():
        match = AZ_SUBJECT.match(str(props.get("subject") or ""))
        pair = (match[1], match[2]) if match else (None, None)
    else:
        match = GKE_MEMBER.search(str(props.get("member") or ""))
        granted = props.get("role") == WI_USER
        pair = (match[1], match[2]) if match and granted else (None, None)
    namespace, account = pair
    if not all(isinstance(v, str) and not unknown(v) for v in pair):
        return None
    return str(namespace), str(account)


def bindings(stack: Stack) -> dict[tuple[str | None, str, str], list[Resource]]:
    """Every binding of the stack by (cloud, namespace, service account)."""
    found: dict[tuple[str | None, str, str], list[Resource]] = defaultdict(list)
    for res in stack.of(POD_IDENTITY, FEDERATED_CREDENTIAL, SA_IAM_MEMBER):
        pair = bound_account(res)
        if pair:
            found[(res.cloud, *pair)].append(res)
    return found


@stack_rule(ID08)
def wait_for_identity(stack: Stack) -> list[Violation]:
    declared, trusts = bindings(stack), cross_cloud.trusts(stack)
    found = []
    for res, pod in k8s.workloads(stack, k8s.JOB, k8s.CRON_JOB, k8s.DEPLOYMENT):
        namespace, account = k8s.namespace(res.props) or "default", pod.get("serviceAccountName") or "default"
        if k8s.is_system(res.props) or unknown(namespace) or unknown(account):
            continue
        needed = [
            *declared.get((res.cloud, namespace, str(account)), []),
            *trusts.get((res.cloud, namespace, str(account)), []),
            *trusts.get((None, namespace, str(account)), []),
        ]
        for binding in needed:
            if binding.urn not in res.depends_on:
                found.append(
                    res.violation(
                        ID08,
                        f"runs as {namespace}/{account} but does not depend on {binding.name} "
                        f"({binding.type}), which binds it: add it to depends_on, or pods may start "
                        "without credentials",
                    )
                )
    return found
