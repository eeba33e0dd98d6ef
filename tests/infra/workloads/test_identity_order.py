"""Pods start only once the cloud side of their identity exists: each cloud's training Job and serving
Deployment depend on the resources its contract names for the role (the trust binding and the storage
grant), which are the real ones of each platform."""

from __future__ import annotations

import pytest

from plan.runner import Plan

JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
READY = {
    # cloud -> (trust binding, storage grant) name suffixes under the platform's identity component
    "aws": ("-association", "-policy"),
    "gcp": ("-wi", ""),
    "azure": ("-federation", "-storage"),
}
GCP_GRANTS = {"trainer": "-identity-trainer-objects", "serving": "-identity-serving-models"}


def _ready(plan: Plan, cloud: str, role: str) -> list[str]:
    trust, grant = READY[cloud]
    grant_name = GCP_GRANTS[role] if cloud == "gcp" else f"-identity-{role}{grant}"
    wanted = (f"-identity-{role}{trust}", grant_name)
    found = [r for r in plan.resources if r.cloud == cloud and r.custom and r.name.endswith(wanted)]
    assert len(found) == 2, [r.name for r in found]
    return [r.urn for r in found]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
@pytest.mark.parametrize(("kind", "role"), [(JOB, "trainer"), (DEPLOYMENT, "serving")])
def test_workloads_wait_for_their_identity(stack_plan: Plan, cloud: str, kind: str, role: str) -> None:
    (workload,) = [
        r
        for r in stack_plan.of_type(kind)
        if r.cloud == cloud and r.inputs["metadata"].get("namespace") == "ml"
    ]
    assert set(_ready(stack_plan, cloud, role)) <= set(workload.depends_on)
