"""GCS (ST-07, ST-08) and Azure Storage (ST-09..ST-12) controls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policy.model import protection
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import (
    Props,
    as_json,
    as_list,
    equals,
    explicitly_true,
    get,
    is_false,
    is_true,
    number,
    present,
    unknown,
)
from policy.model.stack import Stack, Violation

GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
GCS_IAM_BINDING = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
GCS_IAM_POLICY = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
GCS_ACL = "gcp:storage/bucketAccessControl:BucketAccessControl"
ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
NONCURRENT_CONDITIONS = ("daysSinceNoncurrentTime", "numNewerVersions", "noncurrentTimeBefore")
MIN_SOFT_DELETE_DAYS = 7

ST07 = control(
    "ST-07",
    "GCS uniform access and public access prevention",
    "Buckets use uniform bucket-level access and enforced public access prevention, and no IAM grant "
    "names allUsers or allAuthenticatedUsers.",
)
ST08 = control(
    "ST-08",
    "GCS versioning, CMEK, lifecycle, soft delete",
    "Buckets are versioned, encrypted with a Cloud KMS key, expire noncurrent versions, keep soft-deleted "
    "objects, are not force-destroyable, and are protected in stacks with `protect` on.",
)
ST09 = control(
    "ST-09",
    "Azure storage account hardening",
    "No public blob access, TLS 1.2, HTTPS only, and no shared-key access (Entra ID only).",
)
ST10 = control(
    "ST-10",
    "Azure storage network lock-down",
    "Public network access is disabled, or the network rules deny by default.",
)
ST11 = control(
    "ST-11",
    "Azure soft delete, versioning, private containers",
    "Every account has blob soft delete (>= 7 days), container soft delete and versioning; containers are "
    "private; accounts are protected in stacks with `protect` on.",
)
ST12 = control(
    "ST-12",
    "Azure customer-managed key",
    "The account encrypts with a Key Vault key and infrastructure encryption.",
)


def public_members(type_: str, props: Props, member_types: tuple[str, str, str]) -> Iterator[str]:
    """Members of an IAM member/binding/policy resource that make it public."""
    member, binding, policy = (t.lower() for t in member_types)
    token = type_.lower()
    if token == member:
        members = [props.get("member")]
    elif token == binding:
        members = as_list(props.get("members"))
    elif token == policy:
        doc = as_json(props.get("policyData")) or {}
        members = [m for b in as_list(doc.get("bindings")) for m in as_list(b.get("members"))]
    else:
        members = [props.get("entity")]
    for m in members:
        if m in PUBLIC_MEMBERS:
            yield f"{m} must not be granted access"


@resource_rule(ST07, GCS_BUCKET, GCS_IAM_MEMBER, GCS_IAM_BINDING, GCS_IAM_POLICY, GCS_ACL)
def gcs_private(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() != GCS_BUCKET.lower():
        yield from public_members(type_, props, (GCS_IAM_MEMBER, GCS_IAM_BINDING, GCS_IAM_POLICY))
        return
    if not is_true(props.get("uniformBucketLevelAccess")):
        yield "uniformBucketLevelAccess must be true"
    if not equals(props.get("publicAccessPrevention"), "enforced"):
        yield 'publicAccessPrevention must be "enforced"'


def _noncurrent_rule(rule: Any) -> bool:
    condition = get(rule, "condition", {})
    deletes = get(rule, "action.type") == "Delete"
    return deletes and any(present(condition.get(c)) for c in NONCURRENT_CONDITIONS)


@resource_rule(ST08, GCS_BUCKET)
def gcs_retention(_: str, props: Props) -> Iterator[str]:
    if not is_true(get(props, "versioning.enabled")):
        yield "versioning.enabled must be true"
    if not present(get(props, "encryption.defaultKmsKeyName")):
        yield "encryption.defaultKmsKeyName must name a Cloud KMS key"
    rules = props.get("lifecycleRules")
    if not unknown(rules) and not any(_noncurrent_rule(r) for r in as_list(rules)):
        yield "lifecycleRules need a Delete rule for noncurrent versions"
    seconds = get(props, "softDeletePolicy.retentionDurationSeconds")
    if not unknown(seconds) and not (number(seconds) or 0) > 0:
        yield "softDeletePolicy.retentionDurationSeconds must be above 0"
    if explicitly_true(props.get("forceDestroy")):
        yield "forceDestroy must not be true"


@stack_rule(ST08)
def gcs_protected(stack: Stack) -> list[Violation]:
    return protection.unprotected(stack, ST08, GCS_BUCKET)


@resource_rule(ST09, ACCOUNT)
def account_hardening(_: str, props: Props) -> Iterator[str]:
    if not is_false(props.get("allowBlobPublicAccess")):
        yield "allowBlobPublicAccess must be false"
    if not equals(props.get("minimumTlsVersion"), "TLS1_2", "TLS1_3"):
        yield 'minimumTlsVersion must be "TLS1_2"'
    if not is_true(props.get("enableHttpsTrafficOnly")):
        yield "enableHttpsTrafficOnly must be true"
    if not is_false(props.get("allowSharedKeyAccess")):
        yield "allowSharedKeyAccess must be false"


@resource_rule(ST10, ACCOUNT)
def account_network(_: str, props: Props) -> Iterator[str]:
    disabled = equals(props.get("publicNetworkAccess"), "Disabled")
    if not disabled and not equals(get(props, "networkRuleSet.defaultAction"), "Deny"):
        yield 'publicNetworkAccess must be "Disabled", or networkRuleSet.defaultAction "Deny"'


@resource_rule(ST11, BLOB_SERVICE, CONTAINER)
def blob_soft_delete(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == CONTAINER.lower():
        if props.get("publicAccess") not in (None, "None") and not unknown(props.get("publicAccess")):
            yield 'publicAccess must be "None"'
        return
    if not is_true(get(props, "deleteRetentionPolicy.enabled")):
        yield "deleteRetentionPolicy.enabled must be true"
    days = get(props, "deleteRetentionPolicy.days")
    if not unknown(days) and (number(days) or 0) < MIN_SOFT_DELETE_DAYS:
        yield f"deleteRetentionPolicy.days must be at least {MIN_SOFT_DELETE_DAYS}"
    if not is_true(get(props, "containerDeleteRetentionPolicy.enabled")):
        yield "containerDeleteRetentionPolicy.enabled must be true"
    if not is_true(props.get("isVersioningEnabled")):
        yield "isVersioningEnabled must be true"


@stack_rule(ST11)
def accounts_have_blob_service(stack: Stack) -> list[Violation]:
    found = [
        account.violation(ST11, "needs BlobServiceProperties (soft delete, versioning)")
        for account in stack.of(ACCOUNT)
        if not stack.dependents(account, BLOB_SERVICE, via="accountName")
    ]
    return found + protection.unprotected(stack, ST11, ACCOUNT)


@resource_rule(ST12, ACCOUNT)
def account_cmk(_: str, props: Props) -> Iterator[str]:
    if not equals(get(props, "encryption.keySource"), "Microsoft.Keyvault"):
        yield 'encryption.keySource must be "Microsoft.Keyvault"'
    if not is_true(get(props, "encryption.requireInfrastructureEncryption")):
        yield "encryption.requireInfrastructureEncryption must be true"
