"""S3 controls (ST-01..ST-06). pulumi-aws 7 splits a bucket's settings into side resources, so each control
is a resource rule on its side resource plus a stack rule that every bucket has one (a bucket without a
versioning resource is unversioned, which no resource rule alone would notice). Both S3 families (v7 names
and the deprecated `*V2` ones) count."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policy.controls.iam_aws import statements
from policy.model import protection
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, equals, explicitly_true, get, is_true, present, unknown
from policy.model.stack import Resource, Stack, Violation

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

ST01 = control(
    "ST-01",
    "S3 Block Public Access",
    "Every bucket has a public access block with all four settings true.",
)
ST02 = control(
    "ST-02",
    "S3 SSE-KMS with a customer key",
    "Every bucket encrypts by default with aws:kms, a named KMS key and S3 Bucket Keys.",
)
ST03 = control("ST-03", "S3 versioning", "Every bucket has versioning Enabled.")
ST04 = control(
    "ST-04",
    "S3 TLS-only bucket policy",
    "Every bucket has a policy that denies every principal any request without TLS, on the bucket and its "
    "objects.",
)
ST05 = control(
    "ST-05",
    "S3 lifecycle",
    "Every bucket aborts incomplete multipart uploads and expires noncurrent versions.",
)
ST06 = control(
    "ST-06",
    "S3 ACLs off; no force-destroy",
    "Every bucket enforces bucket-owner object ownership (ACLs off), is not force-destroyable, and is "
    "protected in stacks with `protect` on.",
)


def attached(stack: Stack, bucket: Resource, side_type: str) -> list[Resource]:
    """The side resources configuring `bucket`: by dependency, else by the bucket name they name."""
    name = bucket.props.get("bucket")
    return [
        s
        for s in stack.of(side_type)
        if (bucket.urn and bucket.urn in s.linked("bucket"))
        or (present(name) and s.props.get("bucket") == name)
    ]


def _every_bucket_has(control_id: str, side_type: str, what: str) -> Callable[[Stack], list[Violation]]:
    def rule(stack: Stack) -> list[Violation]:
        return [
            b.violation(control_id, f"needs a {side_type.rsplit(':', 1)[-1]} ({what})")
            for b in stack.of(BUCKET)
            if not attached(stack, b, side_type)
        ]

    rule.__name__ = f"every_bucket_has_{side_type.rsplit(':', 1)[-1]}"
    return stack_rule(control_id)(rule)


@resource_rule(ST01, PUBLIC_ACCESS_BLOCK)
def public_access_block(_: str, props: Props) -> Iterator[str]:
    for key in BLOCKS:
        if not is_true(props.get(key)):
            yield f"{key} must be true"


@resource_rule(ST02, ENCRYPTION)
def sse_kms(_: str, props: Props) -> Iterator[str]:
    rules = as_list(props.get("rules"))
    if not rules and not unknown(props.get("rules")):
        yield "rules must set applyServerSideEncryptionByDefault"
    for rule in rules:
        default = get(rule, "applyServerSideEncryptionByDefault", {})
        if not equals(get(default, "sseAlgorithm"), "aws:kms", "aws:kms:dsse"):
            yield 'applyServerSideEncryptionByDefault.sseAlgorithm must be "aws:kms"'
        if not present(get(default, "kmsMasterKeyId")):
            yield "applyServerSideEncryptionByDefault.kmsMasterKeyId must name a KMS key"
        if not is_true(rule.get("bucketKeyEnabled")):
            yield "bucketKeyEnabled must be true"


@resource_rule(ST03, VERSIONING)
def versioning(_: str, props: Props) -> Iterator[str]:
    if not equals(get(props, "versioningConfiguration.status"), "Enabled"):
        yield 'versioningConfiguration.status must be "Enabled"'


def _denies_plain_http(s: Mapping[str, Any]) -> bool:
    principal = s.get("Principal")
    everyone = principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*")
    secure = get(s, "Condition.Bool", {}).get("aws:SecureTransport")
    resources = [str(r) for r in as_list(s.get("Resource"))]
    both = any(r.endswith("/*") for r in resources) and any(not r.endswith("/*") for r in resources)
    return s.get("Effect") == "Deny" and everyone and str(secure).lower() == "false" and both


@resource_rule(ST04, POLICY)
def tls_only(_: str, props: Props) -> Iterator[str]:
    if unknown(props.get("policy")):
        return
    if not any(_denies_plain_http(s) for s in statements(props.get("policy"))):
        yield (
            'policy needs a statement: Effect Deny, Principal "*", Condition Bool aws:SecureTransport '
            '"false", on the bucket ARN and bucket/*'
        )


@resource_rule(ST05, LIFECYCLE)
def lifecycle(_: str, props: Props) -> Iterator[str]:
    if unknown(props.get("rules")):
        return
    rules = [r for r in as_list(props.get("rules")) if r.get("status", "Enabled") == "Enabled"]
    if not any(present(get(r, "abortIncompleteMultipartUpload.daysAfterInitiation")) for r in rules):
        yield "an enabled rule must set abortIncompleteMultipartUpload.daysAfterInitiation"
    if not any(present(get(r, "noncurrentVersionExpiration")) for r in rules):
        yield "an enabled rule must set noncurrentVersionExpiration"


@resource_rule(ST06, OWNERSHIP, BUCKET)
def ownership(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == BUCKET.lower():
        if explicitly_true(props.get("forceDestroy")):
            yield "forceDestroy must not be true"
    elif not equals(get(props, "rule.objectOwnership"), "BucketOwnerEnforced"):
        yield 'rule.objectOwnership must be "BucketOwnerEnforced" (ACLs off)'


@stack_rule(ST06)
def buckets_protected(stack: Stack) -> list[Violation]:
    return protection.unprotected(stack, ST06, BUCKET)


_every_bucket_has(ST01, PUBLIC_ACCESS_BLOCK, "all four blocks on")
_every_bucket_has(ST02, ENCRYPTION, "SSE-KMS")
_every_bucket_has(ST03, VERSIONING, "status Enabled")
_every_bucket_has(ST04, POLICY, "deny without TLS")
_every_bucket_has(ST05, LIFECYCLE, "abort multipart uploads, expire noncurrent versions")
_every_bucket_has(ST06, OWNERSHIP, "BucketOwnerEnforced")
