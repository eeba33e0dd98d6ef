"""ID-09: each cross-cloud trust admits one service account and reaches one prefix; and ID-08: the home
cluster's replicator waits for every other cloud's trust of it. The compliant stacks carry dev's pairs
(GCP and Azure trusting EKS) and prod's AWS side (AWS trusting GKE): tests/policy/fixtures_cross_cloud.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from policy.controls.cross_cloud import condition_subjects
from policy.model.props import UNKNOWNS
from tests.policy import fixtures_gcp
from tests.policy.conftest import STACKS
from tests.policy.fixtures_cross_cloud import BLOBS, GKE_ISSUER, SUBJECT, SUBSCRIPTION
from tests.policy.stacks import (
    Change,
    assert_breaks,
    case,
    changed,
    delete_key,
    edit_json,
    set_depends_on,
    set_key,
    stack,
    update_key,
    violations,
)

UNKNOWN = sorted(UNKNOWNS)[0]
"""A value the engine does not know yet during preview."""
MEMBER = "gcp-trust-models"
EVERY_OBJECT = f'resource.name.startsWith("projects/_/buckets/{fixtures_gcp.BUCKET}/objects/")'
AZ_GRANT, AZ_ROLE = "azure-trust-models", "azure-trust-role"
DATA_ACTIONS = "permissions[0].dataActions"


def _built_in(guid: str) -> str:
    return f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


BLOB_DATA_CONTRIBUTOR = _built_in("ba92f5b4-2d11-453d-a403-e96b0029c9fe")
"""Its container management actions (`containers/delete`...) are beyond any condition."""
CONTRIBUTOR = _built_in("b24988ac-6180-42a0-ab88-20f7382dd24c")


def _plus(action: str) -> Callable[[Any], Any]:
    def add(actions: Any) -> Any:
        return [*actions, action]

    add.__name__ = f"adding {action.rsplit('/', 2)[-2]}/{action.rsplit('/', 1)[-1]}"
    return add


def _statement(index: int, **changes: Any) -> Callable[[Any], None]:
    def update(doc: Any) -> None:
        doc["Statement"][index].update(changes)

    return update


def _drop_condition(index: int) -> Callable[[Any], None]:
    def drop(doc: Any) -> None:
        del doc["Statement"][index]["Condition"]

    return drop


def _sub(value: str) -> Callable[[Any], None]:
    def set_sub(doc: Any) -> None:
        doc["Statement"][0]["Condition"]["StringEquals"][f"{GKE_ISSUER}:sub"] = value

    return set_sub


MUTATIONS = [
    # AWS trusting GKE: one service account, S3 object access under models/ only, KMS only through S3.
    case(
        "gcp",
        "ID-09",
        edit_json("aws-trust-models", "policy", _statement(1, Resource="arn:aws:s3:::acme-data/*")),
        on="aws-trust-role",
    ),
    case("gcp", "ID-09", edit_json("aws-trust-models", "policy", _drop_condition(0)), on="aws-trust-role"),
    case("gcp", "ID-09", edit_json("aws-trust-models", "policy", _drop_condition(2)), on="aws-trust-role"),
    case(
        "gcp",
        "ID-09",
        edit_json("aws-trust-models", "policy", _statement(1, Action=["s3:PutObject", "iam:PassRole"])),
        on="aws-trust-role",
    ),
    case(
        "gcp",
        "ID-09",
        edit_json(
            "aws-trust-models",
            "policy",
            _statement(1, Resource=["arn:aws:s3:::acme-data/models/*", "arn:aws:s3:::acme-data/data/*"]),
        ),
        on="aws-trust-role",
    ),
    case("gcp", "ID-01", edit_json("aws-trust-role", "assumeRolePolicy", _sub("system:serviceaccount:ml:*"))),
    # GCP trusting EKS: the provider pins the subject, the grant names one subject and one prefix.
    case("aws", "ID-09", delete_key("gcp-trust-provider", "attributeCondition")),
    case(
        "aws",
        "ID-09",
        set_key("gcp-trust-provider", "attributeCondition", "assertion.sub.startsWith('system:')"),
    ),
    case(
        "aws", "ID-09", set_key("gcp-trust-provider", "attributeMapping", {"google.subject": "assertion.aud"})
    ),
    case(
        "aws",
        "ID-09",
        update_key(
            MEMBER,
            "member",
            lambda m: m.replace("principal://", "principalSet://").replace(f"/subject/{SUBJECT}", "/*"),
        ),
    ),
    case("aws", "ID-09", set_key(MEMBER, "role", "roles/storage.admin")),
    case("aws", "ID-09", delete_key(MEMBER, "condition")),
    case("aws", "ID-09", set_key(MEMBER, "condition.expression", EVERY_OBJECT)),
    # Azure trusting EKS: one subject; the role assignment reaches models/ of one container only.
    case("aws", "ID-09", set_key("azure-trust-credential", "subject", "system:serviceaccount:ml")),
    case("aws", "ID-09", delete_key("azure-trust-models", "condition")),
    case(
        "aws",
        "ID-09",
        update_key("azure-trust-models", "condition", lambda c: c.replace("'models/'", "''", 1)),
    ),
    case("aws", "ID-09", update_key("azure-trust-models", "scope", lambda s: s.split("/blobServices/")[0])),
    case("aws", "ID-09", set_key("azure-trust-models", "conditionVersion", "1.0")),
    # ... through a custom role of the stack with blob data actions the condition names, and no action: a
    # condition cannot limit a management action, such as deleting the container through ARM.
    case(
        "aws",
        "ID-09",
        set_key(
            AZ_ROLE,
            "permissions[0].actions",
            ["Microsoft.Storage/storageAccounts/blobServices/containers/delete"],
        ),
        on=AZ_GRANT,
    ),
    case("aws", "ID-09", set_key(AZ_GRANT, "roleDefinitionId", BLOB_DATA_CONTRIBUTOR)),
    case("aws", "ID-09", set_key(AZ_GRANT, "roleDefinitionId", CONTRIBUTOR)),
    case(
        "aws",
        "ID-09",
        update_key(
            AZ_ROLE,
            DATA_ACTIONS,
            _plus("Microsoft.Storage/storageAccounts/queueServices/queues/messages/read"),
        ),
        on=AZ_GRANT,
    ),
    case("aws", "ID-09", update_key(AZ_ROLE, DATA_ACTIONS, _plus(f"{BLOBS}/tags/write")), on=AZ_GRANT),
    case("aws", "ID-09", set_key(AZ_ROLE, DATA_ACTIONS, [f"{BLOBS}/*"]), on=AZ_GRANT),
    case(
        "aws",
        "ID-09",
        set_depends_on(AZ_GRANT, ["azure-trust-identity"]),
        set_key(AZ_ROLE, "roleDefinitionId", "0a1b2c3d-0000-4000-8000-000000000000"),
        on=AZ_GRANT,
    ),
    # The replicator waits for every trust of it, on every other cloud.
    case("aws", "ID-08", set_depends_on("replicator", ["gcp-trust-provider", "azure-trust-credential"])),
    case("aws", "ID-08", set_depends_on("replicator", ["gcp-trust-provider", "gcp-trust-models"])),
    case("gcp", "ID-08", set_depends_on("replicator", [])),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)


def _azure_findings(*changes: Change) -> list[str]:
    return [str(v) for v in violations("ID-09", stack(changed(STACKS["aws"](), *changes), protect=True))]


def test_the_built_in_contributor_is_refused_for_its_container_management_actions() -> None:
    (finding,) = _azure_findings(set_key(AZ_GRANT, "roleDefinitionId", BLOB_DATA_CONTRIBUTOR))
    assert "Storage Blob Data Contributor carries management actions on the container" in finding


def test_during_preview_the_role_the_assignment_takes_its_id_from_is_checked() -> None:
    """The definition is created in the same run, so the assignment's role id is not known yet."""
    pending = set_key(AZ_GRANT, "roleDefinitionId", UNKNOWN)
    assert _azure_findings(pending) == []
    delete = ["Microsoft.Storage/storageAccounts/blobServices/containers/delete"]
    (finding,) = _azure_findings(pending, set_key(AZ_ROLE, "permissions[0].actions", delete))
    assert finding.startswith(f"ID-09 {AZ_GRANT}: the role grants management actions")
    (finding,) = _azure_findings(pending, set_depends_on(AZ_GRANT, ["azure-trust-identity"]))
    assert "is not a custom role definition of the stack" in finding


@pytest.mark.parametrize(
    ("condition", "subjects"),
    [
        ("assertion.sub == 'system:serviceaccount:ml:replicator'", ["system:serviceaccount:ml:replicator"]),
        (
            "assertion.sub in ['system:serviceaccount:kueue-system:r', 'system:serviceaccount:ml:r']",
            ["system:serviceaccount:kueue-system:r", "system:serviceaccount:ml:r"],
        ),
        ("assertion.sub in ['system:serviceaccount:ml:replicator', 'system:serviceaccount:ml']", []),
        ("assertion.sub in ['system:serviceaccount:ml:a'] || true", []),
        ("assertion.sub in ['system:serviceaccount:ml:a', x]", []),
        ("assertion.sub.startsWith('system:serviceaccount:ml:')", []),
    ],
)
def test_a_provider_admits_only_subjects_it_names_exactly(condition: str, subjects: list[str]) -> None:
    """One provider per foreign cluster, shared by the replicator and MultiKueue's refresher: a list of
    exact subjects, and nothing that could admit another."""
    assert condition_subjects(condition) == subjects
