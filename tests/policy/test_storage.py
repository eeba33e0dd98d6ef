"""ST-01..ST-12 and RG-01..RG-03: buckets, storage accounts and registries of all three clouds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, case, json_edit

SSE = "rules[0].applyServerSideEncryptionByDefault"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _tls(**changes: Any) -> Any:
    def edit(doc: Any) -> None:
        doc["Statement"][0].update(changes)

    return json_edit(edit)


MUTATIONS = [
    *(case("aws", "ST-01", ("data-pab", block, False)) for block in BLOCKS),
    *(case("aws", "ST-01", ("data-pab", block, DELETE)) for block in BLOCKS),
    case("aws", "ST-01", ("data-pab", REMOVE, None), on="data"),
    case("aws", "ST-02", ("data-sse", f"{SSE}.sseAlgorithm", "AES256")),
    case("aws", "ST-02", ("data-sse", f"{SSE}.kmsMasterKeyId", DELETE)),
    case("aws", "ST-02", ("data-sse", "rules[0].bucketKeyEnabled", False)),
    case("aws", "ST-02", ("data-sse", "rules", [])),
    case("aws", "ST-02", ("data-sse", REMOVE, None), on="data"),
    case("aws", "ST-03", ("data-versioning", "versioningConfiguration.status", "Suspended")),
    case("aws", "ST-03", ("data-versioning", "versioningConfiguration", DELETE)),
    case("aws", "ST-03", ("data-versioning", REMOVE, None), on="data"),
    case("aws", "ST-04", ("data-tls", "policy", _tls(Effect="Allow"))),
    case("aws", "ST-04", ("data-tls", "policy", _tls(Principal={"AWS": "arn:aws:iam::123456789012:root"}))),
    case("aws", "ST-04", ("data-tls", "policy", _tls(Condition={"Bool": {"aws:SecureTransport": "true"}}))),
    case("aws", "ST-04", ("data-tls", "policy", _tls(Resource="arn:aws:s3:::acme-data/*"))),
    case("aws", "ST-04", ("data-tls", REMOVE, None), on="data"),
    case("aws", "ST-05", ("data-lifecycle", "rules[0].abortIncompleteMultipartUpload", DELETE)),
    case("aws", "ST-05", ("data-lifecycle", "rules[1].noncurrentVersionExpiration", DELETE)),
    case("aws", "ST-05", ("data-lifecycle", "rules[1].status", "Disabled")),
    case("aws", "ST-05", ("data-lifecycle", REMOVE, None), on="data"),
    case("aws", "ST-06", ("data-ownership", "rule.objectOwnership", "ObjectWriter")),
    case("aws", "ST-06", ("data-ownership", "rule.objectOwnership", "BucketOwnerPreferred")),
    case("aws", "ST-06", ("data-ownership", REMOVE, None), on="data"),
    case("aws", "ST-06", ("data", "forceDestroy", True)),
    case("aws", "ST-06", ("data", "@protect", False)),
    case("gcp", "ST-07", ("bucket", "uniformBucketLevelAccess", False)),
    case("gcp", "ST-07", ("bucket", "uniformBucketLevelAccess", DELETE)),
    case("gcp", "ST-07", ("bucket", "publicAccessPrevention", "inherited")),
    case("gcp", "ST-07", ("bucket", "publicAccessPrevention", DELETE)),
    case("gcp", "ST-07", ("trainer-objects", "member", "allUsers")),
    case("gcp", "ST-07", ("trainer-objects", "member", "allAuthenticatedUsers")),
    case("gcp", "ST-08", ("bucket", "versioning.enabled", False)),
    case("gcp", "ST-08", ("bucket", "versioning", DELETE)),
    case("gcp", "ST-08", ("bucket", "encryption", DELETE)),
    case("gcp", "ST-08", ("bucket", "lifecycleRules", DELETE)),
    case("gcp", "ST-08", ("bucket", "lifecycleRules[0].condition", {"age": 30})),
    case("gcp", "ST-08", ("bucket", "softDeletePolicy.retentionDurationSeconds", 0)),
    case("gcp", "ST-08", ("bucket", "softDeletePolicy", DELETE)),
    case("gcp", "ST-08", ("bucket", "forceDestroy", True)),
    case("gcp", "ST-08", ("bucket", "@protect", False)),
    case("azure", "ST-09", ("account", "allowBlobPublicAccess", True)),
    case("azure", "ST-09", ("account", "allowBlobPublicAccess", DELETE)),
    case("azure", "ST-09", ("account", "minimumTlsVersion", "TLS1_0")),
    case("azure", "ST-09", ("account", "minimumTlsVersion", DELETE)),
    case("azure", "ST-09", ("account", "enableHttpsTrafficOnly", False)),
    case("azure", "ST-09", ("account", "enableHttpsTrafficOnly", DELETE)),
    case("azure", "ST-09", ("account", "allowSharedKeyAccess", True)),
    case("azure", "ST-09", ("account", "allowSharedKeyAccess", DELETE)),
    case("azure", "ST-10", ("account", "networkRuleSet.defaultAction", "Allow")),
    case("azure", "ST-10", ("account", "networkRuleSet", DELETE)),
    case("azure", "ST-11", ("account-blob", "deleteRetentionPolicy.enabled", False)),
    case("azure", "ST-11", ("account-blob", "deleteRetentionPolicy.days", 3)),
    case("azure", "ST-11", ("account-blob", "containerDeleteRetentionPolicy.enabled", False)),
    case("azure", "ST-11", ("account-blob", "isVersioningEnabled", False)),
    case("azure", "ST-11", ("account-blob", "isVersioningEnabled", DELETE)),
    case("azure", "ST-11", ("account-blob", REMOVE, None), on="account"),
    case("azure", "ST-11", ("container", "publicAccess", "Blob")),
    case("azure", "ST-11", ("container", "publicAccess", "Container")),
    case("azure", "ST-11", ("account", "@protect", False)),
    case("azure", "ST-12", ("account", "encryption.keySource", "Microsoft.Storage")),
    case("azure", "ST-12", ("account", "encryption.requireInfrastructureEncryption", False)),
    case("azure", "ST-12", ("account", "encryption", DELETE)),
    case("aws", "RG-01", ("trainer-repo", "imageTagMutability", "MUTABLE")),
    case("aws", "RG-01", ("trainer-repo", "imageTagMutability", DELETE)),
    case("aws", "RG-01", ("trainer-repo", "imageScanningConfiguration.scanOnPush", False)),
    case("aws", "RG-01", ("trainer-repo", "imageScanningConfiguration", DELETE)),
    case("aws", "RG-01", ("trainer-repo", "encryptionConfigurations[0].encryptionType", "AES256")),
    case("aws", "RG-01", ("trainer-repo", "encryptionConfigurations", DELETE)),
    case("aws", "RG-01", ("trainer-repo", "@protect", False)),
    case("gcp", "RG-02", ("repo", "dockerConfig.immutableTags", False)),
    case("gcp", "RG-02", ("repo", "dockerConfig", DELETE)),
    case("gcp", "RG-02", ("repo", "kmsKeyName", DELETE)),
    case("gcp", "RG-02", ("repo-reader", "member", "allUsers")),
    case("gcp", "RG-02", ("repo", "@protect", False)),
    case("azure", "RG-03", ("acr", "adminUserEnabled", True)),
    case("azure", "RG-03", ("acr", "anonymousPullEnabled", True)),
    case("azure", "RG-03", ("acr", "publicNetworkAccess", "Enabled")),
    case("azure", "RG-03", ("acr", "policies.retentionPolicy.status", "disabled")),
    case("azure", "RG-03", ("acr", "@protect", False)),
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
