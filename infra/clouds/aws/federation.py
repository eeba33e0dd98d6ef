"""Keyless trust for a workload of another cloud's cluster (the home cloud's replicator): an IAM OIDC
provider for that cluster's token issuer, and a role that only its one service account may assume with
`sts:AssumeRoleWithWebIdentity`, allowed to read, write and delete under one prefix of the bucket.

No key is stored anywhere: the pod presents a projected service-account token of audience
`sts.amazonaws.com`, which botocore exchanges for the role's credentials (`AWS_WEB_IDENTITY_TOKEN_FILE`,
read again at every refresh) before the token expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import CLOUD, AwsContext
from infra.clouds.base import FederatedAccess, ForeignWorkload, token_path

STS_AUDIENCE = "sts.amazonaws.com"
"""The audience the provider admits and the trust requires: AWS's documented client id for STS."""


@dataclass(frozen=True, kw_only=True)
class FederatedTrustArgs:
    """The foreign workload to trust, and the bucket (with its key) it may use a prefix of."""

    context: AwsContext
    workload: ForeignWorkload
    bucket_arn: pulumi.Input[str]
    bucket_key_arn: pulumi.Input[str]
    """The bucket's KMS key: S3 uses it, on the writer's behalf, for every object it reads or writes."""
    sources: pulumi.Input[Sequence[str]] = ()
    """The public addresses the workload's requests come from (its cluster's NAT): S3 refuses the role's
    requests from anywhere else. Empty: any address."""


class FederatedTrust(pulumi.ComponentResource):
    """The AWS side of one foreign workload's federation; `access` is what its pod needs."""

    access: FederatedAccess

    def __init__(self, name: str, args: FederatedTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:aws:FederatedTrust", name, None, opts)
        context, workload = args.context, args.workload
        child, tags = pulumi.ResourceOptions(parent=self), context.tags("federation")
        issuer = pulumi.Output.from_input(workload.issuer)
        # No thumbprint: IAM then derives the issuer's CA thumbprint itself (or trusts its own CA library),
        # whereas a thumbprint once set stays, even removed, after the issuer changes its certificate.
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=[STS_AUDIENCE], tags=tags, opts=child
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.all(provider.arn, issuer).apply(
                lambda v: policies.web_identity_trust(v[0], v[1], workload.subject, STS_AUDIENCE)
            ),
            description=f"{workload.subject} of the {workload.cloud} cluster, by federation",
            tags=tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(args.bucket_arn, args.bucket_key_arn, args.sources).apply(
                lambda v: policies.replica_policy(v[0], v[1], context.region, workload.prefix, sources=v[2])
            ),
            opts=child,
        )
        self.access = FederatedAccess(
            audience=STS_AUDIENCE,
            env={
                "AWS_ROLE_ARN": role.arn,
                "AWS_WEB_IDENTITY_TOKEN_FILE": token_path(CLOUD),
                "AWS_ROLE_SESSION_NAME": f"{context.stack}-{workload.cloud}-{workload.service_account}",
                # The bucket's region: botocore then calls that region's STS and S3 endpoints.
                "AWS_REGION": context.region,
                "AWS_DEFAULT_REGION": context.region,
            },
            # STS refuses the token until the role trusts it; S3 refuses writes until the policy exists.
            ready=(role, policy),
        )
        self.register_outputs({"providerArn": provider.arn, "roleArn": role.arn})
