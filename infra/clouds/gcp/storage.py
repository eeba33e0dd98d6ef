"""The GCS bucket for data, checkpoints and models: private, versioned, CMEK-encrypted, soft-deleting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.context import children, protected
from infra.config.types import Storage

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, kw_only=True)
class ObjectStoreArgs:
    """The bucket's name and place, its key and the key's grant, and the retention from config."""

    project: str
    region: str
    bucket_name: str
    kms_key: pulumi.Input[str]
    key_grant: pulumi.Resource
    """The GCS agent's grant on the key: bucket creation fails without it."""
    retention: Storage
    labels: Mapping[str, str]
    protect: bool


class ObjectStore(pulumi.ComponentResource):
    """The one bucket of the stack; `uri` (`gs://...`) is what the contract and the workloads use."""

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:ObjectStore", name, None, opts)
        child = pulumi.ResourceOptions.merge(
            children(self, opts), pulumi.ResourceOptions(depends_on=[args.key_grant])
        )
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            project=args.project,
            name=args.bucket_name,
            # Upper case is how the API reports it; lower case would show a diff on every refresh.
            location=args.region.upper(),
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": args.kms_key},
            lifecycle_rules=_lifecycle(args.retention),
            soft_delete_policy={
                "retention_duration_seconds": args.retention.soft_delete_days * SECONDS_PER_DAY
            },
            force_destroy=False,
            labels=dict(args.labels),
            opts=protected(child, args.protect),
        )
        self.bucket = bucket
        self.bucket_name = bucket.name
        self.uri = pulumi.Output.concat("gs://", bucket.name)
        self.register_outputs({"bucketName": bucket.name, "uri": self.uri})


def _lifecycle(r: Storage) -> Sequence[dict[str, object]]:
    return [
        {
            "action": {"type": "Delete"},
            "condition": {"days_since_noncurrent_time": r.noncurrent_version_days, "with_state": "ARCHIVED"},
        },
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": r.abort_multipart_days}},
    ]
