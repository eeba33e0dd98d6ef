"""What every AWS component shares besides its own args: the explicit provider, the account id and
partition it resolves to, and the tags every resource carries."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.catalog import Cloud
from infra.clouds.aws import policies

CLOUD: Cloud = "aws"


@dataclass(frozen=True, kw_only=True)
class AwsContext:
    """The explicit provider and the account it resolves to, shared by the AWS components."""

    stack: str
    region: str
    provider: aws.Provider
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]

    def tags(self, component: str) -> dict[str, str]:
        return naming.tags(self.stack, CLOUD, component)

    def managed_policy(self, name: str) -> pulumi.Output[str]:
        """The ARN of an AWS-managed IAM policy in this account's partition (aws, aws-cn, aws-us-gov)."""
        return pulumi.Output.concat("arn:", self.partition, f":iam::aws:policy/{name}")

    def pod_identity_trust(
        self, cluster_name: str, namespace: str, service_account: str
    ) -> pulumi.Output[str]:
        """EKS Pod Identity trust for one service account of this account's cluster `cluster_name`."""
        return pulumi.Output.all(self.partition, self.account_id).apply(
            lambda v: policies.pod_identity_trust(
                f"arn:{v[0]}:eks:{self.region}:{v[1]}:cluster/{cluster_name}", namespace, service_account
            )
        )

    def invoke_opts(self) -> pulumi.InvokeOutputOptions:
        # Invokes do not inherit a provider from a parent component, and the stack disables defaults.
        return pulumi.InvokeOutputOptions(provider=self.provider)


def make_context(name: str, *, stack: str, region: str, parent: pulumi.Resource) -> AwsContext:
    """The stack's `aws.Provider` (`<name>-provider`, a child of `parent`) and the account it resolves to."""
    provider = aws.Provider(f"{name}-provider", region=region, opts=pulumi.ResourceOptions(parent=parent))
    opts = pulumi.InvokeOutputOptions(provider=provider)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    return AwsContext(
        stack=stack,
        region=region,
        provider=provider,
        account_id=identity.account_id,
        partition=partition.partition,
    )
