"""Keyless trust for the workloads of another cloud's cluster: one IAM OIDC provider for that cluster's
token issuer, and per workload a role that only its one service account may assume with
`sts:AssumeRoleWithWebIdentity`. The home cloud's replicator's role may read, write and delete under one
prefix of the bucket (`replicator`); MultiKueue's token refresher's role may only sign in to this cluster's
API server, through an EKS access entry that puts it in one Kubernetes group (`api_client`).

IAM holds one OIDC provider per issuer URL in an account (a second create fails with
EntityAlreadyExists), so the platform builds one `FederatedTrust` per foreign cloud and asks it for each
workload's role.

No key is stored anywhere: the pod presents a projected service-account token of audience
`sts.amazonaws.com`, which botocore exchanges for the role's credentials (`AWS_WEB_IDENTITY_TOKEN_FILE`,
read again at every refresh) before the token expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumiverse_time as time

from infra.catalog import Cloud
from infra.clouds.aws import policies
from infra.clouds.aws.context import CLOUD, AwsContext
from infra.clouds.base import ApiAccess, FederatedAccess, ForeignWorkload, RbacSubject, token_path

ROLE_PROPAGATION = "45s"
"""How long after a new role EKS accepts an access entry for it (observed: 10 to 30 seconds)."""
STS_AUDIENCE = "sts.amazonaws.com"
"""The audience the provider admits and the trust requires: AWS's documented client id for STS."""
API_GROUP = "gpu-platform:multikueue"
"""The Kubernetes group the refresher's access entry puts its role in, and the only subject the cluster's
RBAC binds for MultiKueue. EKS refuses access-entry groups that start with `system:` (and reserves the
`eks:`, `aws:`, `amazon:` and `iam:` prefixes for usernames), so it is our project's own prefix."""


@dataclass(frozen=True, kw_only=True)
class FederatedTrustArgs:
    """The foreign cluster whose tokens this account trusts."""

    context: AwsContext
    cloud: Cloud
    """The cloud whose cluster issues the tokens: one trust, and one provider, per foreign cloud."""
    issuer: pulumi.Input[str]
    """That cluster's service-account token issuer, exactly as its tokens carry it in `iss`."""


