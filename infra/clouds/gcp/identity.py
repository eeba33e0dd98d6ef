"""Workload identity: one Google service account per workload role, usable only by that role's Kubernetes
service account, with bucket-scoped storage roles (no project-wide grants)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, IdentityBinding, WorkloadRole
from infra.clouds.gcp.context import account_id, children

GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
OBJECT_USER = "roles/storage.objectUser"
"""Objects only: get, list, create, update and delete them (and their multipart uploads); no bucket or
object IAM, unlike `roles/storage.objectAdmin`. The replicator's, here and in other clouds' buckets."""
REPLICA_ACCESS = "Read, write, delete and list"


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    """What the identities are built from: the project, the namespace their service accounts live in, the
    bucket they are granted, and the cluster whose identity pool they bind to."""

    project: str
    stack: str
    namespace: str
    bucket: pulumi.Input[str]
    replica_prefix: str
    """Where the replicator may write: `models/<model>/` of the one model it copies (`model_prefix`), as
    the other clouds grant it."""
    cluster: pulumi.Resource
    """The workload identity pool exists only once the cluster does; binding to it earlier fails."""


def workload_member(project: str, namespace: str, ksa: str) -> str:
    return f"serviceAccount:{project}.svc.id.goog[{namespace}/{ksa}]"


def prefix_condition(bucket: str, prefix: str, access: str) -> dict[str, str]:
    """An IAM condition that limits a bucket grant to objects under `prefix`. A list request names the
    bucket, not an object, so it is allowed by the prefix it asks for (`objectListPrefix`), which is how
    TF Serving finds the model versions; the bucket's root cannot be listed."""
    return {
        "title": f"{prefix.strip('/').replace('/', '-')}-prefix-only",
        "description": f"{access} objects under {prefix} only",
        "expression": (
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}") || '
            f'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{prefix}")'
        ),
    }


def serving_condition(bucket: str) -> dict[str, str]:
    """Reads under `models/` only."""
    return prefix_condition(bucket, MODELS_PREFIX, "Read and list")


class WorkloadIdentity(pulumi.ComponentResource):
    """One Google service account per workload role; `bindings` is what the contract hands the workloads."""

    bindings: dict[WorkloadRole, IdentityBinding]

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:WorkloadIdentity", name, None, opts)
        child = children(self, opts)
        after_cluster = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[args.cluster]))
        self.accounts: dict[WorkloadRole, pulumi.Output[str]] = {}
        trust: dict[WorkloadRole, pulumi.Resource] = {}
        for role, ksa in SERVICE_ACCOUNTS.items():
            gsa = gcp.serviceaccount.Account(
                f"{name}-{role}",
                project=args.project,
                account_id=account_id(args.stack, role),
                display_name=f"{role} workloads of {args.stack} ({args.namespace}/{ksa})",
                opts=child,
            )
            trust[role] = gcp.serviceaccount.IAMMember(
                f"{name}-{role}-wi",
                service_account_id=gsa.name,
                role=WORKLOAD_IDENTITY_USER,
                member=workload_member(args.project, args.namespace, ksa),
                opts=after_cluster,
            )
            self.accounts[role] = gsa.email
        grants = self._storage(name, args, child)
        self.bindings = {
            role: IdentityBinding(
                service_account=ksa,
                annotations={GSA_ANNOTATION: self.accounts[role]},
                ready=(trust[role], grants[role]),
            )
            for role, ksa in SERVICE_ACCOUNTS.items()
        }
        self.register_outputs({f"{r}Account": e for r, e in self.accounts.items()})

    def _storage(
        self, name: str, args: WorkloadIdentityArgs, child: pulumi.ResourceOptions
    ) -> dict[WorkloadRole, pulumi.Resource]:
        trainer = gcp.storage.BucketIAMMember(
            f"{name}-trainer-objects",
            bucket=args.bucket,
            role="roles/storage.objectAdmin",
            member=pulumi.Output.concat("serviceAccount:", self.accounts["trainer"]),
            opts=child,
        )
        serving = gcp.storage.BucketIAMMember(
            f"{name}-serving-models",
            bucket=args.bucket,
            role="roles/storage.objectViewer",
            member=pulumi.Output.concat("serviceAccount:", self.accounts["serving"]),
            condition=pulumi.Output.from_input(args.bucket).apply(serving_condition),
            opts=child,
        )
        # A version another cloud exported is copied in here too: the grant other clouds give it.
        replicator = gcp.storage.BucketIAMMember(
            f"{name}-replicator-models",
            bucket=args.bucket,
            role=OBJECT_USER,
            member=pulumi.Output.concat("serviceAccount:", self.accounts["replicator"]),
            condition=pulumi.Output.from_input(args.bucket).apply(
                lambda bucket: prefix_condition(bucket, args.replica_prefix, REPLICA_ACCESS)
            ),
            opts=child,
        )
        return {"trainer": trainer, "serving": serving, "replicator": replicator}
