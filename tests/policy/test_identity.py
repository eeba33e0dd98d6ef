"""ID-01..ID-08: pod trust scoped to one service account, least-privilege roles, exact GKE and Azure
workload identity bindings, scoped grants, dedicated Kubernetes service accounts, and workloads that wait
for the binding of their service account."""

from __future__ import annotations

from typing import Any

import pytest

from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.fixtures_aws import ISSUER
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, broken, case, json_edit, violations

POD = "spec.template.spec"
RG_SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
UNKNOWN = next(iter(UNKNOWNS))
OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def _condition(key: str, value: Any) -> Any:
    def edit(doc: Any) -> None:
        doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:{key}"] = value

    return json_edit(edit)


def _statement(index: int, **changes: Any) -> Any:
    def edit(doc: Any) -> None:
        doc["Statement"][index].update(changes)

    return json_edit(edit)


def _string_like(doc: Any) -> None:
    cond = doc["Statement"][0]["Condition"]
    cond["StringLike"] = cond.pop("StringEquals")


def _drop_aud(doc: Any) -> None:
    del doc["Statement"][0]["Condition"]["StringEquals"][f"{ISSUER}:aud"]


def _with_not_action(doc: Any) -> None:
    statement = doc["Statement"][0]
    statement["NotAction"] = statement.pop("Action")


