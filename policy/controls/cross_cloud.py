"""Cross-cloud trust (ID-09): every trust of another cloud's cluster admits exactly the service accounts of
that cluster it names (a GCP provider is shared by the replicator and MultiKueue's refresher of one
cluster), and its grants reach exactly one prefix of the bucket, or nothing (the refresher only signs in
to a cluster: an AWS role with no policy, an Azure identity with no role; ID-10 checks what it may do).
An AWS role whose grants are all Route 53's is a cluster's cert-manager solving ACME DNS-01 with `serving.
domain`: it may change TXT records named `_acme-challenge.<name>` in one hosted zone (by Route 53's record
condition keys, with `Null` false so a request without them is refused) and read its changes' status.

A cross-cloud trust is recognised by where its issuer comes from: an AWS role assumed through an OIDC
provider for a GKE or AKS cluster, a GCP workload identity pool provider (the stack's GKE pods use GKE's
own workload identity) and its grants to `principal://` or `principalSet://` members, and an Azure
federated credential whose issuer comes from a cluster other than the stack's AKS. The rule checks what
each grants, not that it exists: a pool with no condition, a `principalSet`, or a write anywhere outside
the prefix is a finding.

On Azure the prefix is an ABAC condition on the role assignment, and Azure Storage evaluates conditions on
data actions only, "not for management Actions through the Storage resource provider"
(learn.microsoft.com/azure/storage/blobs/storage-auth-abac). So a foreign identity's role must be a custom
role definition of the stack with no `actions` at all, and only blob data actions that its condition
names: the built-in Storage Blob Data roles are findings, since they carry container management actions
(Contributor: `containers/delete`, `containers/write`, `containers/read`) that no condition limits, and
with which a foreign token could delete the whole container through ARM.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from policy.controls.iam_aws import ROLE, ROLE_POLICY, SA_SUBJECT, statements
from policy.controls.identity import FEDERATED_CREDENTIAL, ROLE_ASSIGNMENT, foreign, role_definitions
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, unknown
from policy.model.stack import Resource, Stack, Violation

POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
NOT_EKS = ("gcp:container/cluster:Cluster", "azure-native:containerservice:ManagedCluster")
"""Clusters whose issuer an AWS OIDC provider may name for the replicator; an EKS issuer's provider is
the stack's own IRSA, which ID-01 checks."""
POOL_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
BUCKET_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
OBJECT_ROLES = frozenset(
    {"roles/storage.objectUser", "roles/storage.objectViewer", "roles/storage.objectCreator"}
)
AZ_BUILT_IN_BLOB_ROLES = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
}
"""Built-in roles with blob data actions, every one with management actions on containers too
(learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage)."""
AZ_BLOB_DATA = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/"
DNS01_ACTIONS = ("route53:ChangeResourceRecordSets", "route53:GetChange")
DNS01_WHAT = "DNS-01 challenge records in one hosted zone"
R53_TYPES = "route53:ChangeResourceRecordSetsRecordTypes"
R53_NAMES = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
CHALLENGE = "_acme-challenge."
ZONE = re.compile(r"^arn:aws[a-z-]*:route53:::hostedzone/([A-Z0-9]+)$")
CHANGE = re.compile(r"^arn:aws[a-z-]*:route53:::change/\*$")
S3_OBJECT = re.compile(r"^s3:(Get|Put|Delete|Abort|List)[A-Za-z]*$")
SUBJECT_CONDITION = re.compile(r"^\s*assertion\.sub\s*==\s*'(system:serviceaccount:[^']+)'\s*$")
SUBJECTS_CONDITION = re.compile(r"^\s*assertion\.sub\s+in\s+\[([^\]]+)\]\s*$")
LISTED_SUBJECT = re.compile(r"'(system:serviceaccount:[^']+)'")
PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/.+/subject/(.+)$")
GCS_PREFIX = re.compile(r'resource\.name\.startsWith\("projects/_/buckets/[^/"]+/objects/([^"]+/)"\)')
GCS_LIST = re.compile(r'objectListPrefix", ""\)\.startsWith\("([^"]+/)"\)')
AZ_PATH = re.compile(r"blobs:path\] StringStartsWith '([^']+/)'")
AZ_LIST = re.compile(r"blobs:prefix\] StringStartsWith '([^']+/)'")

