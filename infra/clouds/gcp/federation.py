"""Keyless trust for the workloads of another cloud's cluster: one workload identity pool whose OIDC
provider trusts that cluster's token issuer and admits exactly the service accounts this cloud was asked
to trust (the home cloud's replicator, MultiKueue's token refresher), and what each is granted.

The replicator (`federate`) gets a bucket grant, limited to one prefix, to its federated principal itself:
no Google service account to impersonate, no key. Its pod presents a projected service-account token whose
audience is the provider's full resource name; google-auth reads the `external_account` configuration
mounted beside it (`FederatedAccess.files`) and exchanges the token at the Security Token Service for a
federated access token, which Cloud Storage takes. The refresher's sign-in grant is `api_access.py`'s.

The pool and provider are one per issuer: a second pool for the same cluster would get the same id (the
same issuer, created in the same second) and fail at apply, so every trusted workload of that cluster shares
them, and the provider's condition names them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

from infra.catalog import Cloud
from infra.clouds.base import FederatedAccess, ForeignWorkload, federated_dir, token_path
from infra.clouds.gcp.context import CLOUD, children
from infra.clouds.gcp.identity import OBJECT_USER, REPLICA_ACCESS, prefix_condition
from infra.naming import short_hash

IAM_HOST = "//iam.googleapis.com/"
"""Prefix of a pool provider's full resource name: the token's audience and the STS exchange's."""
STS_TOKEN_URL = "https://sts.googleapis.com/v1/token"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
CREDENTIALS = "credentials.json"
POOL_ID_LENGTH = 32
SUBJECT = re.compile(r"system:serviceaccount:[a-z0-9][a-z0-9.-]*:[a-z0-9][a-z0-9.-]*")
"""A Kubernetes service account's `sub`: nothing that could end a quoted CEL string."""


def pool_id(home: Cloud, stack: str, issuer: str, created: int) -> str:
    """The pool's (and its provider's) id: 4-32 characters of `[a-z0-9-]`, `<home cloud>-<stack>-<hash>`
    of the issuer and the trust's creation time. A deleted pool's id stays taken for about 30 days (soft
    delete), so a trust made again (a target enabled again, the home cloud changed back) or for a new
    foreign cluster (a new issuer) needs a new one. It starts with the home cloud, which is never `gcp`
    here: `gcp-` is reserved."""
    digest = short_hash(issuer, str(created))
    stem = re.sub(r"[^a-z0-9-]", "-", f"{home}-{stack}".lower())[: POOL_ID_LENGTH - len(digest) - 1]
    return f"{stem.strip('-')}-{digest}"


def subjects_condition(subjects: Sequence[str]) -> str:
    """The provider's attribute condition: a token is exchanged only if its `sub` is one of `subjects`, the
    service accounts this cloud was asked to trust (sorted, so the text does not depend on call order)."""
    unique = sorted(set(subjects))
    if not unique:
        raise ValueError("a provider must admit at least one subject")
    odd = [s for s in unique if not SUBJECT.fullmatch(s)]
    if odd:
        raise ValueError(f"not Kubernetes service-account subjects: {odd}")
    if len(unique) == 1:
        return f"assertion.sub == '{unique[0]}'"
    return "assertion.sub in [" + ", ".join(f"'{s}'" for s in unique) + "]"


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
    """The foreign cluster to trust: its cloud and token issuer, and the project the pool lives in."""

    project: str
    stack: str
    cloud: Cloud
    """The cloud whose cluster it is: one cluster a cloud, so one issuer a cloud."""
    issuer: pulumi.Input[str]


