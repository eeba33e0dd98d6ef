"""ID-01..ID-08: pod trust scoped to one service account, least-privilege roles, exact GKE and Azure
workload identity bindings, scoped grants, dedicated Kubernetes service accounts, and workloads that wait
for the binding of their service account."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from policy.controls import identity
from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.fixtures_aws import BUCKET, ISSUER
from tests.policy.fixtures_azure import ADDRESS_ACTIONS, NETWORK_CONTRIBUTOR
from tests.policy.stacks import (
    Change,
    Fixture,
    assert_breaks,
    case,
    changed,
    delete_key,
    edit_json,
    remove_resource,
    set_depends_on,
    set_key,
    stack,
    violations,
)

POD = "spec.template.spec"


def _vnet(fixture: Fixture) -> Fixture:
    return dataclasses.replace(fixture, type="azure-native:network:VirtualNetwork")


READER = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
RG_SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
UNKNOWN = next(iter(UNKNOWNS))
OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def _condition(key: str, value: Any) -> Callable[[Any], None]:
    """Set the first statement's `StringEquals` condition on the issuer's `key` (sub, aud) to `value`."""

    def set_condition(doc: Any) -> None:
        doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:{key}"] = value

    return set_condition


def _statement(index: int, **changes: Any) -> Callable[[Any], None]:
    """Update statement `index` of a policy document with `changes`."""

    def update_statement(doc: Any) -> None:
        doc["Statement"][index].update(changes)

    return update_statement


def _string_like(doc: Any) -> None:
    cond = doc["Statement"][0]["Condition"]
    cond["StringLike"] = cond.pop("StringEquals")


def _drop_aud(doc: Any) -> None:
    del doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:aud"]


def _with_not_action(doc: Any) -> None:
    statement = doc["Statement"][0]
    statement["NotAction"] = statement.pop("Action")


MUTATIONS = [
    case("aws", "ID-01", set_key("trainer-pia", "serviceAccount", "*")),
    case("aws", "ID-01", delete_key("trainer-pia", "serviceAccount")),
    case("aws", "ID-01", delete_key("trainer-pia", "namespace")),
    case("aws", "ID-01", remove_resource("trainer-pia"), on="trainer-role"),
    case("aws", "ID-01", set_key("vpc-cni", "podIdentityAssociations[0].serviceAccount", "*")),
    case("aws", "ID-01", delete_key("vpc-cni", "podIdentityAssociations[0].serviceAccount")),
    case("aws", "ID-01", delete_key("vpc-cni", "podIdentityAssociations"), on="cni-role"),
    case(
        "aws",
        "ID-01",
        edit_json("serving-role", "assumeRolePolicy", _condition("sub", "system:serviceaccount:ml:*")),
    ),
    case(
        "aws",
        "ID-01",
        edit_json("serving-role", "assumeRolePolicy", _condition("sub", "system:serviceaccount:ml")),
    ),
    case("aws", "ID-01", edit_json("serving-role", "assumeRolePolicy", _condition("aud", "sts"))),
    case("aws", "ID-01", edit_json("serving-role", "assumeRolePolicy", _drop_aud)),
    case("aws", "ID-01", edit_json("serving-role", "assumeRolePolicy", _string_like)),
    case("aws", "ID-01", edit_json("serving-role", "assumeRolePolicy", _statement(0, Principal="*"))),
    case("aws", "ID-02", edit_json("trainer-s3", "policy", _statement(0, Action="*"))),
    case("aws", "ID-02", edit_json("trainer-s3", "policy", _statement(0, Action="s3:*"))),
    case("aws", "ID-02", edit_json("trainer-s3", "policy", _statement(0, Resource="*"))),
    case("aws", "ID-02", edit_json("trainer-s3", "policy", _with_not_action)),
    case(
        "aws",
        "ID-02",
        edit_json("serving-s3", "policy", _statement(0, Action=["s3:GetObject", "s3:PutObject"])),
        on="serving-role",
    ),
    case(
        "aws",
        "ID-02",
        edit_json("replicator-s3", "policy", _statement(0, Resource=f"arn:aws:s3:::{BUCKET}/*")),
        on="replicator-role",
    ),
    case(
        "aws",
        "ID-02",
        set_key("node-worker", "policyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        on="node-role",
    ),
    case(
        "aws",
        "ID-02",
        set_key(
            "trainer-role",
            "inlinePolicies",
            [
                {
                    "name": "all",
                    "policy": '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
                }
            ],
        ),
    ),
    case("gcp", "ID-03", set_key("trainer-wi", "member", "serviceAccount:acme-dev.svc.id.goog[ml/*]")),
    case("gcp", "ID-03", set_key("trainer-wi", "member", "serviceAccount:acme-dev.svc.id.goog[ml]")),
    case("gcp", "ID-03", set_key("trainer-wi", "role", "roles/iam.serviceAccountTokenCreator")),
    case("gcp", "ID-03", delete_key("trainer-sa", "metadata.annotations")),
    case(
        "gcp",
        "ID-03",
        set_key("trainer-sa", "metadata.annotations", {"iam.gke.io/gcp-service-account": "x@y"}),
    ),
    case("gcp", "ID-03", remove_resource("trainer-sa"), on="trainer-wi"),
    case("gcp", "ID-04", set_key("node-role", "role", "roles/editor")),
    case("gcp", "ID-04", set_key("node-role", "role", "roles/owner")),
    case("gcp", "ID-04", set_key("node-role", "role", "roles/viewer")),
    case("gcp", "ID-04", set_key("node-role", "role", "roles/storage.objectAdmin")),
    case("azure", "ID-05", set_key("trainer-fic", "subject", "system:serviceaccount:ml:*")),
    case("azure", "ID-05", delete_key("trainer-fic", "subject")),
    case("azure", "ID-05", set_key("trainer-fic", "audiences", ["api://other"])),
    case("azure", "ID-05", delete_key("trainer-fic", "audiences")),
    case("azure", "ID-05", set_key("trainer-fic", "issuer", "http://issuer")),
    case("azure", "ID-05", delete_key("trainer-fic", "issuer")),
    case("azure", "ID-05", delete_key("trainer-sa", "metadata.annotations")),
    case("azure", "ID-05", set_key("train", "spec.template.metadata.labels", {"app": "trainer"})),
    case("azure", "ID-05", remove_resource("trainer-sa"), on="trainer-fic"),
    case("azure", "ID-06", set_key("serving-blob", "scope", RG_SCOPE)),
    case(
        "azure",
        "ID-06",
        set_key("serving-blob", "scope", "/subscriptions/00000000-0000-0000-0000-000000000000"),
    ),
    case("azure", "ID-06", set_key("serving-blob", "roleDefinitionId", OWNER)),
    # A group's scope is let through only for a custom role of the stack that reads and joins public
    # addresses, on a group of public addresses alone: not Network Contributor (which Microsoft's AKS page
    # grants there), nor a built-in reader, nor one action more, a wildcard or a data action.
    case("azure", "ID-06", set_key("gateway-network", "roleDefinitionId", NETWORK_CONTRIBUTOR)),
    case("azure", "ID-06", set_key("gateway-network", "roleDefinitionId", READER)),
    *(
        case("azure", "ID-06", set_key("gateway-role", "permissions", [permission]), on="gateway-network")
        for permission in (
            {"actions": [*ADDRESS_ACTIONS, "Microsoft.Network/publicIPAddresses/write"]},
            {"actions": [*ADDRESS_ACTIONS, "Microsoft.Network/publicIPAddresses/delete"]},
            {"actions": ["Microsoft.Network/publicIPAddresses/*"]},
            {"actions": ["*"]},
            {
                "actions": ADDRESS_ACTIONS,
                "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
            },
        )
    ),
    case("azure", "ID-06", remove_resource("gateway-role"), on="gateway-network"),
    case("azure", "ID-06", Change("gateway-ip", "a VNet in the group", _vnet), on="gateway-network"),
    case("gcp", "ID-07", set_key("train", f"{POD}.serviceAccountName", "default")),
    case("gcp", "ID-07", delete_key("train", f"{POD}.serviceAccountName")),
    case("gcp", "ID-07", set_key("serving", f"{POD}.automountServiceAccountToken", True)),
    case(
        "gcp",
        "ID-07",
        delete_key("serving", f"{POD}.automountServiceAccountToken"),
        delete_key("serving-sa", "automountServiceAccountToken"),
    ),
    case("gcp", "ID-07", remove_resource("serving-sa"), on="serving"),
    case("aws", "ID-08", set_depends_on("train", [])),
    case("gcp", "ID-08", set_depends_on("train", [])),
    case("gcp", "ID-08", set_depends_on("serving", [])),
    case("gcp", "ID-08", set_depends_on("train", ["serving-wi"])),
    case("azure", "ID-08", set_depends_on("train", [])),
    case("azure", "ID-08", set_depends_on("serving", ["trainer-fic"])),
    case("gcp", "ID-08", set_key("train", f"{POD}.serviceAccountName", "serving")),
]


@pytest.mark.parametrize(
    ("cloud", "changes"),
    [
        # Serving on EKS trusts its role through IRSA: no binding resource to wait for.
        pytest.param("aws", (set_depends_on("serving", []),), id="no-binding-declared"),
        pytest.param(
            "gcp", (remove_resource("trainer-wi"), set_depends_on("train", [])), id="binding-removed"
        ),
        pytest.param(
            "gcp",
            (set_key("trainer-wi", "member", UNKNOWN), set_depends_on("train", [])),
            id="member-not-known-yet",
        ),
        pytest.param(
            "gcp",
            (set_key("trainer-wi", "role", "roles/iam.serviceAccountUser"), set_depends_on("train", [])),
            id="not-a-workload-identity-grant",
        ),
        pytest.param(
            "gcp",
            (set_key("train", "metadata.namespace", "kube-system"), set_depends_on("train", [])),
            id="kube-system",
        ),
    ],
)
def test_workloads_without_a_declared_binding_need_not_wait(cloud: str, changes: tuple[Change, ...]) -> None:
    assert violations("ID-08", stack(changed(STACKS[cloud](), *changes), protect=True)) == []


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)


@pytest.mark.parametrize(
    ("member", "allowed"),
    [
        ("serviceAccount:proj.svc.id.goog[ml/trainer]", True),
        (
            "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/aws-1/"
            "subject/system:serviceaccount:kueue-system:worker-token-refresher",
            True,
        ),
        (
            "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/aws-1/*",
            False,
        ),
        (
            "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/aws-1/"
            "subject/someone",
            False,
        ),
        ("serviceAccount:ci@proj.iam.gserviceaccount.com", False),
    ],
)
def test_workload_identity_user_only_for_one_service_account_here_or_of_another_cluster(
    member: str, allowed: bool
) -> None:
    """GKE's own workload identity, or one foreign service account through a pool (MultiKueue's refresher
    impersonating the account it signs in to GKE as; ID-09 checks its trust)."""
    props = {"role": "roles/iam.workloadIdentityUser", "member": member}
    found = list(identity.gke_binding("gcp:serviceaccount/iAMMember:IAMMember", props))
    assert (found == []) is allowed, found
