"""ST-01..ST-12 and RG-01..RG-03: buckets, storage accounts and registries of all three clouds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import (
    Change,
    assert_breaks,
    case,
    delete_key,
    edit_json,
    remove_resource,
    set_key,
    set_protect,
)

SSE = "rules[0].applyServerSideEncryptionByDefault"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _tls(**changes: Any) -> Callable[[Any], None]:
    """Update the TLS-only statement of the bucket policy with `changes`."""

    def update_statement(doc: Any) -> None:
        doc["Statement"][0].update(changes)

    return update_statement


MUTATIONS = [
    *(case("aws", "ST-01", set_key("data-pab", block, False)) for block in BLOCKS),
    *(case("aws", "ST-01", delete_key("data-pab", block)) for block in BLOCKS),
    case("aws", "ST-01", remove_resource("data-pab"), on="data"),
    case("aws", "ST-02", set_key("data-sse", f"{SSE}.sseAlgorithm", "AES256")),
    case("aws", "ST-02", delete_key("data-sse", f"{SSE}.kmsMasterKeyId")),
    case("aws", "ST-02", set_key("data-sse", "rules[0].bucketKeyEnabled", False)),
    case("aws", "ST-02", set_key("data-sse", "rules", [])),
    case("aws", "ST-02", remove_resource("data-sse"), on="data"),
    case("aws", "ST-03", set_key("data-versioning", "versioningConfiguration.status", "Suspended")),
    case("aws", "ST-03", delete_key("data-versioning", "versioningConfiguration")),
    case("aws", "ST-03", remove_resource("data-versioning"), on="data"),
    case("aws", "ST-04", edit_json("data-tls", "policy", _tls(Effect="Allow"))),
    case(
        "aws",
        "ST-04",
        edit_json("data-tls", "policy", _tls(Principal={"AWS": "arn:aws:iam::123456789012:root"})),
    ),
    case(
        "aws",
        "ST-04",
        edit_json("data-tls", "policy", _tls(Condition={"Bool": {"aws:SecureTransport": "true"}})),
    ),
    case("aws", "ST-04", edit_json("data-tls", "policy", _tls(Resource="arn:aws:s3:::acme-data/*"))),
    case("aws", "ST-04", remove_resource("data-tls"), on="data"),
    case("aws", "ST-05", delete_key("data-lifecycle", "rules[0].abortIncompleteMultipartUpload")),
    case("aws", "ST-05", delete_key("data-lifecycle", "rules[1].noncurrentVersionExpiration")),
    case("aws", "ST-05", set_key("data-lifecycle", "rules[1].status", "Disabled")),
    case("aws", "ST-05", remove_resource("data-lifecycle"), on="data"),
    case("aws", "ST-06", set_key("data-ownership", "rule.objectOwnership", "ObjectWriter")),
    case("aws", "ST-06", set_key("data-ownership", "rule.objectOwnership", "BucketOwnerPreferred")),
    case("aws", "ST-06", remove_resource("data-ownership"), on="data"),
    case("aws", "ST-06", set_key("data", "forceDestroy", True)),
    case("aws", "ST-06", set_protect("data", False)),
    case("gcp", "ST-07", set_key("bucket", "uniformBucketLevelAccess", False)),
    case("gcp", "ST-07", delete_key("bucket", "uniformBucketLevelAccess")),
    case("gcp", "ST-07", set_key("bucket", "publicAccessPrevention", "inherited")),
    case("gcp", "ST-07", delete_key("bucket", "publicAccessPrevention")),
    case("gcp", "ST-07", set_key("trainer-objects", "member", "allUsers")),
    case("gcp", "ST-07", set_key("trainer-objects", "member", "allAuthenticatedUsers")),
    case("gcp", "ST-08", set_key("bucket", "versioning.enabled", False)),
    case("gcp", "ST-08", delete_key("bucket", "versioning")),
    case("gcp", "ST-08", delete_key("bucket", "encryption")),
    case("gcp", "ST-08", delete_key("bucket", "lifecycleRules")),
    case("gcp", "ST-08", set_key("bucket", "lifecycleRules[0].condition", {"age": 30})),
    case("gcp", "ST-08", set_key("bucket", "softDeletePolicy.retentionDurationSeconds", 0)),
    case("gcp", "ST-08", delete_key("bucket", "softDeletePolicy")),
    case("gcp", "ST-08", set_key("bucket", "forceDestroy", True)),
    case("gcp", "ST-08", set_protect("bucket", False)),
    case("azure", "ST-09", set_key("account", "allowBlobPublicAccess", True)),
    case("azure", "ST-09", delete_key("account", "allowBlobPublicAccess")),
    case("azure", "ST-09", set_key("account", "minimumTlsVersion", "TLS1_0")),
    case("azure", "ST-09", delete_key("account", "minimumTlsVersion")),
    case("azure", "ST-09", set_key("account", "enableHttpsTrafficOnly", False)),
    case("azure", "ST-09", delete_key("account", "enableHttpsTrafficOnly")),
    case("azure", "ST-09", set_key("account", "allowSharedKeyAccess", True)),
    case("azure", "ST-09", delete_key("account", "allowSharedKeyAccess")),
    case("azure", "ST-10", set_key("account", "networkRuleSet.defaultAction", "Allow")),
    case("azure", "ST-10", delete_key("account", "networkRuleSet")),
    case("azure", "ST-11", set_key("account-blob", "deleteRetentionPolicy.enabled", False)),
    case("azure", "ST-11", set_key("account-blob", "deleteRetentionPolicy.days", 3)),
    case("azure", "ST-11", set_key("account-blob", "containerDeleteRetentionPolicy.enabled", False)),
    case("azure", "ST-11", set_key("account-blob", "isVersioningEnabled", False)),
    case("azure", "ST-11", delete_key("account-blob", "isVersioningEnabled")),
    case("azure", "ST-11", remove_resource("account-blob"), on="account"),
    case("azure", "ST-11", set_key("container", "publicAccess", "Blob")),
    case("azure", "ST-11", set_key("container", "publicAccess", "Container")),
    case("azure", "ST-11", set_protect("account", False)),
    case("azure", "ST-12", set_key("account", "encryption.keySource", "Microsoft.Storage")),
    case("azure", "ST-12", set_key("account", "encryption.requireInfrastructureEncryption", False)),
    case("azure", "ST-12", delete_key("account", "encryption")),
    case("aws", "RG-01", set_key("trainer-repo", "imageTagMutability", "MUTABLE")),
    case("aws", "RG-01", delete_key("trainer-repo", "imageTagMutability")),
    case("aws", "RG-01", set_key("trainer-repo", "imageScanningConfiguration.scanOnPush", False)),
    case("aws", "RG-01", delete_key("trainer-repo", "imageScanningConfiguration")),
    case("aws", "RG-01", set_key("trainer-repo", "encryptionConfigurations[0].encryptionType", "AES256")),
    case("aws", "RG-01", delete_key("trainer-repo", "encryptionConfigurations")),
    case("aws", "RG-01", set_protect("trainer-repo", False)),
    case("gcp", "RG-02", set_key("repo", "dockerConfig.immutableTags", False)),
    case("gcp", "RG-02", delete_key("repo", "dockerConfig")),
    case("gcp", "RG-02", delete_key("repo", "kmsKeyName")),
    case("gcp", "RG-02", set_key("repo-reader", "member", "allUsers")),
    case("gcp", "RG-02", set_protect("repo", False)),
    case("azure", "RG-03", set_key("acr", "adminUserEnabled", True)),
    case("azure", "RG-03", set_key("acr", "anonymousPullEnabled", True)),
    case("azure", "RG-03", set_key("acr", "publicNetworkAccess", "Enabled")),
    case("azure", "RG-03", set_key("acr", "policies.retentionPolicy.status", "disabled")),
    case("azure", "RG-03", set_protect("acr", False)),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
