"""ID-10: MultiKueue's workers reached with short-lived tokens only. Each change that would hold a static
token, leave the kubeconfig Secret without a writer, or give an outside identity more than MultiKueue
needs is a finding on the object that carries it."""

from __future__ import annotations

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import (
    Change,
    assert_breaks,
    case,
    changed,
    delete_key,
    remove_resource,
    set_key,
    stack,
    violations,
)

MUTATIONS = [
    case("gcp", "ID-10", set_key("secret-aws", "stringData", {"kubeconfig": "token: x"}), on="cluster-aws"),
    case("gcp", "ID-10", set_key("secret-aws", "data", {"kubeconfig": "dG9rZW4="}), on="cluster-aws"),
    case("gcp", "ID-10", remove_resource("secret-aws"), on="cluster-aws"),
    case("gcp", "ID-10", remove_resource("refresher-role"), on="cluster-aws"),
    case("gcp", "ID-10", set_key("refresher-role", "rules[0].verbs", ["get"]), on="cluster-aws"),
    case("gcp", "ID-10", delete_key("refresher-role", "rules[0].resourceNames"), on="cluster-aws"),
    case("gcp", "ID-10", set_key("cluster-aws", "spec.clusterSource.kubeConfig.locationType", "Path")),
    case("gcp", "ID-10", set_key("cluster-aws", "spec.clusterSource", {"clusterProfileRef": {"name": "x"}})),
    case("aws", "ID-10", set_key("worker-role", "rules[0].resources", ["*"]), on="worker-binding"),
    case("aws", "ID-10", set_key("worker-role", "rules[1].resources", ["secrets"]), on="worker-binding"),
    case("aws", "ID-10", set_key("worker-role", "rules[0].verbs", ["impersonate"]), on="worker-binding"),
    case("aws", "ID-10", set_key("worker-binding", "roleRef.name", "cluster-admin")),
    case("aws", "ID-10", set_key("worker-role", "rules[0].verbs", ["get", "create"]), on="worker-binding"),
    case(
        "aws",
        "ID-10",
        set_key("worker-write-role", "rules[0].resources", ["secrets"]),
        on="worker-write-binding",
    ),
    case(
        "aws",
        "ID-10",
        set_key("worker-write-role", "rules[0].verbs", ["escalate"]),
        on="worker-write-binding",
    ),
    case("aws", "ID-10", remove_resource("worker-confinement"), on="worker-write-binding"),
    case("aws", "ID-10", remove_resource("worker-confinement-binding"), on="worker-write-binding"),
    case(
        "aws",
        "ID-10",
        set_key("worker-confinement-binding", "spec.validationActions", ["Warn"]),
        on="worker-write-binding",
    ),
    case(
        "aws",
        "ID-10",
        set_key(
            "worker-confinement", "spec.matchConditions[0].expression", '"other" in request.userInfo.groups'
        ),
        on="worker-write-binding",
    ),
    case(
        "aws",
        "ID-10",
        set_key("worker-confinement", "spec.validations", [{"expression": "true"}]),
        on="worker-write-binding",
    ),
]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)


def _messages(cloud: str, *changes: Change) -> list[str]:
    return [str(v) for v in violations("ID-10", stack(changed(STACKS[cloud](), *changes), protect=True))]


def test_each_finding_says_what_is_wrong() -> None:
    (static,) = _messages("gcp", set_key("secret-aws", "data", {"kubeconfig": "dG9rZW4="}))
    assert "a static credential in the state" in static
    (stale,) = _messages("gcp", remove_resource("refresher-role"))
    assert "nothing keeps its token fresh" in stale
    (secrets,) = _messages("aws", set_key("worker-role", "rules[1].resources", ["secrets"]))
    assert "binds an outside identity to multikueue-worker, which grants Secrets" in secrets
    (writes,) = _messages("aws", set_key("worker-role", "rules[0].verbs", ["get", "create", "delete"]))
    assert "grants create, delete in every namespace: bind writes per namespace" in writes
    (unconfined,) = _messages("aws", remove_resource("worker-confinement"))
    assert "lets gpu-platform:mk create Jobs that no ValidatingAdmissionPolicy bound with Deny" in unconfined


def test_a_service_account_binding_is_not_an_outside_identity() -> None:
    """A ServiceAccount subject is the cluster's own: ID-07 looks after those."""
    subject = {"kind": "ServiceAccount", "name": "x", "namespace": "kube-system"}
    wide = set_key("worker-role", "rules[0].resources", ["*"])
    assert _messages("aws", set_key("worker-binding", "subjects", [subject]), wide) == []
