"""Customer-managed KMS keys, one per purpose, each with yearly rotation and an alias.

Separate keys keep each key policy minimal (only the logs key trusts CloudWatch Logs, only the disks key
trusts Auto Scaling) and let a key be disabled without taking down unrelated data.

The disks key names Auto Scaling's service-linked role, and KMS refuses a key policy whose principal does
not exist (MalformedPolicyDocumentException). That role appears only once an account first uses Auto
Scaling, so on a fresh account the program creates it first. The check runs at each `pulumi up`, and once
the role exists the program no longer declares it: it is the account's, not the stack's, and other Auto
Scaling groups of the account depend on it. It is retained on delete, so dropping it from the stack (the
run after it was created, or a destroy) never deletes it from the account. The alternative, a `preflight`
failure with `aws iam create-service-linked-role`, would leave a fresh account's first `up` failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext

KeyPurpose = Literal["secrets", "storage", "registry", "logs", "disks"]
PURPOSES: dict[KeyPurpose, str] = {
    "secrets": "EKS envelope encryption of Kubernetes secrets",
    "storage": "SSE-KMS of the data, checkpoint and model bucket",
    "registry": "ECR image encryption",
    "logs": "CloudWatch log groups (EKS control plane, VPC flow logs)",
    "disks": "EBS root volumes of the EKS nodes",
}


def needs_service_linked_role(existing_names: Sequence[str]) -> bool:
    """Whether the account still lacks Auto Scaling's service-linked role (exact name, not a suffix)."""
    return policies.AUTOSCALING_ROLE not in existing_names


@dataclass(frozen=True, kw_only=True)
class KeysArgs:
    context: AwsContext
    alias_prefix: str
    """`alias/<prefix>/<purpose>`; aliases make the keys findable in the console and CLI."""
    deletion_window_days: int
    protect: bool


class Keys(pulumi.ComponentResource):
    """The platform's CMKs; `arn(purpose)` is what other components encrypt with."""

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:Keys", name, None, opts)
        context = args.context
        self.keys: dict[KeyPurpose, aws.kms.Key] = {}
        # Only the disks key names a principal that may not exist yet.
        principals: dict[KeyPurpose, list[pulumi.Resource]] = {"disks": self._autoscaling_role(name, context)}
        for purpose, description in PURPOSES.items():
            policy = pulumi.Output.all(context.partition, context.account_id).apply(
                _policy_for(purpose, context.region)
            )
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"gpu-platform {context.stack}: {description}",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                tags=context.tags("kms"),
                opts=pulumi.ResourceOptions(
                    parent=self, protect=args.protect, depends_on=principals.get(purpose, [])
                ),
            )
            aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{args.alias_prefix}/{purpose}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[purpose] = key
        self.register_outputs({f"{p}KeyArn": k.arn for p, k in self.keys.items()})

    def _autoscaling_role(self, name: str, context: AwsContext) -> list[pulumi.Resource]:
        """Auto Scaling's service-linked role, created when the account does not have it yet."""
        found = aws.iam.get_roles(
            name_regex=f"^{policies.AUTOSCALING_ROLE}$",
            path_prefix=policies.AUTOSCALING_ROLE_PATH,
            opts=pulumi.InvokeOptions(provider=context.provider),
        )
        if not needs_service_linked_role(found.names):
            return []
        role = aws.iam.ServiceLinkedRole(
            f"{name}-autoscaling-role",
            aws_service_name=policies.AUTOSCALING_SERVICE,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return [role]

    def arn(self, purpose: KeyPurpose) -> pulumi.Output[str]:
        arn: pulumi.Output[str] = self.keys[purpose].arn
        return arn


def _policy_for(purpose: KeyPurpose, region: str) -> Callable[[list[str]], str]:
    def render(values: list[str]) -> str:
        partition, account_id = values
        return policies.key_policy(purpose, partition, account_id, region)

    return render
