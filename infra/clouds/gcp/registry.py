"""The Artifact Registry Docker repository for the training image: immutable tags, CMEK, readable by the
nodes, pushed to with the deployer's short-lived OAuth token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.base import RegistryAuth
from infra.clouds.gcp.context import children, protected

IMAGE = "trainer"
TOKEN_USERNAME = "oauth2accesstoken"
"""The user name Artifact Registry expects with an OAuth access token as the password."""


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs:
    """Where the repository lives, its key and the key's grant, and who pulls from it."""

    project: str
    region: str
    repository_id: str
    kms_key: pulumi.Input[str]
    key_grant: pulumi.Resource
    """The Artifact Registry agent's grant on the key: repository creation fails without it."""
    reader: pulumi.Input[str]
    """The IAM member that pulls images: the node service account."""
    labels: Mapping[str, str]
    protect: bool


class ContainerRegistry(pulumi.ComponentResource):
    """The repository the training image and the mirrored images go to; `auth` is the builder's push login."""

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:Registry", name, None, opts)
        child = children(self, opts)
        repo = gcp.artifactregistry.Repository(
            f"{name}-repo",
            project=args.project,
            location=args.region,
            repository_id=args.repository_id,
            format="DOCKER",
            mode="STANDARD_REPOSITORY",
            docker_config={"immutable_tags": True},
            kms_key_name=args.kms_key,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions.merge(
                protected(child, args.protect), pulumi.ResourceOptions(depends_on=[args.key_grant])
            ),
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-node-reader",
            project=args.project,
            location=args.region,
            repository=repo.repository_id,
            role="roles/artifactregistry.reader",
            member=args.reader,
            opts=child,
        )
        self.repository_id: pulumi.Output[str] = repo.repository_id
        """The repository's id, once it exists: what a grant on the repository names."""
        self.host = pulumi.Output.from_input(f"{args.region}-docker.pkg.dev")
        self.repository = pulumi.Output.concat(repo.registry_uri, "/", IMAGE)
        token = gcp.organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.auth = RegistryAuth(
            address=self.host, username=TOKEN_USERNAME, password=pulumi.Output.secret(token.access_token)
        )
        self.register_outputs({"host": self.host, "repository": self.repository})
