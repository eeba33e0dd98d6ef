"""Keyless trust for a workload of another cloud's cluster (the home cloud's replicator): a workload
identity pool whose OIDC provider trusts that cluster's token issuer and admits only its one service
account, and a bucket grant, limited to one prefix, to that federated principal itself: no Google service
account to impersonate, no key.

The pod presents a projected service-account token whose audience is the provider's full resource name.
google-auth reads the `external_account` configuration mounted beside it (`FederatedAccess.files`) and
exchanges the token at the Security Token Service for a federated access token, which Cloud Storage takes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from infra.catalog import Cloud
from infra.clouds.base import FederatedAccess, ForeignWorkload, federated_dir, token_path
from infra.clouds.gcp.context import CLOUD, children
from infra.clouds.gcp.identity import prefix_condition
from infra.naming import short_hash

IAM_HOST = "//iam.googleapis.com/"
"""Prefix of a pool provider's full resource name: the token's audience and the STS exchange's."""
STS_TOKEN_URL = "https://sts.googleapis.com/v1/token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
OBJECT_USER = "roles/storage.objectUser"
"""Objects only: get, list, create, update and delete them (and their multipart uploads); no bucket or
object IAM, unlike `roles/storage.objectAdmin`."""
CREDENTIALS = "credentials.json"
POOL_ID_LENGTH = 32


def pool_id(home: Cloud, stack: str, issuer: str, created: int) -> str:
    """The pool's (and its provider's) id: 4-32 characters of `[a-z0-9-]`, `<home cloud>-<stack>-<hash>`
    of the issuer and the trust's creation time. A deleted pool's id stays taken for about 30 days (soft
    delete), so a trust made again (a target enabled again, the home cloud changed back) or for a new
    foreign cluster (a new issuer) needs a new one. It starts with the home cloud, which is never `gcp`
    here: `gcp-` is reserved."""
    digest = short_hash(issuer, str(created))
    stem = re.sub(r"[^a-z0-9-]", "-", f"{home}-{stack}".lower())[: POOL_ID_LENGTH - len(digest) - 1]
    return f"{stem.strip('-')}-{digest}"


def credential_config(provider_name: str) -> str:
    """google-auth's `external_account` configuration: the token file exchanged at STS for the pool
    principal's own federated token (no `service_account_impersonation_url`)."""
    return json.dumps(
        {
            "type": "external_account",
            "audience": f"{IAM_HOST}{provider_name}",
            "subject_token_type": JWT_TOKEN_TYPE,
            "token_url": STS_TOKEN_URL,
            "credential_source": {"file": token_path(CLOUD), "format": {"type": "text"}},
        },
        indent=2,
        sort_keys=True,
    )


@dataclass(frozen=True, kw_only=True)
class FederatedTrustArgs:
    """The foreign workload to trust, and the project and bucket it may use a prefix of."""

    project: str
    stack: str
    workload: ForeignWorkload
    bucket: pulumi.Input[str]


class FederatedTrust(pulumi.ComponentResource):
    """The GCP side of one foreign workload's federation; `access` is what its pod needs."""

    access: FederatedAccess

    def __init__(self, name: str, args: FederatedTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:FederatedTrust", name, None, opts)
        child, workload = children(self, opts), args.workload
        # Set once, when the trust is created: the pool's id is new each time the trust is.
        created = pulumiverse_time.Static(f"{name}-created", opts=child)
        ident = pulumi.Output.all(workload.issuer, created.unix).apply(
            lambda v: pool_id(workload.cloud, args.stack, v[0], v[1])
        )
        label = f"{workload.cloud}: {workload.service_account}"[:POOL_ID_LENGTH]
        about = f"{workload.subject} of the {workload.cloud} cluster of stack {args.stack}"
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=args.project,
            workload_identity_pool_id=ident,
            display_name=label,
            description=about,
            opts=child,
        )
        # No allowed audiences: the token must then name this provider's full resource name.
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            project=args.project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=ident,
            display_name=label,
            description=about,
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=workload.issuer),
            attribute_mapping={"google.subject": "assertion.sub"},
            attribute_condition=f"assertion.sub == '{workload.subject}'",
            opts=child,
        )
        binding = gcp.storage.BucketIAMMember(
            f"{name}-objects",
            bucket=args.bucket,
            role=OBJECT_USER,
            member=pulumi.Output.concat(
                "principal://iam.googleapis.com/", pool.name, "/subject/", workload.subject
            ),
            condition=pulumi.Output.from_input(args.bucket).apply(
                lambda bucket: prefix_condition(bucket, workload.prefix, "Read, write, delete and list")
            ),
            opts=child,
        )
        self.access = FederatedAccess(
            audience=pulumi.Output.concat(IAM_HOST, provider.name),
            env={
                "GOOGLE_APPLICATION_CREDENTIALS": f"{federated_dir(CLOUD)}/{CREDENTIALS}",
                # Named, so google-auth does not ask STS and Resource Manager for it at start.
                "GOOGLE_CLOUD_PROJECT": args.project,
            },
            files={CREDENTIALS: provider.name.apply(credential_config)},
            # STS refuses the token until the provider exists; Cloud Storage refuses it until the grant does.
            ready=(provider, binding),
        )
        self.register_outputs({"pool": pool.name, "provider": provider.name})
