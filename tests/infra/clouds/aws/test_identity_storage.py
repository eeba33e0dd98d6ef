"""Workload identity (ID-01, ID-02), the bucket (ST-01..06) and the registry (RG-01), dev and prod."""

from __future__ import annotations

import json
from typing import Any

from infra.clouds.base import model_prefix
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import (
    ASSOCIATION,
    ROLE,
    ROLE_POLICY,
    aws_of,
    cluster_arn_of,
    depends_on,
    doc,
    named,
    one,
    stack_config,
)


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Statement"])


def _listify(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_id01_trust_scoped_to_one_service_account(stack_plan: Plan) -> None:
    """ID-01: one association and one trust per workload service account, in the workload namespace."""
    namespace = stack_config(stack_plan.stack).namespace
    for role_name in ("trainer", "serving"):
        association = named(stack_plan, ASSOCIATION, f"-identity-{role_name}-association")
        assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
            namespace,
            role_name,
        )
        role = named(stack_plan, ROLE, f"-identity-{role_name}")
        assert depends_on(association, role)
        [trust] = _statements(doc(role, "assumeRolePolicy"))
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        assert trust["Condition"] == {
            "StringEquals": {
                "aws:RequestTag/eks-cluster-arn": cluster_arn_of(stack_plan),
                "aws:RequestTag/kubernetes-namespace": namespace,
                "aws:RequestTag/kubernetes-service-account": role_name,
            }
        }


def test_id02_least_privilege_per_app(stack_plan: Plan) -> None:
    """ID-02: no wildcards; trainer read/write on the bucket; serving read-only under models/."""
    bucket = f"arn:aws:s3:::{stack_config(stack_plan.stack).aws.bucket_name}"  # type: ignore[union-attr]
    policies = {
        name: _statements(doc(named(stack_plan, ROLE_POLICY, f"-identity-{name}-policy"), "policy"))
        for name in ("trainer", "serving")
    }
    for statements in policies.values():
        for s in statements:
            assert "*" not in _listify(s["Action"])
            assert "*" not in _listify(s["Resource"])
            assert all(not a.endswith(":*") for a in _listify(s["Action"]))
    trainer = {s["Sid"]: s for s in policies["trainer"]}
    assert trainer["ListBucket"]["Resource"] == bucket
    assert set(trainer["ReadWriteObjects"]["Action"]) >= {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert trainer["ReadWriteObjects"]["Resource"] == f"{bucket}/*"
    serving = {s["Sid"]: s for s in policies["serving"]}
    assert serving["ListModels"]["Condition"] == {"StringLike": {"s3:prefix": ["models/", "models/*"]}}
    assert serving["ReadModels"] == {
        "Sid": "ReadModels",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"{bucket}/models/*",
    }
    writes = {"s3:PutObject", "s3:DeleteObject", "kms:GenerateDataKey"}
    assert not writes & {a for s in policies["serving"] for a in _listify(s["Action"])}


def test_id02_the_replicator_writes_the_models_prefix_only(stack_plan: Plan) -> None:
    """A version another cloud exported is copied in here too: read, write and delete under the one model's
    prefix only, as other clouds grant it, without their address condition (Pod Identity, not a foreign
    token)."""
    cfg = stack_config(stack_plan.stack)
    bucket = f"arn:aws:s3:::{cfg.aws.bucket_name}"  # type: ignore[union-attr]
    prefix = model_prefix(cfg.serving.model_name)
    policy = doc(named(stack_plan, ROLE_POLICY, "-identity-replicator-policy"), "policy")
    statements = {s["Sid"]: s for s in _statements(policy)}
    assert statements["ListModels"]["Condition"] == {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}
    assert statements["ReadWriteModels"]["Resource"] == f"{bucket}/{prefix}*"
    assert "Condition" not in statements["ReadWriteModels"]
    assert set(statements["ReadWriteModels"]["Action"]) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
    }


def test_st01_public_access_blocked(stack_plan: Plan) -> None:
    """ST-01: all four public-access blocks, on every bucket."""
    buckets = aws_of(stack_plan, "aws:s3/bucket:Bucket")
    blocks = aws_of(stack_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == len(buckets) == 1
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(blocks[0].inputs[f] is True for f in flags)
    assert depends_on(blocks[0], buckets[0])


def test_st02_sse_kms_with_bucket_key(stack_plan: Plan) -> None:
    """ST-02: SSE-KMS with the stack's storage key and an S3 bucket key."""
    sse = one(
        stack_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    [rule] = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    assert rule["bucketKeyEnabled"] is True
    assert depends_on(sse, named(stack_plan, "aws:kms/key:Key", "-keys-storage"))


def test_st03_versioning(stack_plan: Plan) -> None:
    """ST-03: versioning enabled."""
    versioning = one(stack_plan, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}


def test_st04_tls_only_policy(stack_plan: Plan) -> None:
    """ST-04: deny every request without TLS, on the bucket and its objects."""
    policy = one(stack_plan, "aws:s3/bucketPolicy:BucketPolicy")
    bucket = f"arn:aws:s3:::{stack_config(stack_plan.stack).aws.bucket_name}"  # type: ignore[union-attr]
    [deny] = _statements(doc(policy, "policy"))
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [bucket, f"{bucket}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_st05_lifecycle_from_config(stack_plan: Plan) -> None:
    """ST-05: abort stale multipart uploads; expire noncurrent versions (after versioning is on)."""
    storage = stack_config(stack_plan.stack).storage
    lifecycle = one(stack_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    abort = rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"]
    assert abort == {"daysAfterInitiation": storage.abort_multipart_days}
    expire = rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"]
    assert expire == {"noncurrentDays": storage.noncurrent_version_days}
    assert all(r["status"] == "Enabled" for r in rules.values())
    assert depends_on(lifecycle, one(stack_plan, "aws:s3/bucketVersioning:BucketVersioning"))


def test_st06_acls_off_no_force_destroy_protected_in_prod(stack_plan: Plan) -> None:
    """ST-06: BucketOwnerEnforced, `forceDestroy` false, and `protect` in prod."""
    ownership = one(stack_plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    bucket = one(stack_plan, "aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["bucket"] == stack_config(stack_plan.stack).aws.bucket_name  # type: ignore[union-attr]
    assert bucket.protect is (stack_plan.stack == "prod")


def test_rg01_ecr_immutable_scanned_kms(stack_plan: Plan) -> None:
    """RG-01: immutable tags, scan on push, KMS with the registry key; a lifecycle policy."""
    repo = one(stack_plan, "aws:ecr/repository:Repository")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    [encryption] = repo.inputs["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS"
    assert encryption["kmsKey"].startswith("arn:aws:kms:")
    assert depends_on(repo, named(stack_plan, "aws:kms/key:Key", "-keys-registry"))
    assert repo.protect is (stack_plan.stack == "prod")
    lifecycle = one(stack_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    rules = json.loads(lifecycle.inputs["policy"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "tagged"]


def test_stateful_resources_protected_in_prod_only(stack_plan: Plan) -> None:
    keys = aws_of(stack_plan, "aws:kms/key:Key")
    assert all(k.protect is (stack_plan.stack == "prod") for k in keys)
    windows = {k.inputs["deletionWindowInDays"] for k in keys}
    assert windows == ({30} if stack_plan.stack == "prod" else {7})
