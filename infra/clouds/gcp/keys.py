"""Customer-managed keys: one key ring in the region and one rotating key per use, each usable only by the
Google service agent that encrypts with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.context import children, protected
from infra.clouds.settle import settle

KeyUse = Literal["gke", "gcs", "registry", "disk"]
CREATED_LATER: tuple[KeyUse, ...] = ("gke", "disk")
"""Uses whose service agent (GKE's `container-engine-robot`, Compute Engine's `compute-system`) Google
creates some time after the API is enabled, with no call to create it first; a grant to it fails with
"service account does not exist" until then. The GCS and Artifact Registry agents are created explicitly."""
AGENT_DELAY = "1m"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, kw_only=True)
class KeysArgs:
    """Where the keys live, how often they rotate, and what each agent's grant must wait for."""

    project: str
    location: str
    """A region: GKE, GCS, Artifact Registry and disks all require a key in their own location."""
    rotation_days: int
    labels: Mapping[str, str]
    protect: bool
    agent_apis: Mapping[KeyUse, Sequence[pulumi.Resource]] = field(default_factory=dict)
    """The API whose enablement creates each use's service agent: its grant waits for that API only."""


class Keys(pulumi.ComponentResource):
    """`keys[use].id` is the key's resource name; `grants[use]` must exist before the key's first use."""

    keys: dict[KeyUse, gcp.kms.CryptoKey]
    grants: dict[KeyUse, gcp.kms.CryptoKeyIAMMember]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:Keys", name, None, opts)
        child = children(self, opts)
        ring = gcp.kms.KeyRing(
            f"{name}-ring", project=args.project, location=args.location, opts=protected(child, args.protect)
        )
        self.keys, self.grants = {}, {}
        later = [a for use in CREATED_LATER for a in args.agent_apis.get(use, ())]
        agents_exist = settle(f"{name}-agents-settle", later, AGENT_DELAY, self) if later else None
        for use, agent in self._agents(name, args, child).items():
            key = gcp.kms.CryptoKey(
                f"{name}-{use}",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{args.rotation_days * SECONDS_PER_DAY}s",
                labels=dict(args.labels),
                opts=protected(child, args.protect),
            )
            self.keys[use] = key
            self.grants[use] = gcp.kms.CryptoKeyIAMMember(
                f"{name}-{use}-agent",
                crypto_key_id=key.id,
                role=ENCRYPTER_DECRYPTER,
                member=agent,
                opts=_after(
                    child,
                    [
                        *args.agent_apis.get(use, ()),
                        *([agents_exist] if agents_exist and use in CREATED_LATER else []),
                    ],
                ),
            )
        self.key_ring = ring.id
        self.register_outputs({"keyRing": ring.id, **{f"{u}Key": k.id for u, k in self.keys.items()}})

    def _agents(
        self, name: str, args: KeysArgs, child: pulumi.ResourceOptions
    ) -> dict[KeyUse, pulumi.Input[str]]:
        """The service agent (as an IAM member) that uses each key; the names need the project number."""
        invoke = pulumi.InvokeOutputOptions(parent=self)
        number = gcp.organizations.get_project_output(project_id=args.project, opts=invoke).number
        # The GCS agent exists only once something asks for it; this invoke creates it if need be.
        gcs = gcp.storage.get_project_service_account_output(
            project=args.project,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=list(args.agent_apis.get("gcs", ()))),
        )
        # Artifact Registry creates its agent with the first repository, too late for that repository's
        # CMEK grant, so create it up front (`gcloud beta services identity create`).
        registry = gcp.projects.ServiceIdentity(
            f"{name}-registry-identity",
            project=args.project,
            service="artifactregistry.googleapis.com",
            opts=_after(child, args.agent_apis.get("registry", ())),
        )

        def agent(domain: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(
                "serviceAccount:service-", number, f"@{domain}.iam.gserviceaccount.com"
            )

        return {
            "gke": agent("container-engine-robot"),
            "gcs": gcs.member,
            "registry": registry.member,
            # Node boot disks are created by Compute Engine, whose agent needs the disk key.
            "disk": agent("compute-system"),
        }


def _after(child: pulumi.ResourceOptions, apis: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(apis)))
