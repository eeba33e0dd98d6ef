"""Pull access to the trainer repository for a workload of the cluster that hands short-lived, read-only
credentials to clusters of other clouds (MultiKueue's token refresher: the workers run the manager's Jobs
unchanged, so they pull the trainer image from here).

A Google service account of its own, which only that Kubernetes service account may act as through GKE
Workload Identity (Workload Identity User on that account, for `<project>.svc.id.goog[<ns>/<ksa>]`), and
which may read the trainer's repository and nothing else (Artifact Registry Reader on the repository, not
on the project). That repository is the narrowest scope Artifact Registry's IAM takes: the account reads
every image in it (the trainer and the upstream images mirrored beside it), none elsewhere.

The pod asks the GKE metadata server for the account's access token, with which the account mints itself a
fresh hour-long one (IAM Credentials `generateAccessToken`: Token Creator on itself, nothing else), since
the metadata server keeps handing out a cached token until about five minutes before it expires; it hands
that out as the password of `oauth2accesstoken`. The repository's key needs no grant: Artifact
Registry's service agent decrypts for whoever may read
(cloud.google.com/artifact-registry/docs/access-control,
cloud.google.com/artifact-registry/docs/cmek).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.base import IdentityBinding, RegistryPull
from infra.clouds.gcp.context import account_id, children
from infra.clouds.gcp.identity import GSA_ANNOTATION, WORKLOAD_IDENTITY_USER, workload_member
from infra.clouds.gcp.registry import TOKEN_USERNAME

READER = "roles/artifactregistry.reader"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
"""Download artifacts (and list and read their metadata) in the repository it is granted on; no writes."""


@dataclass(frozen=True, kw_only=True)
class RegistryPullerArgs:
    """The workload to trust, the repository it may read, and the cluster whose identity pool it binds to."""

    project: str
    stack: str
    region: str
    namespace: str
    service_account: str
    repository_id: pulumi.Input[str]
    host: pulumi.Output[str]
    cluster: pulumi.Resource
    """The workload identity pool exists only once the cluster does; binding to it earlier fails."""


class RegistryPuller(pulumi.ComponentResource):
    """The puller's service account, its one trust and its one grant; `pull` is what the workload needs."""

    pull: RegistryPull

    def __init__(self, name: str, args: RegistryPullerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:RegistryPuller", name, None, opts)
        child = children(self, opts)
        after_cluster = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[args.cluster]))
        ns, ksa = args.namespace, args.service_account
        account = gcp.serviceaccount.Account(
            f"{name}-account",
            project=args.project,
            # 6-30 characters; the namespace too, since the service account is unique only with it.
            account_id=account_id(args.stack, f"pull-{ns}-{ksa}"),
            display_name=f"{ns}/{ksa} of {args.stack} (trainer image pulls)",
            description=(
                f"{ns}/{ksa} of the {args.stack} GKE cluster, minting {TOKEN_USERNAME} tokens that pull "
                "the trainer's repository for other clouds' clusters; it may read that repository only"
            ),
            opts=child,
        )
        trust = gcp.serviceaccount.IAMMember(
            f"{name}-wi",
            service_account_id=account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=workload_member(args.project, ns, ksa),
            opts=after_cluster,
        )
        # The metadata server keeps handing out its cached token until about five minutes before it
        # expires; the account mints itself a fresh hour with it (training/trainer/registry_tokens.py).
        renew = gcp.serviceaccount.IAMMember(
            f"{name}-self-token",
            service_account_id=account.name,
            role=TOKEN_CREATOR,
            member=account.member,
            opts=child,
        )
        grant = gcp.artifactregistry.RepositoryIamMember(
            f"{name}-reader",
            project=args.project,
            location=args.region,
            repository=args.repository_id,
            role=READER,
            member=account.member,
            opts=child,
        )
        self.pull = RegistryPull(
            host=args.host,
            token={"serviceAccount": account.email},
            binding=IdentityBinding(
                service_account=ksa,
                annotations={GSA_ANNOTATION: account.email},
                # The metadata server has no token for the pod until the trust exists, IAM Credentials
                # mints none until the account may, and the repository refuses a token until the grant.
                ready=(trust, renew, grant),
            ),
        )
        self.register_outputs({"account": account.email})
