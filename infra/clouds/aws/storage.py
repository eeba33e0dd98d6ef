"""The S3 bucket for data, checkpoints and models: ACLs off, public access blocked, SSE-KMS with a bucket
key, versioning, a lifecycle for stale uploads and old versions, and TLS-only access.

pulumi-aws v7's `aws.s3.Bucket` takes only the bucket itself; each setting is its own resource.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext


@dataclass(frozen=True, kw_only=True)
class ObjectStoreArgs:
    context: AwsContext
    bucket_name: str
    key_arn: pulumi.Input[str]
    noncurrent_version_days: int
    abort_multipart_days: int
    protect: bool


class ObjectStore(pulumi.ComponentResource):
    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:ObjectStore", name, None, opts)
        self._name, self._args = name, args
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=False,
            tags=args.context.tags("storage"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        public_block = self._access()
        self._encryption()
        self._retention()
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(policies.tls_only_bucket_policy),
            # Both write the bucket's policy state; serialised to avoid S3's conflicting-operation errors.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block]),
        )
        self.bucket_name: pulumi.Output[str] = self.bucket.bucket
        self.bucket_arn: pulumi.Output[str] = self.bucket.arn
        self.uri: pulumi.Output[str] = pulumi.Output.concat("s3://", self.bucket.bucket)
        self.register_outputs({"bucketUri": self.uri, "bucketArn": self.bucket_arn})

    def _access(self) -> aws.s3.BucketPublicAccessBlock:
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketOwnershipControls(
            f"{self._name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        return aws.s3.BucketPublicAccessBlock(
            f"{self._name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )

    def _encryption(self) -> None:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self._args.key_arn,
                    },
                    # One data key per bucket instead of a KMS call per object: cheaper and faster.
                    "bucket_key_enabled": True,
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _retention(self) -> None:
        versioning = aws.s3.BucketVersioning(
            f"{self._name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": self._args.abort_multipart_days
                    },
                },
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": self._args.noncurrent_version_days},
                },
            ],
            # S3 validates noncurrent-version rules against the bucket's versioning state.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
