"""Workload identity through EKS Pod Identity: one IAM role per workload service account, trusted only
for that cluster, namespace and service account, and bound to it with a Pod Identity association.

Pods need no annotation: the Pod Identity agent hands credentials to any pod of the associated service
account (AWS SDKs from late 2023 on read them; see docs/aws.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.aws.pod_identity import PodIdentityNames, pod_identity_role
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, IdentityBinding, WorkloadRole


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    context: AwsContext
    cluster_name: str
    cluster: pulumi.Input[str]
    """The cluster's name as an Output, so the associations wait for the cluster."""
    namespace: str
    bucket_arn: pulumi.Input[str]
    bucket_key_arn: pulumi.Input[str]
    replica_prefix: str
    """Where the replicator may write: `models/<model>/` of the one model it copies (`model_prefix`), as
    the other clouds grant it."""


class WorkloadIdentity(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gpu-platform:aws:WorkloadIdentity", name, None, opts)
        self._name, self._args = name, args
        self.roles: dict[WorkloadRole, aws.iam.Role] = {}
        self.bindings: dict[WorkloadRole, IdentityBinding] = {
            role: self._bind(role, sa) for role, sa in SERVICE_ACCOUNTS.items()
        }
        self.register_outputs({f"{role}RoleArn": r.arn for role, r in self.roles.items()})

    def _policy(self, role: WorkloadRole) -> pulumi.Output[str]:
        context = self._args.context

        def render(values: list[str]) -> str:
            bucket, key = values
            if role == "trainer":
                return policies.trainer_policy(bucket, key, context.region)
            if role == "replicator":  # a version another cloud exported is copied in here too
                return policies.replica_policy(bucket, key, context.region, self._args.replica_prefix)
            return policies.serving_policy(bucket, key, context.region, MODELS_PREFIX)

        return pulumi.Output.all(self._args.bucket_arn, self._args.bucket_key_arn).apply(render)

    def _bind(self, role: WorkloadRole, service_account: str) -> IdentityBinding:
        args, base = self._args, f"{self._name}-{role}"
        made = pod_identity_role(
            args.context,
            PodIdentityNames(role=base, policy=f"{base}-policy", association=f"{base}-association"),
            cluster_name=args.cluster_name,
            cluster=args.cluster,
            namespace=args.namespace,
            service_account=service_account,
            policy=self._policy(role),
            component="identity",
            opts=pulumi.ResourceOptions(parent=self),
            description=f"Pod Identity role of {args.namespace}/{service_account}",
        )
        self.roles[role] = made.role
        # The agent hands credentials only to pods started after the association exists.
        return IdentityBinding(service_account=service_account, ready=(made.association, made.policy))