class FederatedTrust(pulumi.ComponentResource):
    """The AWS side of one foreign cluster's federation: its issuer's OIDC provider, created once, and the
    roles its workloads become (`replicator`, `api_client`), each trusting only that workload's subject."""

    def __init__(self, name: str, args: FederatedTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:aws:FederatedTrust", name, None, opts)
        self._name, self._context, self.cloud = name, args.context, args.cloud
        self._child = pulumi.ResourceOptions(parent=self)
        self.issuer = pulumi.Output.from_input(args.issuer)
        # No thumbprint: IAM then derives the issuer's CA thumbprint itself (or trusts its own CA library),
        # whereas a thumbprint once set stays, even removed, after the issuer changes its certificate.
        self.provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.issuer,
            client_id_lists=[STS_AUDIENCE],
            tags=self._context.tags("federation"),
            opts=self._child,
        )
        self.register_outputs({"providerArn": self.provider.arn})

    def replicator(
        self,
        workload: ForeignWorkload,
        *,
        bucket_arn: pulumi.Input[str],
        bucket_key_arn: pulumi.Input[str],
        sources: pulumi.Input[Sequence[str]] = (),
    ) -> FederatedAccess:
        """A role for `workload` that may read, write and delete under its prefix of the bucket, with
        `bucket_key_arn` (S3 uses it, on the writer's behalf, for every object), from `sources` only (the
        workload's cluster's NAT: S3 refuses the role's requests from anywhere else; empty: any address)."""
        context = self._context
        role = self._role("role", workload, "by federation")
        policy = aws.iam.RolePolicy(
            f"{self._name}-policy",
            role=role.id,
            policy=pulumi.Output.all(bucket_arn, bucket_key_arn, sources).apply(
                lambda v: policies.replica_policy(v[0], v[1], context.region, workload.prefix, sources=v[2])
            ),
            opts=self._child,
        )
        return FederatedAccess(
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

    def api_client(self, workload: ForeignWorkload, cluster: aws.eks.Cluster) -> ApiAccess:
        """A role for `workload` that may only sign in to `cluster`'s API server, as `API_GROUP`.

        The role has no permission policy: the workload calls `AssumeRoleWithWebIdentity` (which the
        role's trust allows, and which needs no permission of its own) and then presigns
        `sts:GetCallerIdentity` with the session (which needs none) as its EKS token, as `aws eks
        get-token` does. EKS maps the session to the role's access entry: a STANDARD entry of type role
        authenticates as `arn:aws:sts::<account>:assumed-role/<role>/<session>` in the entry's groups. No
        access policy is associated: the cluster's own RBAC grants the group what MultiKueue needs."""
        context = self._context
        role = self._role("api-role", workload, f"signs in to the {context.stack} EKS API by federation")
        # EKS refuses an access entry for a role IAM has not propagated yet ("The specified principalArn
        # is invalid: invalid principal"), for some 10 to 30 seconds after the role is created.
        clock = time.Provider(f"{self._name}-api-time", opts=pulumi.ResourceOptions(parent=self))
        propagated = time.Sleep(
            f"{self._name}-api-role-propagated",
            create_duration=ROLE_PROPAGATION,
            opts=pulumi.ResourceOptions(parent=self, provider=clock, depends_on=[role]),
        )
        entry = aws.eks.AccessEntry(
            f"{self._name}-api-access",
            cluster_name=cluster.name,
            principal_arn=role.arn,
            type="STANDARD",
            kubernetes_groups=[API_GROUP],
            tags=context.tags("federation"),
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[propagated])),
        )
        return ApiAccess(
            server=cluster.endpoint,
            ca_data=cluster.certificate_authority.data,
            audience=STS_AUDIENCE,
            token={
                "roleArn": role.arn,
                "clusterName": cluster.name,
                # The STS endpoint the token is presigned for: the cluster's region, whose EKS checks it.
                "region": context.region,
                "tokenPath": token_path(CLOUD),
            },
            subject=RbacSubject(kind="Group", name=API_GROUP),
            # STS refuses the projected token until the role trusts it; EKS refuses the minted one until
            # the role has its access entry.
            ready=(role, entry),
        )

    def dns01_solver(
        self, workload: ForeignWorkload, policy: pulumi.Input[str]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role for `workload` (cert-manager on the trust's cluster) whose one inline policy is `policy`,
        the zone's DNS-01 grant (`infra/clouds/aws/dns01.py`)."""
        role = self._role("dns01-role", workload, "solves ACME DNS-01 in the serving zone by federation")
        grant = aws.iam.RolePolicy(
            f"{self._name}-dns01-policy", role=role.id, policy=policy, opts=self._child
        )
        return role, grant

    def _role(self, suffix: str, workload: ForeignWorkload, purpose: str) -> aws.iam.Role:
        """A role only `workload`'s subject, with this trust's issuer and audience, may assume."""
        if workload.cloud != self.cloud:
            raise ValueError(f"{workload.subject} runs on {workload.cloud}, not on {self.cloud}")
        issuer = self.issuer

        def trust(values: list[str]) -> str:
            provider_arn, trusted, asked = values
            if asked != trusted:
                # One provider per cloud: a second issuer there would need its own, which this trust lacks.
                raise ValueError(f"{workload.subject} ({workload.cloud}) is issued by {asked}, not {trusted}")
            return policies.web_identity_trust(provider_arn, trusted, workload.subject, STS_AUDIENCE)

        return aws.iam.Role(
            f"{self._name}-{suffix}",
            assume_role_policy=pulumi.Output.all(self.provider.arn, issuer, workload.issuer).apply(trust),
            description=f"{workload.subject} of the {workload.cloud} cluster, {purpose}",
            tags=self._context.tags("federation"),
            opts=self._child,
        )
