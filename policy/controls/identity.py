"""GCP and Azure identity: exact GKE workload identity bindings (ID-03), no basic roles and no project-wide
storage grants (ID-04), exact Azure federated credentials (ID-05) and narrowly scoped Azure role
assignments (ID-06). Where the stack declares Kubernetes service accounts, the stack rules also check the
annotation (and, on Azure, the pod label) that binds each one to its cloud identity."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policy.model import k8s
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, present, unknown
from policy.model.stack import Resource, Stack, Violation

SA_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SA_IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
PROJECT_IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_IAM_BINDING = "gcp:projects/iAMBinding:IAMBinding"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
ADDRESS_ACTIONS = frozenset(
    {"microsoft.network/publicipaddresses/read", "microsoft.network/publicipaddresses/join/action"}
)
"""What AKS's cloud provider does with a public IP it is pointed at and did not create: list its group's
to find it, read it, join it to a load balancer (infra/clouds/azure/gateway_address.py). Lower case: ARM
compares actions without case."""
AKS = "azure-native:containerservice:ManagedCluster"
WI_USER = "roles/iam.workloadIdentityUser"
WI_MEMBER = re.compile(r"^serviceAccount:([a-z][-a-z0-9]*)\.svc\.id\.goog\[([a-z0-9-]+)/([a-z0-9-]+)\]$")
FOREIGN_MEMBER = re.compile(
    r"^principal://iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+"
    r"/subject/system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+$"
)
"""A service account of another cloud's cluster, through a workload identity pool (MultiKueue's refresher,
impersonating the Google service account it signs in to GKE as)."""
GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
AZ_SUBJECT = re.compile(r"^system:serviceaccount:([a-z0-9-]+):([a-z0-9-]+)$")
AZ_AUDIENCE = "api://AzureADTokenExchange"
AZ_CLIENT_ANNOTATION = "azure.workload.identity/client-id"
AZ_USE_LABEL = "azure.workload.identity/use"
BROAD_SCOPE = re.compile(r"^/subscriptions/[^/]+(/resourceGroups/[^/]+)?/?$", re.IGNORECASE)
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35f-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
"""Built-in role ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles)."""

ID03 = control(
    "ID-03",
    "GKE workload identity binding is exact",
    "roles/iam.workloadIdentityUser is granted only to serviceAccount:<project>.svc.id.goog[<ns>/<ksa>], "
    "and that Kubernetes service account carries the iam.gke.io/gcp-service-account annotation; or to one "
    "service account of another cloud's cluster, principal://.../subject/system:serviceaccount:<ns>:<sa> "
    "(whose trust is ID-09's).",
)
ID04 = control(
    "ID-04",
    "No basic roles; bucket-scoped storage IAM",
    "No project-level owner, editor or viewer grants, and storage roles are granted on the bucket, not the "
    "project.",
)
ID05 = control(
    "ID-05",
    "Azure workload identity federation is exact",
    "Each federated credential of the cluster's own workloads trusts its OIDC issuer, one service account "
    "subject (another cloud's replicator is ID-09's) and the api://AzureADTokenExchange audience; the "
    "service account and its pods carry the workload identity annotation and label.",
)
ID06 = control(
    "ID-06",
    "Azure RBAC scoped",
    "Role assignments are scoped below the resource group (a storage account, container, registry, "
    "key or cluster) and never grant Owner, Contributor or User Access Administrator; but a custom role of "
    "the stack with Microsoft.Network/publicIPAddresses/read and /join/action alone may hold a resource "
    "group of the stack that holds public addresses alone (AKS's cloud provider finds a Service's named "
    "address by listing its group).",
)


def _wi_members(type_: str, props: Props) -> list[object]:
    return [props.get("member")] if type_.lower() == SA_IAM_MEMBER.lower() else as_list(props.get("members"))


@resource_rule(ID03, SA_IAM_MEMBER, SA_IAM_BINDING)
def gke_binding(type_: str, props: Props) -> Iterator[str]:
    members = _wi_members(type_, props)
    is_wi = any(isinstance(m, str) and ".svc.id.goog[" in m for m in members)
    if props.get("role") != WI_USER and not is_wi:
        return
    if props.get("role") != WI_USER:
        yield f"a workload identity member must get {WI_USER} only, not {props.get('role')}"
    for member in members:
        if not unknown(member) and not (WI_MEMBER.match(str(member)) or FOREIGN_MEMBER.match(str(member))):
            yield (
                f"member {member!r} must be exactly serviceAccount:<project>.svc.id.goog[<ns>/<ksa>], or one "
                "foreign service account's principal://.../subject/system:serviceaccount:<ns>:<sa>"
            )


@stack_rule(ID03)
def gke_ksa_annotated(stack: Stack) -> list[Violation]:
    found = []
    for binding in stack.of(SA_IAM_MEMBER, SA_IAM_BINDING):
        accounts = k8s.service_accounts(stack, binding.cloud)
        if not accounts:
            continue  # the stack declares no Kubernetes service accounts on this cluster (yet)
        for member in _wi_members(binding.type, binding.props):
            match = WI_MEMBER.match(str(member))
            if match:
                found += _annotated(binding, accounts.get((match[2], match[3])), f"{match[2]}/{match[3]}")
    return found


def _annotated(binding: Resource, sa: Resource | None, where: str) -> list[Violation]:
    if sa is None:
        return [binding.violation(ID03, f"binds {where}, but the stack declares no such ServiceAccount")]
    email = get(sa.props, "metadata.annotations", {}).get(GSA_ANNOTATION)
    target = binding.props.get("serviceAccountId")
    if not present(email):
        return [sa.violation(ID03, f"needs the {GSA_ANNOTATION} annotation")]
    if isinstance(target, str) and not unknown(target) and not unknown(email) and str(email) not in target:
        return [sa.violation(ID03, f"annotation {GSA_ANNOTATION}={email} is not the account {target} binds")]
    return []


@resource_rule(ID04, PROJECT_IAM_MEMBER, PROJECT_IAM_BINDING)
def no_basic_roles(_: str, props: Props) -> Iterator[str]:
    role = props.get("role")
    if role in BASIC_ROLES:
        yield f"{role} is a basic role; grant a predefined role instead"
    elif isinstance(role, str) and role.startswith("roles/storage."):
        yield f"{role} on the whole project; grant it on the bucket (storage/bucketIAMMember)"


@resource_rule(ID05, FEDERATED_CREDENTIAL)
def federated_credential(_: str, props: Props) -> Iterator[str]:
    subject, issuer, audiences = props.get("subject"), props.get("issuer"), props.get("audiences")
    if not unknown(subject) and not AZ_SUBJECT.match(str(subject or "")):
        yield f"subject must be exactly system:serviceaccount:<ns>:<sa>, got {subject!r}"
    if not unknown(audiences) and as_list(audiences) != [AZ_AUDIENCE]:
        yield f"audiences must be [{AZ_AUDIENCE}]"
    if not unknown(issuer) and not str(issuer or "").startswith("https://"):
        yield "issuer must be the cluster's OIDC issuer URL"


FOREIGN_CLUSTERS = ("aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster")
"""Clusters of other clouds whose issuer an Azure federated credential may trust: the replicator's, which
ID-09 checks instead."""


def foreign(stack: Stack, credential: Resource) -> bool:
    """Whether `credential` trusts another cloud's cluster rather than the stack's AKS."""
    return not stack.deps(credential, AKS, via="issuer") and bool(
        stack.deps(credential, *FOREIGN_CLUSTERS, via="issuer")
    )


@stack_rule(ID05)
def azure_federation_wired(stack: Stack) -> list[Violation]:
    found = []
    for credential in stack.of(FEDERATED_CREDENTIAL):
        if foreign(stack, credential):
            continue
        if stack.of(AKS) and not stack.deps(credential, AKS, via="issuer"):
            found.append(credential.violation(ID05, "issuer must come from the cluster's oidcIssuerProfile"))
        match = AZ_SUBJECT.match(str(credential.props.get("subject") or ""))
        accounts = k8s.service_accounts(stack, credential.cloud)
        if match and accounts:
            found += _azure_sa(stack, credential, accounts.get((match[1], match[2])), match[1], match[2])
    return found


def _azure_sa(stack: Stack, credential: Resource, sa: Resource | None, ns: str, name: str) -> list[Violation]:
    if sa is None:
        return [
            credential.violation(ID05, f"trusts {ns}/{name}, but the stack declares no such ServiceAccount")
        ]
    found = []
    if not present(get(sa.props, "metadata.annotations", {}).get(AZ_CLIENT_ANNOTATION)):
        found.append(sa.violation(ID05, f"needs the {AZ_CLIENT_ANNOTATION} annotation"))
    for res, spec in k8s.workloads(stack):
        uses = spec.get("serviceAccountName") == name and k8s.namespace(res.props) == ns
        labelled = str(k8s.pod_labels(res.type, res.props).get(AZ_USE_LABEL)) == "true"
        if uses and res.cloud == credential.cloud and not labelled:
            found.append(res.violation(ID05, f'pod template needs the label {AZ_USE_LABEL}: "true"'))
    return found


@stack_rule(ID06)
def role_assignment_scope(stack: Stack) -> list[Violation]:
    found = []
    for assignment in stack.of(ROLE_ASSIGNMENT):
        props = assignment.props
        scope, role = props.get("scope"), str(props.get("roleDefinitionId") or "")
        broad = isinstance(scope, str) and not unknown(scope) and BROAD_SCOPE.match(scope)
        if broad and (refused := _broad_scope(stack, assignment, str(scope))):
            found.append(assignment.violation(ID06, refused))
        too_broad = BROAD_ROLES.get(role.rsplit("/", 1)[-1].lower())
        if too_broad:
            message = f"{too_broad} is too broad; use the data-plane role the app needs"
            found.append(assignment.violation(ID06, message))
    return found


def _broad_scope(stack: Stack, assignment: Resource, scope: str) -> str | None:
    """Why an assignment on a whole subscription or resource group is refused; None for the one exception,
    the cluster identity's custom role on the group of the gateway's address."""
    if not _address_group(stack, assignment):
        return f"scope {scope} is a whole subscription or resource group; scope it to the resource"
    refused = list(_address_role(stack, assignment))
    if not refused:
        return None
    return (
        f"on {scope}, a group of public addresses alone, only a custom role of the stack with "
        f"Microsoft.Network/publicIPAddresses/read and /join/action may be granted: {'; '.join(refused)}"
    )


def _address_group(stack: Stack, assignment: Resource) -> bool:
    """Whether the assignment's scope is a resource group of the stack that holds public addresses and
    nothing else (the gateway's, infra/clouds/azure/gateway_address.py): AKS's cloud provider finds a
    Service's named address by listing its group's, so its grant cannot be scoped to the address."""
    groups = stack.deps(assignment, RESOURCE_GROUP, via="scope")
    urns = {group.urn for group in groups if group.urn}
    held = [
        r
        for r in stack.resources
        if r is not assignment
        and "resourceGroupName" in r.props
        and urns & set(r.linked("resourceGroupName"))
    ]
    return bool(groups) and bool(held) and all(r.kind == PUBLIC_IP.lower() for r in held)


def _address_role(stack: Stack, assignment: Resource) -> Iterator[str]:
    """Why the assignment's role may not hold a group of public addresses: it must be a custom role
    definition of the stack with no action but `ADDRESS_ACTIONS` (no wildcard, no data action)."""
    definitions = role_definitions(stack, assignment)
    if not definitions:
        yield f"role {assignment.props.get('roleDefinitionId')} is not a custom role definition of the stack"
        return
    for definition in definitions:
        for permission in as_list(definition.props.get("permissions")):
            for action in (str(a) for a in as_list(get(permission, "actions"))):
                if action.lower() not in ADDRESS_ACTIONS:
                    yield f"{definition.name} grants {action}"
            for action in (str(a) for a in as_list(get(permission, "dataActions"))):
                yield f"{definition.name} grants the data action {action}"


def role_definitions(stack: Stack, assignment: Resource) -> list[Resource]:
    """The custom role definitions of the stack that the assignment's `roleDefinitionId` names, by GUID.
    During preview the GUID may not be known yet (the definition is created in the same run): then the
    definitions the assignment takes it from; none for a built-in role."""
    role_id = assignment.props.get("roleDefinitionId")
    linked = stack.deps(assignment, ROLE_DEFINITION, via="roleDefinitionId")
    if unknown(role_id):
        return linked
    guid = str(role_id or "").rsplit("/", 1)[-1].lower()
    definitions = [d for d in stack.of(ROLE_DEFINITION) if _guid(d) == guid]
    return definitions or [d for d in linked if not _guid(d)]


def _guid(definition: Resource) -> str:
    """The definition's GUID, as given; "" while not known."""
    given = definition.props.get("roleDefinitionId") or definition.props.get("name")
    return "" if unknown(given) else str(given or "").lower()