ID09 = control(
    "ID-09",
    "Cross-cloud trust scoped to exact service accounts and one prefix",
    "A trust of another cloud's cluster (an AWS role assumed with web identity, a GCP workload identity "
    "pool provider and its bucket grant, an Azure federated credential on another cluster's issuer) admits "
    "exactly the service accounts it names, and what it is granted reads and writes one prefix of the "
    "bucket only, or only DNS-01 challenge records (TXT `_acme-challenge.` names) in one Route 53 hosted "
    "zone (a cluster's cert-manager), or nothing at all (a sign-in to a cluster, ID-10); "
    "on Azure through a custom role of blob data actions only, since a role assignment condition cannot "
    "limit management actions such as deleting the container.",
)


def _one_prefix(found: list[str], what: str) -> Iterator[str]:
    if not found:
        yield f"{what} must be limited to one prefix of the bucket (none found)"
    elif len(set(found)) > 1:
        yield f"{what} names several prefixes ({', '.join(sorted(set(found)))}); the trust gets one"


def _s3_grants(statement: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """(problem or "", prefix) for one statement of a cross-cloud role's policy."""
    if statement.get("Effect") != "Allow":
        return
    actions = [str(a) for a in as_list(statement.get("Action"))]
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    if all(a.startswith("kms:") for a in actions):
        if not get(statement, "Condition.StringEquals", {}).get("kms:ViaService", "").startswith("s3."):
            yield "kms use must be limited to S3 (kms:ViaService)", None
        return
    if not all(S3_OBJECT.match(a) for a in actions):
        yield f"grants {', '.join(a for a in actions if not S3_OBJECT.match(a))}: only S3 object access", None
    if actions == ["s3:ListBucket"]:
        listed = as_list(get(statement, "Condition.StringLike", {}).get("s3:prefix"))
        if not listed:
            yield "s3:ListBucket must be limited by an s3:prefix condition", None
        for value in listed:
            yield "", str(value).rstrip("*").rstrip("/") + "/"
        return
    for resource in resources:
        _, _, key = resource.partition("/")
        if not key.endswith("/*") or "*" in key[:-1]:
            yield f"object access on {resource}: must be <bucket>/<prefix>/*", None
        else:
            yield "", key[:-1]


def _aws_role(stack: Stack, role: Resource) -> list[Violation]:
    found: list[str] = []
    if stack.dependents(role, POLICY_ATTACHMENT, via="role"):
        found.append("a cross-cloud role takes inline grants only, no attached managed policies")
    inline = stack.dependents(role, ROLE_POLICY, via="role")
    if not inline and not found:
        return []  # it may do nothing in AWS: a sign-in to an EKS cluster (MultiKueue's refresher)
    granted = [statement for policy in inline for statement in statements(policy.props.get("policy"))]
    if granted and all(_is_route53(statement) for statement in granted):
        found += _dns01_grants(granted)
        return [role.violation(ID09, message) for message in found]
    prefixes: list[str] = []
    for statement in granted:
        for problem, prefix in _s3_grants(statement):
            found += [problem] if problem else []
            prefixes += [prefix] if prefix else []
    found += _one_prefix(prefixes, "its S3 access")
    return [role.violation(ID09, message) for message in found]


def _is_route53(statement: Mapping[str, Any]) -> bool:
    return all(str(a).startswith("route53:") for a in as_list(statement.get("Action")))


def _dns01_grants(granted: list[Mapping[str, Any]]) -> list[str]:
    """A cluster's cert-manager in the serving zone: only TXT records named `_acme-challenge.<name>` in one
    hosted zone, and its changes' status; nothing else of Route 53."""
    found, zones = [], set()
    for statement in (s for s in granted if s.get("Effect") == "Allow"):
        actions = {str(a) for a in as_list(statement.get("Action"))}
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if not actions <= set(DNS01_ACTIONS):
            found.append(f"grants {', '.join(sorted(actions - set(DNS01_ACTIONS)))}: only {DNS01_WHAT}")
        if actions == {"route53:GetChange"}:
            found += [f"route53:GetChange on {r}: only change/*" for r in resources if not CHANGE.match(r)]
            continue
        for resource in resources:
            zone = ZONE.match(resource)
            found += [] if zone else [f"{', '.join(sorted(actions))} on {resource}: only one hosted zone"]
            zones |= {zone[1]} if zone else set()
        if "route53:ChangeResourceRecordSets" in actions:
            found += _challenge_only(statement)
    if len(zones) > 1:
        found.append(f"names several hosted zones ({', '.join(sorted(zones))}); a solver gets one")
    return found


def _challenge_only(statement: Mapping[str, Any]) -> list[str]:
    condition = statement.get("Condition") or {}
    equals = get(condition, "ForAllValues:StringEquals", {}) or {}
    types, names = as_list(equals.get(R53_TYPES)), [str(n) for n in as_list(equals.get(R53_NAMES))]
    null = get(condition, "Null", {}) or {}
    found = []
    if types != ["TXT"]:
        found.append(f"record changes must be limited to TXT ({R53_TYPES}), got {types or 'none'}")
    if not names or not all(n.startswith(CHALLENGE) for n in names):
        found.append(f"record changes must be limited to {CHALLENGE}<name> records ({R53_NAMES})")
    if str(null.get(R53_TYPES)).lower() != "false" or str(null.get(R53_NAMES)).lower() != "false":
        found.append("ForAllValues holds for a request without the keys: both need Null false")
    return found


def foreign_roles(stack: Stack) -> list[Resource]:
    """AWS roles assumed with the web identity of another cloud's cluster."""
    return [
        role
        for role in stack.of(ROLE)
        if any(
            stack.deps(provider, *NOT_EKS, via="url")
            for provider in stack.deps(role, OIDC_PROVIDER, via="assumeRolePolicy")
        )
    ]


@stack_rule(ID09)
def aws_web_identity_roles(stack: Stack) -> list[Violation]:
    return [v for role in foreign_roles(stack) for v in _aws_role(stack, role)]


def condition_subjects(condition: str) -> list[str]:
    """The service accounts a pool provider's condition admits when it names each exactly (one, or a
    list: the replicator and MultiKueue's refresher of one cluster share its provider); [] otherwise."""
    one = SUBJECT_CONDITION.match(condition)
    if one is not None:
        subjects = [one[1]]
    elif (listed := SUBJECTS_CONDITION.match(condition)) is not None:
        subjects = LISTED_SUBJECT.findall(listed[1])
        if ",".join(f"'{s}'" for s in subjects) != listed[1].replace(" ", ""):
            return []
    else:
        return []
    return subjects if all(SA_SUBJECT.match(s) for s in subjects) else []


@resource_rule(ID09, POOL_PROVIDER)
def pool_provider(_: str, props: Props) -> Iterator[str]:
    condition, mapping = props.get("attributeCondition"), props.get("attributeMapping") or {}
    if mapping.get("google.subject") != "assertion.sub":
        yield "attributeMapping must map google.subject to assertion.sub"
    if not unknown(condition) and not condition_subjects(str(condition or "")):
        yield (
            "attributeCondition must be exactly assertion.sub == 'system:serviceaccount:<ns>:<sa>', or "
            "assertion.sub in [...] of such subjects"
        )


@resource_rule(ID09, BUCKET_MEMBER, BUCKET_BINDING)
def federated_bucket_grant(type_: str, props: Props) -> Iterator[str]:
    members = [props.get("member")] if "member" in props else as_list(props.get("members"))
    foreign = [str(m) for m in members if str(m).startswith(("principal://", "principalSet://"))]
    if not foreign:
        return
    for member in foreign:
        subject = PRINCIPAL.match(member)
        if subject is None or not SA_SUBJECT.match(subject[1]):
            yield f"{member} must be principal://.../subject/system:serviceaccount:<ns>:<sa>, one subject"
    if props.get("role") not in OBJECT_ROLES:
        yield f"role {props.get('role')} must be an object role ({', '.join(sorted(OBJECT_ROLES))})"
    expression = str(get(props, "condition.expression", "") or "")
    yield from _one_prefix(GCS_PREFIX.findall(expression), "the grant's object access")
    yield from _one_prefix(GCS_LIST.findall(expression), "the grant's listing")


@stack_rule(ID09)
def azure_foreign_credentials(stack: Stack) -> list[Violation]:
    found = []
    for credential in (c for c in stack.of(FEDERATED_CREDENTIAL) if foreign(stack, c)):
        subject = str(credential.props.get("subject") or "")
        if not SA_SUBJECT.match(subject):
            found.append(credential.violation(ID09, f"subject {subject!r} must be one service account"))
        for identity in stack.deps(credential, IDENTITY, via="resourceName"):
            for assignment in stack.dependents(identity, ROLE_ASSIGNMENT, via="principalId"):
                found += [assignment.violation(ID09, m) for m in _azure_grant(stack, assignment)]
    return found


CLUSTERS = ("aws:eks/cluster:Cluster", *NOT_EKS)


def issuer_cloud(stack: Stack, trust: Resource) -> str | None:
    """The cloud of the cluster whose tokens `trust` admits, where its issuer is traced to one: through an
    AWS role's OIDC provider, a pool provider's `oidc`, or a federated credential's `issuer`."""
    if trust.kind == ROLE.lower():
        clusters = [
            cluster
            for provider in stack.deps(trust, OIDC_PROVIDER, via="assumeRolePolicy")
            for cluster in stack.deps(provider, *NOT_EKS, via="url")
        ]
    else:
        clusters = stack.deps(trust, *CLUSTERS, via="oidc") + stack.deps(trust, *CLUSTERS, via="issuer")
    clouds = {cluster.cloud for cluster in clusters}
    return clouds.pop() if len(clouds) == 1 else None


def trusts(stack: Stack) -> dict[tuple[str | None, str, str], list[Resource]]:
    """Every cross-cloud trust by the (cloud, namespace, service account) it admits, the cloud of the
    cluster whose tokens it trusts, or None where that is not traced: what that account's pods on that
    cloud's cluster must wait for (ID-08)."""
    found: dict[tuple[str | None, str, str], list[Resource]] = defaultdict(list)
    subjects: list[tuple[Resource, object]] = []
    for role in foreign_roles(stack):
        for statement in statements(role.props.get("assumeRolePolicy")):
            equals = get(statement, "Condition.StringEquals", {}) or {}
            subjects += [(role, v) for k, v in equals.items() if str(k).endswith(":sub")]
    for provider in stack.of(POOL_PROVIDER):
        condition = str(provider.props.get("attributeCondition") or "")
        subjects += [(provider, subject) for subject in condition_subjects(condition)]
    for grant in stack.of(BUCKET_MEMBER):
        match = PRINCIPAL.match(str(grant.props.get("member") or ""))
        subjects += [(grant, match[1])] if match else []
    for credential in (c for c in stack.of(FEDERATED_CREDENTIAL) if foreign(stack, c)):
        subjects.append((credential, credential.props.get("subject")))
    for res, subject in subjects:
        parts = str(subject).split(":")
        if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
            found[(issuer_cloud(stack, res), parts[2], parts[3])].append(res)
    return found


def _azure_grant(stack: Stack, assignment: Resource) -> Iterator[str]:
    props = assignment.props
    yield from _azure_role(stack, assignment)
    if "/blobServices/default/containers/" not in str(props.get("scope") or ""):
        yield "a cross-cloud identity's role is scoped to one container"
    condition = str(props.get("condition") or "")
    if props.get("conditionVersion") != "2.0":
        yield "the assignment needs an ABAC condition (conditionVersion 2.0)"
    yield from _one_prefix(AZ_PATH.findall(condition), "blob access")
    yield from _one_prefix(AZ_LIST.findall(condition), "listing")


def _azure_role(stack: Stack, assignment: Resource) -> Iterator[str]:
    """The assignment's role: a custom role definition of the stack, of blob data actions its condition
    names and no management action. During preview the role's GUID may not be known yet (the definition
    is created in the same run): the definition the assignment takes it from is checked then."""
    role_id = assignment.props.get("roleDefinitionId")
    guid = str(role_id or "").rsplit("/", 1)[-1].lower()
    if guid in AZ_BUILT_IN_BLOB_ROLES:
        yield (
            f"{AZ_BUILT_IN_BLOB_ROLES[guid]} carries management actions on the container that an ABAC "
            "condition cannot limit (a foreign token could delete the container through ARM): grant a custom "
            "role of blob data actions only"
        )
        return
    definitions = role_definitions(stack, assignment)
    if not definitions:
        yield (
            f"role {role_id} is not a custom role definition of the stack: a cross-cloud identity gets "
            "one of blob data actions only"
        )
        return
    condition = str(assignment.props.get("condition") or "")
    for definition in definitions:
        yield from _data_only(definition.props, condition)


def _data_only(props: Props, condition: str) -> Iterator[str]:
    """No management action (a condition cannot limit one), and only blob data actions that `condition`
    names: a blob data action it does not name (tags, versions, immutability...) reaches every blob."""
    named = condition.lower()  # permission strings are case-insensitive
    for permission in as_list(props.get("permissions")):
        actions = [str(a) for a in as_list(get(permission, "actions"))]
        if actions:
            yield (
                f"the role grants management actions ({', '.join(actions)}), which an ABAC condition cannot "
                "limit: a cross-cloud role has data actions only"
            )
        for action in (str(a) for a in as_list(get(permission, "dataActions"))):
            if not action.lower().startswith(AZ_BLOB_DATA.lower()) or "*" in action:
                yield f"the role grants {action}: a cross-cloud role has blob data actions only, no wildcard"
            elif f"actionmatches{{'{action.lower()}'}}" not in named:
                yield f"the role grants {action}, which the assignment's condition leaves unlimited"
