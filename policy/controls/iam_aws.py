"""AWS identity: IRSA / Pod Identity trust scoped to one service account (ID-01), and least-privilege role
policies with no app permissions on the node role (ID-02)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_json, as_list, present, unknown
from policy.model.stack import Resource, Stack, Violation

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
ADDON = "aws:eks/addon:Addon"
SA_SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)
READ_ONLY = re.compile(r"^[a-z0-9-]+:(Describe|List|Get)[A-Za-z*]*$")
"""Reads, wildcards included (`ec2:Describe*`): they may name `Resource: "*"` (many have no resource ARN)."""
NODE_POLICIES = frozenset(
    {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonSSMManagedInstanceCore",
    }
)
"""What EKS nodes need (docs.aws.amazon.com/eks/latest/userguide/create-node-role.html), nothing more."""
S3_WRITE = re.compile(r"^s3:(Put|Delete|Restore|Replicate|Abort|\*)", re.IGNORECASE)
MODEL_OBJECTS = re.compile(r"^arn:[^:]+:s3:::[^/*]+/models/([^/*]+/)?\*$")
"""The objects of `models/`, or of one model under it: all a replicator's own role may write."""

ID01 = control(
    "ID-01",
    "IRSA / Pod Identity trust scoped to one service account",
    "A role that pods assume trusts exactly one namespace/service account: IRSA with StringEquals on sub "
    "and aud, or a Pod Identity association naming both.",
)
ID02 = control(
    "ID-02",
    "One role per app, least privilege",
    "No Allow of every action or of all resources for changes; serving cannot write to S3; the replicator "
    "writes S3 only under models/ (one model's prefix); the node role carries only the EKS node policies "
    "and no app permissions.",
)


def statements(document: Any) -> list[Mapping[str, Any]]:
    doc = as_json(document)
    if not isinstance(doc, Mapping):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def _principals(statement: Mapping[str, Any], kind: str) -> list[Any]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return as_list(principal.get(kind)) if isinstance(principal, Mapping) else []


def _web_identity(statement: Mapping[str, Any]) -> Iterator[str]:
    conditions = statement.get("Condition") or {}
    if any(k != "StringEquals" for k in conditions):
        yield "the web-identity trust may only use StringEquals conditions (no wildcards)"
    equals = conditions.get("StringEquals") or {}
    subs = [v for k, v in equals.items() if k.endswith(":sub")]
    auds = [v for k, v in equals.items() if k.endswith(":aud")]
    if len(subs) != 1 or not isinstance(subs[0], str) or not SA_SUBJECT.match(subs[0]):
        yield 'the trust needs StringEquals "<issuer>:sub" = "system:serviceaccount:<ns>:<sa>" (exactly one)'
    if auds != ["sts.amazonaws.com"]:
        yield 'the trust needs StringEquals "<issuer>:aud" = "sts.amazonaws.com"'