MUTATIONS = [
    case("aws", "ID-01", ("trainer-pia", "serviceAccount", "*")),
    case("aws", "ID-01", ("trainer-pia", "serviceAccount", DELETE)),
    case("aws", "ID-01", ("trainer-pia", "namespace", DELETE)),
    case("aws", "ID-01", ("trainer-pia", REMOVE, None), on="trainer-role"),
    case("aws", "ID-01", ("vpc-cni", "podIdentityAssociations[0].serviceAccount", "*")),
    case("aws", "ID-01", ("vpc-cni", "podIdentityAssociations[0].serviceAccount", DELETE)),
    case("aws", "ID-01", ("vpc-cni", "podIdentityAssociations", DELETE), on="cni-role"),
    case(
        "aws", "ID-01", ("serving-role", "assumeRolePolicy", _condition("sub", "system:serviceaccount:ml:*"))
    ),
    case("aws", "ID-01", ("serving-role", "assumeRolePolicy", _condition("sub", "system:serviceaccount:ml"))),
    case("aws", "ID-01", ("serving-role", "assumeRolePolicy", _condition("aud", "sts"))),
    case("aws", "ID-01", ("serving-role", "assumeRolePolicy", json_edit(_drop_aud))),
    case("aws", "ID-01", ("serving-role", "assumeRolePolicy", json_edit(_string_like))),
    case("aws", "ID-01", ("serving-role", "assumeRolePolicy", _statement(0, Principal="*"))),
    case("aws", "ID-02", ("trainer-s3", "policy", _statement(0, Action="*"))),
    case("aws", "ID-02", ("trainer-s3", "policy", _statement(0, Action="s3:*"))),
    case("aws", "ID-02", ("trainer-s3", "policy", _statement(0, Resource="*"))),
    case("aws", "ID-02", ("trainer-s3", "policy", json_edit(_with_not_action))),
    case(
        "aws",
        "ID-02",
        ("serving-s3", "policy", _statement(0, Action=["s3:GetObject", "s3:PutObject"])),
        on="serving-role",
    ),
    case(
        "aws",
        "ID-02",
        ("node-worker", "policyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        on="node-role",
    ),
    case(
        "aws",
        "ID-02",
        (
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
    case("gcp", "ID-03", ("trainer-wi", "member", "serviceAccount:acme-dev.svc.id.goog[ml/*]")),
    case("gcp", "ID-03", ("trainer-wi", "member", "serviceAccount:acme-dev.svc.id.goog[ml]")),
    case("gcp", "ID-03", ("trainer-wi", "role", "roles/iam.serviceAccountTokenCreator")),
    case("gcp", "ID-03", ("trainer-sa", "metadata.annotations", DELETE)),
    case("gcp", "ID-03", ("trainer-sa", "metadata.annotations", {"iam.gke.io/gcp-service-account": "x@y"})),
    case("gcp", "ID-03", ("trainer-sa", REMOVE, None), on="trainer-wi"),
    case("gcp", "ID-04", ("node-role", "role", "roles/editor")),
    case("gcp", "ID-04", ("node-role", "role", "roles/owner")),
    case("gcp", "ID-04", ("node-role", "role", "roles/viewer")),
    case("gcp", "ID-04", ("node-role", "role", "roles/storage.objectAdmin")),
    case("azure", "ID-05", ("trainer-fic", "subject", "system:serviceaccount:ml:*")),
    case("azure", "ID-05", ("trainer-fic", "subject", DELETE)),
    case("azure", "ID-05", ("trainer-fic", "audiences", ["api://other"])),
    case("azure", "ID-05", ("trainer-fic", "audiences", DELETE)),
    case("azure", "ID-05", ("trainer-fic", "issuer", "http://issuer")),
    case("azure", "ID-05", ("trainer-fic", "issuer", DELETE)),
    case("azure", "ID-05", ("trainer-sa", "metadata.annotations", DELETE)),
    case("azure", "ID-05", ("train", "spec.template.metadata.labels", {"app": "trainer"})),
    case("azure", "ID-05", ("trainer-sa", REMOVE, None), on="trainer-fic"),
    case("azure", "ID-06", ("serving-blob", "scope", RG_SCOPE)),
    case("azure", "ID-06", ("serving-blob", "scope", "/subscriptions/00000000-0000-0000-0000-000000000000")),
    case("azure", "ID-06", ("serving-blob", "roleDefinitionId", OWNER)),
    case("gcp", "ID-07", ("train", f"{POD}.serviceAccountName", "default")),
    case("gcp", "ID-07", ("train", f"{POD}.serviceAccountName", DELETE)),
    case("gcp", "ID-07", ("serving", f"{POD}.automountServiceAccountToken", True)),
    case(
        "gcp",
        "ID-07",
        ("serving", f"{POD}.automountServiceAccountToken", DELETE),
        ("serving-sa", "automountServiceAccountToken", DELETE),
    ),
    case("gcp", "ID-07", ("serving-sa", REMOVE, None), on="serving"),
    case("aws", "ID-08", ("train", "@deps", ())),
    case("gcp", "ID-08", ("train", "@deps", ())),
    case("gcp", "ID-08", ("serving", "@deps", ())),
    case("gcp", "ID-08", ("train", "@deps", ("serving-wi",))),
    case("azure", "ID-08", ("train", "@deps", ())),
    case("azure", "ID-08", ("serving", "@deps", ("trainer-fic",))),
    case("gcp", "ID-08", ("train", f"{POD}.serviceAccountName", "serving")),
]


@pytest.mark.parametrize(
    ("cloud", "steps"),
    [
        # Serving on EKS trusts its role through IRSA: no binding resource to wait for.
        pytest.param("aws", (("serving", "@deps", ()),), id="no-binding-declared"),
        pytest.param("gcp", (("trainer-wi", REMOVE, None), ("train", "@deps", ())), id="binding-removed"),
        pytest.param(
            "gcp", (("trainer-wi", "member", UNKNOWN), ("train", "@deps", ())), id="member-not-known-yet"
        ),
        pytest.param(
            "gcp",
            (("trainer-wi", "role", "roles/iam.serviceAccountUser"), ("train", "@deps", ())),
            id="not-a-workload-identity-grant",
        ),
        pytest.param(
            "gcp",
            (("train", "metadata.namespace", "kube-system"), ("train", "@deps", ())),
            id="kube-system",
        ),
    ],
)
def test_workloads_without_a_declared_binding_need_not_wait(cloud: str, steps: tuple[Any, ...]) -> None:
    assert violations("ID-08", broken(STACKS[cloud](), steps)) == []


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
