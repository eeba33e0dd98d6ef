"""Pull access to the trainer repository for a workload of the cluster that hands short-lived, read-only
credentials to clusters of other clouds (MultiKueue's token refresher: the workers run the manager's Jobs
unchanged, so they pull the trainer image from here).

An IAM role of its own, trusted by EKS Pod Identity for that cluster, namespace and service account only
(`policies.pod_identity_trust`) and associated with it, whose one inline policy reads the trainer
repository and nothing else (`policies.ecr_pull_policy`). The pod calls `ecr:GetAuthorizationToken` with
the role's credentials, which the Pod Identity agent hands it, and hands out the token (12 hours long,
user `AWS`), with which ECR allows exactly what the role may.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.aws.pod_identity import PodIdentityNames, pod_identity_role
from infra.clouds.base import IdentityBinding, RegistryPull


@dataclass(frozen=True, kw_only=True)
class RegistryPullerArgs:
    """The workload to trust, the cluster it runs on, and the repository it may read."""

    context: AwsContext
    cluster_name: str
    cluster: pulumi.Input[str]
    """The cluster's name as an Output, so the association waits for the cluster."""
    namespace: str
    service_account: str
    repository: aws.ecr.Repository
    host: pulumi.Output[str]


class RegistryPuller(pulumi.ComponentResource):
    """The puller's role, its grant and its association; `pull` is what the workload needs."""

    pull: RegistryPull

    def __init__(self, name: str, args: RegistryPullerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:aws:RegistryPuller", name, None, opts)
        context, child = args.context, pulumi.ResourceOptions(parent=self)
        ns, sa = args.namespace, args.service_account
        made = pod_identity_role(
            context,
            PodIdentityNames(role=f"{name}-role", policy=f"{name}-policy", association=f"{name}-association"),
            cluster_name=args.cluster_name,
            cluster=args.cluster,
            namespace=ns,
            service_account=sa,
            policy=args.repository.arn.apply(policies.ecr_pull_policy),
            component="registry",
            opts=child,
            description=f"Pod Identity role of {ns}/{sa}: pulls of the trainer repository",
        )
        self.pull = RegistryPull(
            host=args.host,
            token={"region": context.region, "registryId": args.repository.registry_id},
            # The agent hands credentials only to pods started after the association exists, and ECR
            # refuses the token's pulls until the policy does.
            binding=IdentityBinding(service_account=sa, ready=(made.association, made.policy)),
        )
        self.register_outputs({"roleArn": made.role.arn})
