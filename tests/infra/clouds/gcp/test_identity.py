"""Workload identity (ID-03, ID-04): one GSA per workload, bound to exactly its Kubernetes service account,
with storage roles on this stack's bucket only."""

from __future__ import annotations

import pytest

from infra.clouds.base import model_prefix
from infra.clouds.gcp.identity import prefix_condition
from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import (
    ACCOUNT,
    BUCKET_IAM,
    CLUSTER,
    SA_IAM,
    gcp,
    gcp_config,
    named,
    one,
    stack_config,
)


@pytest.mark.parametrize("role", ["trainer", "serving"])
def test_id03_binding_names_exactly_one_kubernetes_service_account(stack_plan: Plan, role: str) -> None:
    cfg = stack_config(stack_plan)
    project = gcp_config(stack_plan).project
    gsa = named(stack_plan, ACCOUNT, f"-identity-{role}")
    binding = named(stack_plan, SA_IAM, f"-identity-{role}-wi")
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == f"serviceAccount:{project}.svc.id.goog[{cfg.namespace}/{role}]"
    assert binding.inputs["serviceAccountId"] == f"projects/{project}/serviceAccounts/{_email(gsa.inputs)}"
    # The identity pool exists once the cluster does.
    assert one(stack_plan, CLUSTER).urn in binding.depends_on


def test_id03_no_other_workload_identity_bindings(stack_plan: Plan) -> None:
    """The workload roles', and where GKE is MultiKueue's manager its refresher's (the registry puller)."""
    bindings = [b for b in gcp(stack_plan, SA_IAM) if b.inputs["role"] == "roles/iam.workloadIdentityUser"]
    members = sorted(b.inputs["member"].split("[", 1)[1] for b in bindings)
    dispatch = stack_plan.outputs.get("dispatch") or {}
    puller = ["kueue-system/worker-token-refresher]"] if dispatch.get("manager") == "gcp" else []
    assert members == sorted(["ml/replicator]", "ml/serving]", "ml/trainer]", *puller])


def test_id04_trainer_object_admin_on_this_bucket_only(stack_plan: Plan) -> None:
    section = gcp_config(stack_plan)
    grant = named(stack_plan, BUCKET_IAM, "-trainer-objects").inputs
    trainer = named(stack_plan, ACCOUNT, "-identity-trainer").inputs
    assert grant == {
        "bucket": section.bucket_name,
        "role": "roles/storage.objectAdmin",
        "member": f"serviceAccount:{_email(trainer)}",
    }


def test_id04_serving_reads_only_the_models_prefix(stack_plan: Plan) -> None:
    section = gcp_config(stack_plan)
    grant = named(stack_plan, BUCKET_IAM, "-serving-models").inputs
    serving = named(stack_plan, ACCOUNT, "-identity-serving").inputs
    assert grant["bucket"] == section.bucket_name
    assert grant["role"] == "roles/storage.objectViewer"
    assert grant["member"] == f"serviceAccount:{_email(serving)}"
    expression = grant["condition"]["expression"]
    assert (
        f'resource.name.startsWith("projects/_/buckets/{section.bucket_name}/objects/models/")' in expression
    )
    assert (
        'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("models/")' in expression
    )


def test_id04_the_replicator_reads_and_writes_the_models_prefix_only(stack_plan: Plan) -> None:
    """A version another cloud exported is copied in here too: objects only, under the model's prefix."""
    section = gcp_config(stack_plan)
    grant = named(stack_plan, BUCKET_IAM, "-replicator-models").inputs
    replicator = named(stack_plan, ACCOUNT, "-identity-replicator").inputs
    assert grant["role"] == "roles/storage.objectUser"
    assert grant["member"] == f"serviceAccount:{_email(replicator)}"
    assert grant["condition"] == prefix_condition(
        section.bucket_name,
        model_prefix(stack_config(stack_plan).serving.model_name),
        "Read, write, delete and list",
    )


def _email(account_inputs: dict[str, str]) -> str:
    return f"{account_inputs['accountId']}@{account_inputs['project']}.iam.gserviceaccount.com"
