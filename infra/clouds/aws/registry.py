"""The ECR repository for the trainer image (immutable tags, scan on push, KMS) and short-lived push
credentials from `GetAuthorizationToken` (12 hours), never a stored key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.base import BUILD_TAG_PREFIX, Registry, RegistryAuth


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs:
    context: AwsContext
    repository_name: str
    key_arn: pulumi.Input[str]
    protect: bool


class ContainerRegistry(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gpu-platform:aws:Registry", name, None, opts)
        context = args.context
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.key_arn}],
            force_delete=False,
            tags=context.tags("registry"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=policies.ecr_lifecycle(BUILD_TAG_PREFIX),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The output form takes the repository's registry id as input, so the token is fetched only
        # once the repository exists (and is part of the dependency graph).
        token = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, region=context.region, opts=context.invoke_opts()
        )
        url: pulumi.Output[str] = self.repository.repository_url
        self.host: pulumi.Output[str] = url.apply(lambda u: u.split("/", 1)[0])
        self.registry = Registry(
            host=self.host,
            repository=url,
            auth=RegistryAuth(
                # The token's proxy endpoint is a URL; the image builder wants the bare registry host.
                address=token.proxy_endpoint.apply(lambda e: e.removeprefix("https://")),
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
        )
        self.register_outputs({"repositoryUrl": url})
