"""Pods start only once the cloud side of their identity exists: each cloud's serving Deployment, and the
home cloud's training Job and replicator CronJob, depend on the resources its contract names for the
role (the trust binding and the storage grant), which are the real ones of each platform. The replicator
also waits until every other cloud trusts it, or its first run would be refused there."""

from __future__ import annotations

import pytest

from infra.clouds.base import WorkloadRole
from infra.workloads import APPS
from plan.manifests import integral
from plan.runner import Plan, PlannedResource
from tests.infra.workloads.helpers import CRON_JOB, DEPLOYMENT, JOB, pod_template
from tests.plans import waits_for

READY = {
    # cloud -> (trust binding, storage grant) name suffixes under the platform's identity component
    "aws": ("-association", "-policy"),
    "gcp": ("-wi", ""),
    "azure": ("-federation", "-storage"),
}
GCP_GRANTS = {
    "trainer": "-identity-trainer-objects",
    "serving": "-identity-serving-models",
    "replicator": "-identity-replicator-models",
}


def _ready(plan: Plan, cloud: str, role: str) -> list[str]:
    trust, grant = READY[cloud]
    grant_name = GCP_GRANTS[role] if cloud == "gcp" else f"-identity-{role}{grant}"
    wanted = (f"-identity-{role}{trust}", grant_name)
    found = [r for r in plan.resources if r.cloud == cloud and r.custom and r.name.endswith(wanted)]
    assert len(found) == 2, [r.name for r in found]
    return [r.urn for r in found]


def _workload(plan: Plan, cloud: str, kind: str, app: str) -> PlannedResource:
    """The one `kind` of namespace ml whose pods are `app`'s."""
    (workload,) = [
        r
        for r in plan.of_type(kind)
        if r.cloud == cloud
        and r.inputs["metadata"].get("namespace") == "ml"
        and pod_template(integral(r.inputs))["metadata"]["labels"]["app.kubernetes.io/name"] == app
    ]
    return workload


def home(plan: Plan) -> str:
    """The cloud that trains, as every cloud's model output names it."""
    (cloud,) = {out["model"]["trainedOn"] for out in plan.outputs["clouds"].values()}
    return str(cloud)


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_serving_waits_for_its_identity(stack_plan: Plan, cloud: str) -> None:
    workload = _workload(stack_plan, cloud, DEPLOYMENT, APPS["serving"])
    assert set(_ready(stack_plan, cloud, "serving")) <= set(workload.depends_on)


@pytest.mark.parametrize(("kind", "role"), [(JOB, "trainer"), (CRON_JOB, "replicator")])
def test_home_workloads_wait_for_their_identity(stack_plan: Plan, kind: str, role: WorkloadRole) -> None:
    cloud = home(stack_plan)
    workload = _workload(stack_plan, cloud, kind, APPS[role])
    assert set(_ready(stack_plan, cloud, role)) <= set(workload.depends_on)


def test_the_replicator_waits_until_every_other_cloud_trusts_it(stack_plan: Plan) -> None:
    """Each other cloud's federation to the home cluster (`<stack>-<cloud>-federation-<home>-*`): its
    trust of the home issuer and its grant on `models/`, directly or through what they depend on; not the
    sign-in it grants MultiKueue's refresher under the same trust (`-api-`), which the refresher waits for,
    nor the home cluster's cert-manager's Route 53 access (`-dns01-`), which cert-manager waits for."""
    cloud = home(stack_plan)
    replicator = _workload(stack_plan, cloud, CRON_JOB, APPS["replicator"])
    trust = [
        r
        for r in stack_plan.resources
        if r.custom
        and r.cloud != cloud
        and f"-{r.cloud}-federation-{cloud}-" in r.name
        and "-api-" not in r.name
        and "-dns01-" not in r.name
    ]
    assert {r.cloud for r in trust} == set(stack_plan.outputs["clouds"]) - {cloud}
    for resource in trust:
        assert waits_for(stack_plan, replicator, resource), resource.name