@resource_rule(ID01, ROLE, POD_IDENTITY, ADDON)
def trust_scoped(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == ADDON.lower():
        # An EKS add-on's own associations: the namespace is the add-on's, the service account is named.
        for association in as_list(props.get("podIdentityAssociations")):
            account = association.get("serviceAccount")
            if not present(account) or (isinstance(account, str) and "*" in account):
                yield "podIdentityAssociations[].serviceAccount must name exactly one service account"
        return
    if type_.lower() == POD_IDENTITY.lower():
        for key in ("namespace", "serviceAccount"):
            value = props.get(key)
            if not present(value) or (isinstance(value, str) and "*" in value):
                yield f"{key} must name exactly one {key}"
        return
    for s in statements(props.get("assumeRolePolicy")):
        if s.get("Effect") != "Allow":
            continue
        if "*" in _principals(s, "AWS") or s.get("Principal") == "*":
            yield "the trust policy must not allow every principal"
        if _principals(s, "Federated"):
            yield from _web_identity(s)


def trusts(role: Resource, service: str) -> bool:
    return any(
        service in _principals(s, "Service")
        for s in statements(role.props.get("assumeRolePolicy"))
        if s.get("Effect") == "Allow"
    )


def _associated(stack: Stack, role: Resource) -> bool:
    addons = stack.dependents(role, ADDON, via="podIdentityAssociations")
    return bool(stack.dependents(role, POD_IDENTITY, via="roleArn")) or any(
        as_list(a.props.get("podIdentityAssociations")) for a in addons
    )


@stack_rule(ID01)
def pod_identity_associated(stack: Stack) -> list[Violation]:
    return [
        role.violation(ID01, "trusts EKS Pod Identity but no association scopes it to a service account")
        for role in stack.of(ROLE)
        if trusts(role, POD_IDENTITY_SERVICE) and not _associated(stack, role)
    ]


def _statement_problems(s: Mapping[str, Any]) -> Iterator[str]:
    if s.get("Effect") != "Allow":
        return
    if "NotAction" in s or "NotResource" in s:
        yield "Allow with NotAction/NotResource grants more than it names"
    actions = [str(a) for a in as_list(s.get("Action"))]
    if any(a == "*" or a.endswith(":*") for a in actions):
        yield f"Allow of every action ({', '.join(a for a in actions if a.endswith('*'))})"
    if "*" in as_list(s.get("Resource")) and not s.get("Condition"):
        writes = [a for a in actions if not READ_ONLY.match(a)]
        if writes:
            yield f"Allow on Resource * for actions that change things ({', '.join(writes)})"


@resource_rule(ID02, ROLE, ROLE_POLICY, POLICY)
def least_privilege(type_: str, props: Props) -> Iterator[str]:
    documents = [props.get("policy")]
    if type_.lower() == ROLE.lower():
        documents = [p.get("policy") for p in as_list(props.get("inlinePolicies")) if isinstance(p, Mapping)]
    for document in documents:
        for s in statements(document):
            yield from _statement_problems(s)


def _policies_of(stack: Stack, role: Resource) -> list[tuple[str, Any]]:
    """(where, document) for each policy the role carries: inline, RolePolicy, attached Policy."""
    found = [(role.name, p.get("policy")) for p in as_list(role.props.get("inlinePolicies"))]
    found += [(p.name, p.props.get("policy")) for p in stack.dependents(role, ROLE_POLICY, via="role")]
    for attachment in stack.dependents(role, ATTACHMENT, via="role"):
        found += [(p.name, p.props.get("policy")) for p in stack.deps(attachment, POLICY, via="policyArn")]
    return found


def _node_role(stack: Stack, role: Resource) -> Iterator[str]:
    for attachment in stack.dependents(role, ATTACHMENT, via="role"):
        arn = attachment.props.get("policyArn")
        managed = isinstance(arn, str) and not unknown(arn) and arn.startswith("arn:aws:iam::aws:policy/")
        if managed and str(arn).rsplit("/", 1)[-1] not in NODE_POLICIES:
            yield f"the node role must carry only the EKS node policies, not {arn}"
    for where, document in _policies_of(stack, role):
        if any(
            str(a).lower().startswith("s3:") for s in statements(document) for a in as_list(s.get("Action"))
        ):
            yield f"the node role must not grant app permissions (S3, in {where}); give them to pod roles"


def _serving_role(stack: Stack, role: Resource) -> Iterator[str]:
    for where, document in _policies_of(stack, role):
        for s in statements(document):
            if s.get("Effect") == "Allow" and any(S3_WRITE.match(str(a)) for a in as_list(s.get("Action"))):
                yield f"the serving role must only read the models prefix ({where} allows S3 writes)"


def _replicator_role(stack: Stack, role: Resource) -> Iterator[str]:
    for where, document in _policies_of(stack, role):
        for s in statements(document):
            if s.get("Effect") != "Allow" or not any(
                S3_WRITE.match(str(a)) for a in as_list(s.get("Action"))
            ):
                continue
            wide = [
                str(r)
                for r in as_list(s.get("Resource"))
                if not unknown(r) and not MODEL_OBJECTS.match(str(r))
            ]
            if wide:
                allowed = ", ".join(wide)
                yield f"the replicator role may write S3 only under models/ ({where} allows {allowed})"


@stack_rule(ID02)
def role_scopes(stack: Stack) -> list[Violation]:
    found = []
    for role in stack.of(ROLE):
        problems = list(_node_role(stack, role)) if trusts(role, "ec2.amazonaws.com") else []
        if "serving" in role.name.lower():
            problems += _serving_role(stack, role)
        if "replicator" in role.name.lower():
            problems += _replicator_role(stack, role)
        found += [role.violation(ID02, p) for p in problems]
    return found
