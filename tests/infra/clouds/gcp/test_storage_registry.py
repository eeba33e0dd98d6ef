"""The GCS bucket (ST-07, ST-08) and the Artifact Registry repository (RG-02)."""

from __future__ import annotations

from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import (
    BUCKET,
    BUCKET_IAM,
    KEY_GRANT,
    REPOSITORY,
    REPOSITORY_IAM,
    gcp,
    key_id,
    named,
    node_account_email,
    one,
    stack_config,
)

PUBLIC = {"allUsers", "allAuthenticatedUsers"}


def test_st07_uniform_access_and_public_access_prevention(stack_plan: Plan) -> None:
    bucket = one(stack_plan, BUCKET).inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert not {m.inputs["member"] for m in gcp(stack_plan, BUCKET_IAM)} & PUBLIC


def test_st08_versioning_cmek_lifecycle_soft_delete(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    bucket = one(stack_plan, BUCKET)
    inputs = bucket.inputs
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["encryption"]["defaultKmsKeyName"] == key_id(stack_plan, "gcs")
    assert named(stack_plan, KEY_GRANT, "-keys-gcs-agent").urn in bucket.depends_on
    noncurrent = [r for r in inputs["lifecycleRules"] if "daysSinceNoncurrentTime" in r["condition"]]
    assert noncurrent[0]["action"]["type"] == "Delete"
    assert noncurrent[0]["condition"]["daysSinceNoncurrentTime"] == cfg.storage.noncurrent_version_days
    multipart = [
        r for r in inputs["lifecycleRules"] if r["action"]["type"] == "AbortIncompleteMultipartUpload"
    ]
    assert multipart[0]["condition"]["age"] == cfg.storage.abort_multipart_days
    assert inputs["softDeletePolicy"]["retentionDurationSeconds"] == cfg.storage.soft_delete_days * 86400
    assert inputs["forceDestroy"] is False


def test_bucket_name_location_and_protection(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    assert cfg.gcp is not None
    bucket = one(stack_plan, BUCKET)
    assert bucket.inputs["name"] == cfg.gcp.bucket_name
    assert bucket.inputs["location"] == cfg.gcp.region.upper()
    assert bucket.protect is cfg.protect


def test_rg02_immutable_cmek_docker_repository(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    assert cfg.gcp is not None
    repo = one(stack_plan, REPOSITORY)
    assert repo.inputs["format"] == "DOCKER"
    assert repo.inputs["repositoryId"] == cfg.gcp.registry_name
    assert repo.inputs["location"] == cfg.gcp.region
    assert repo.inputs["dockerConfig"] == {"immutableTags": True}
    assert repo.inputs["kmsKeyName"] == key_id(stack_plan, "registry")
    assert named(stack_plan, KEY_GRANT, "-keys-registry-agent").urn in repo.depends_on
    assert repo.protect is cfg.protect


def test_rg02_only_the_nodes_may_pull(stack_plan: Plan) -> None:
    """The nodes; and where GKE is MultiKueue's manager, the refresher's puller, which hands other
    clouds' workers a short-lived credential for their pulls (tests/infra/clouds/gcp/test_pull.py)."""
    readers = gcp(stack_plan, REPOSITORY_IAM)
    dispatch = stack_plan.outputs.get("dispatch") or {}
    assert len(readers) == 1 + (dispatch.get("manager") == "gcp")
    nodes = f"serviceAccount:{node_account_email(stack_plan)}"
    (reader,) = [r for r in readers if r.inputs["member"] == nodes]
    assert reader.inputs["role"] == "roles/artifactregistry.reader"
    for each in readers:
        assert each.inputs["repository"] == one(stack_plan, REPOSITORY).inputs["repositoryId"]