class FederatedTrust(pulumi.ComponentResource):
    """The GCP side of one foreign cluster's federation: its pool and provider, and a grant for each of its
    workloads this cloud trusts (`federate`, `api_access.admit_api`). The provider's condition is written
    once the program has declared every workload (its Outputs resolve only after the program returns), so
    it admits exactly those; a workload trusted later still would be refused, and raises instead."""

    def __init__(self, name: str, args: FederatedTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:FederatedTrust", name, None, opts)
        self.name, self.args = name, args
        self.child = children(self, opts)
        self._subjects: list[str] = []
        self._issuers: list[pulumi.Input[str]] = []
        self._sealed = False
        self._federated: FederatedAccess | None = None
        # Set once, when the trust is created: the pool's id is new each time the trust is.
        created = pulumiverse_time.Static(f"{name}-created", opts=self.child)
        ident = pulumi.Output.all(args.issuer, created.unix).apply(
            lambda v: pool_id(args.cloud, args.stack, v[0], v[1])
        )
        label = f"{args.cloud}: {args.stack} cluster"[:POOL_ID_LENGTH]
        about = f"Service accounts of the {args.cloud} cluster of stack {args.stack}"
        self.pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=args.project,
            workload_identity_pool_id=ident,
            display_name=label,
            description=about,
            opts=self.child,
        )
        # Written after the program has declared every workload of this cluster (`principal`).
        condition: pulumi.Output[str] = pulumi.Output.from_input(True).apply(self._condition)
        # No allowed audiences: the token must then name this provider's full resource name.
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            project=args.project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=ident,
            display_name=label,
            description=about,
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=args.issuer),
            attribute_mapping={"google.subject": "assertion.sub"},
            attribute_condition=condition,
            opts=self.child,
        )
        self.audience: pulumi.Output[str] = pulumi.Output.concat(IAM_HOST, self.provider.name)
        """The provider's full resource name: the audience of every trusted workload's token."""
        self.register_outputs({"pool": self.pool.name, "provider": self.provider.name})

    def principal(self, workload: ForeignWorkload) -> pulumi.Output[str]:
        """Admit `workload` through the provider and return its federated principal, which IAM grants name."""
        if workload.cloud != self.args.cloud:
            raise ValueError(f"{workload.subject} runs on {workload.cloud}, not on {self.args.cloud}")
        if workload.subject not in self._subjects:
            if self._sealed:
                raise RuntimeError(
                    f"{workload.subject} trusted after the {self.name} provider's condition was written"
                )
            self._subjects.append(workload.subject)
        same = workload.issuer is self.args.issuer or (
            isinstance(workload.issuer, str) and workload.issuer == self.args.issuer
        )
        if not same:  # compared once resolved, when the condition is written
            self._issuers.append(workload.issuer)
        return pulumi.Output.concat(
            "principal://iam.googleapis.com/", self.pool.name, "/subject/", workload.subject
        )

    def _condition(self, _: bool) -> pulumi.Output[str]:
        self._sealed = True
        subjects = list(self._subjects)
        # Every workload of the cluster must carry its one issuer, the one the provider trusts.
        return pulumi.Output.all(self.args.issuer, *self._issuers).apply(
            lambda issuers: _checked_condition(self.name, issuers, subjects)
        )

    def federate(self, workload: ForeignWorkload, bucket: pulumi.Input[str]) -> FederatedAccess:
        """Grant `workload` (the replicator) its prefix of `bucket`, and say what its pod needs."""
        if self._federated is not None:
            raise ValueError(f"{self.name} already federates a workload of its cluster (the replicator)")
        binding = gcp.storage.BucketIAMMember(
            f"{self.name}-objects",
            bucket=bucket,
            role=OBJECT_USER,
            member=self.principal(workload),
            condition=pulumi.Output.from_input(bucket).apply(
                lambda name: prefix_condition(name, workload.prefix, REPLICA_ACCESS)
            ),
            opts=self.child,
        )
        self._federated = FederatedAccess(
            audience=self.audience,
            env={
                "GOOGLE_APPLICATION_CREDENTIALS": f"{federated_dir(CLOUD)}/{CREDENTIALS}",
                # Named, so google-auth does not ask STS and Resource Manager for it at start.
                "GOOGLE_CLOUD_PROJECT": self.args.project,
            },
            files={CREDENTIALS: self.provider.name.apply(credential_config)},
            # STS refuses the token until the provider exists; Cloud Storage refuses it until the grant does.
            ready=(self.provider, binding),
        )
        return self._federated


def _checked_condition(trust: str, issuers: Sequence[str], subjects: Sequence[str]) -> str:
    if len(set(issuers)) != 1:
        raise ValueError(f"{trust}: one cluster, one issuer; its workloads carry {sorted(set(issuers))}")
    return subjects_condition(subjects)
