"""What the manager may run on a MultiKueue worker (infra/kueue/confinement.py): the ValidatingAdmissionPolicy
each worker declares, evaluated with a CEL implementation (cel-python) as the API server would evaluate it,
against the Job the manager's template describes, copied as MultiKueue copies it, and against that Job
changed in each way the policy must refuse."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import celpy
import pytest
from celpy.adapter import json_to_cel

from examples.submit import job as submit_job
from infra.kueue import QUEUE_LABEL, confinement, multikueue
from tests.infra.kueue.test_multikueue import ROLE_BINDING, _named, _subject
from tests.plans import planned, waits_for

POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
CRON_JOB = "kubernetes:batch/v1:CronJob"
WORKERS = ("aws", "azure")

Job = dict[str, Any]


def evaluate(expression: str, **context: Any) -> bool:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    return bool(program.evaluate({k: json_to_cel(v) for k, v in context.items()}))


def refused(policy: dict[str, Any], job: Job) -> list[str]:
    """The messages of every validation `job` fails."""
    return [v["message"] for v in policy["spec"]["validations"] if not evaluate(v["expression"], object=job)]


def dispatched() -> Job:
    """The Job the submit command creates from the manager's template, as a worker receives it."""
    template = _named(planned("prod"), "gcp", CRON_JOB, "train-digits")["spec"]["jobTemplate"]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "train-digits-1"}, **template}


def pod(job: Job) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def _set(change: Callable[[dict[str, Any]], None]) -> Callable[[Job], Job]:
    def changed(job: Job) -> Job:
        job = copy.deepcopy(job)
        change(pod(job))
        return job

    return changed


BREACHES = {
    "as the replicator": _set(lambda p: p.update(serviceAccountName="replicator")),
    "with its API token": _set(lambda p: p.update(automountServiceAccountToken=True)),
    "another digest": _set(lambda p: p["containers"][0].update(image=p["containers"][0]["image"][:-1] + "0")),
    "an init container": _set(lambda p: p.update(initContainers=[dict(p["containers"][0], name="x")])),
    "another pull Secret": _set(lambda p: p.update(imagePullSecrets=[{"name": "someone-elses"}])),
    "a Secret volume": _set(lambda p: p["volumes"].append({"name": "s", "secret": {"secretName": "x"}})),
    "a Secret in env": _set(
        lambda p: p["containers"][0]["env"].append(
            {"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
        )
    ),
    "a Secret as envFrom": _set(lambda p: p["containers"][0]["envFrom"].append({"secretRef": {"name": "s"}})),
}


@pytest.mark.parametrize("cloud", WORKERS)
def test_the_templates_job_is_admitted_and_each_breach_refused_for_one_reason(cloud: str) -> None:
    policy = _named(planned("prod"), cloud, POLICY, confinement.NAME)
    job = dispatched()
    assert pod(job)["containers"][0]["image"] == planned("prod").outputs["clouds"]["gcp"]["training"]["image"]
    assert refused(policy, job) == []
    assert "cloud" not in job["spec"]["template"]["metadata"]["labels"]  # it runs on a worker, not on gcp
    for what, breach in BREACHES.items():
        assert len(refused(policy, breach(job))) == 1, what


@pytest.mark.parametrize("cloud", WORKERS)
def test_it_matches_the_managers_identity_only_and_denies_before_the_manager_may_write(cloud: str) -> None:
    plan = planned("prod")
    policy = _named(plan, cloud, POLICY, confinement.NAME)
    (condition,) = policy["spec"]["matchConditions"]
    subject = _subject(plan, cloud)
    manager = {"username": subject["name"], "groups": []}
    if subject["kind"] == "Group":
        manager = {
            "username": "arn:aws:sts::1:assumed-role/x/y",
            "groups": [subject["name"], "system:authenticated"],
        }
    assert evaluate(condition["expression"], request={"userInfo": manager})
    someone = {"username": "admin@example.com", "groups": ["system:authenticated"]}
    assert not evaluate(condition["expression"], request={"userInfo": someone})
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules == [
        {
            "apiGroups": ["batch"],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["jobs"],
        }
    ]
    assert policy["spec"]["failurePolicy"] == "Fail"
    binding = _named(plan, cloud, BINDING, confinement.NAME)
    assert binding["spec"] == {"policyName": confinement.NAME, "validationActions": ["Deny"]}
    (write,) = [
        r
        for r in plan.of_type(ROLE_BINDING)
        if r.cloud == cloud and r.inputs["metadata"]["name"] == multikueue.WORKER_WRITE
    ]
    (declared,) = [r for r in plan.of_type(BINDING) if r.cloud == cloud]
    assert waits_for(plan, write, declared)


@pytest.mark.parametrize("cloud", WORKERS)
def test_a_submitted_job_from_the_planned_template_is_admitted_on_every_worker(cloud: str) -> None:
    """The submit command's Job, built from the template the stack plans (not a copy of it), with options
    and a version of its own, is one each worker's policy admits, in that worker's queue."""
    plan = planned("prod")
    cronjob = _named(plan, "gcp", CRON_JOB, "train-digits")
    dispatch = plan.outputs["dispatch"]
    submission = submit_job.Submission(
        name="train-digits-20261205-120000",
        namespace=dispatch["namespace"],
        queue=dispatch["queue"],
        version=1_796_472_000,
        options={"TRAINER_EPOCHS": 3, "TRAINER_FILTERS": 64},
    )
    job = submit_job.build(cronjob, submission)
    assert refused(_named(plan, cloud, POLICY, confinement.NAME), job) == []
    queue = job["metadata"]["labels"][QUEUE_LABEL]
    local = _named(plan, cloud, "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue", queue)
    assert local["metadata"]["namespace"] == job["metadata"]["namespace"]
    env = {e["name"]: e.get("value") for e in pod(job)["containers"][0]["env"]}
    assert (env["TRAINER_MODEL_VERSION"], env["TRAINER_EPOCHS"], env["TRAINER_FILTERS"]) == (
        "1796472000",
        "3",
        "64",
    )
