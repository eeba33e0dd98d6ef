"""One IAM role for one Kubernetes service account of the EKS cluster, through EKS Pod Identity: the role
trusted for that cluster, namespace and service account only (`AwsContext.pod_identity_trust`), its
inline policy, and the association that hands the role to the service account's pods. The trust and the
association name the same service account by construction.

https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.context import AwsContext


@dataclass(frozen=True, kw_only=True)
class PodIdentityNames:
    """The logical names of the three resources, each its owner's own (renaming one would replace it)."""

    role: str
    policy: str
    association: str


@dataclass(frozen=True)
class PodIdentityRole:
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation


def pod_identity_role(
    context: AwsContext,
    names: PodIdentityNames,
    *,
    cluster_name: str,
    cluster: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str],
    component: str,
    opts: pulumi.ResourceOptions,
    description: str | None = None,
) -> PodIdentityRole:
    """`cluster` is the cluster's name as an Output, so that the association waits for the cluster."""
    role = aws.iam.Role(
        names.role,
        assume_role_policy=context.pod_identity_trust(cluster_name, namespace, service_account),
        description=description,
        tags=context.tags(component),
        opts=opts,
    )
    inline = aws.iam.RolePolicy(names.policy, role=role.id, policy=policy, opts=opts)
    association = aws.eks.PodIdentityAssociation(
        names.association,
        cluster_name=cluster,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        tags=context.tags(component),
        opts=opts,
    )
    return PodIdentityRole(role, inline, association)
