"""The submit command end to end, against a stand-in `kubectl` for the manager (gcp here; the workers are
aws and azure): the Job it creates is the template's but for its name, queue, version and the options
asked for; it follows the Job to the version's URI on the cloud that ran it, or to its failure; outputs or
arguments it cannot use stop it before anything is created."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from examples.submit import __main__ as submit
from examples.submit.job import NAME_LIMIT, job_name
from infra.outputs import SCHEMA_VERSION
from tests.examples.standins import outputs

QUEUED = {"admissionChecks": [{"name": "multikueue", "state": "Pending", "message": "dispatching"}]}
ON_AWS = {"clusterName": "aws", "admissionChecks": [{"name": "multikueue", "state": "Ready"}]}
SUSPENDED = {"conditions": [{"type": "Suspended", "status": "True"}]}
RUNNING = {"active": 2}
COMPLETE = {"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]}
FAILED = {
    "failed": 1,
    "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "PodFailurePolicy", "message": "exit code 2"}
    ],
}
ENV = [
    {"name": "TRAINER_JOB_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['x']"}}},
    {"name": "TRAINER_MODEL_DIR", "value": "$(TRAINER_BUCKET)/training/$(TRAINER_JOB_NAME)"},
    {"name": "TRAINER_EPOCHS", "value": "15"},
    {"name": "TRAINER_BATCH_SIZE", "value": "32"},
    {"name": "TRAINER_WORKERS", "value": "2"},
]
TEMPLATE = {
    "metadata": {"labels": {"app": "trainer", "kueue.x-k8s.io/queue-name": "ml-multicloud"}},
    "spec": {
        "suspend": True,
        "managedBy": "kueue.x-k8s.io/multikueue",
        "completionMode": "Indexed",
        "completions": 2,
        "parallelism": 2,
        "template": {
            "metadata": {"labels": {"app": "trainer"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "trainer", "image": "i", "env": ENV}]},
        },
    },
}


def stack(tmp_path: Path, **cluster: Any) -> dict[str, Any]:
    """prod-like outputs: gcp manages, aws and azure work, teams ml and research; the manager's cluster."""
    doc = outputs(dict.fromkeys(("gcp", "aws", "azure"), ""))
    doc["environment"] = "prod"
    doc["dispatch"] = {
        "manager": "gcp",
        "workers": ["aws", "azure"],
        "namespace": "ml",
        "template": "train-digits",
        "queue": "ml-multicloud",
        "queues": {"ml": "ml-multicloud", "research": "research-multicloud"},
    }
    manager = {"cronjob": {"spec": {"jobTemplate": TEMPLATE}}, "record": str(tmp_path), **cluster}
    doc["kubeconfigs"] = {c: json.dumps(manager if c == "gcp" else {"api": "down"}) for c in doc["clouds"]}
    return doc


def run(tmp_path: Path, doc: dict[str, Any], kubectl: str, *extra: str) -> int:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(doc))
    args = ["--outputs", str(path), "--kubectl", kubectl, "--poll", "0", "--timeout", "5", *extra]
    return submit.main(args)


def created(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "created.json").read_text())
    return data


def test_follows_the_job_to_the_version_it_exported_on_the_cloud_that_ran_it(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack(tmp_path, workloads=[QUEUED, ON_AWS], jobs=[SUSPENDED, RUNNING, RUNNING, COMPLETE])
    before = int(time.time())
    assert run(tmp_path, doc, kubectl) == 0
    job = created(tmp_path)
    version = int(job["spec"]["template"]["spec"]["containers"][0]["env"][-1]["value"])
    assert before <= version <= time.time()
    name = job["metadata"]["name"]
    assert re.fullmatch(r"train-digits-\d{8}-\d{6}", name)
    assert capsys.readouterr().out.splitlines() == [
        f"submitted job {name} to queue ml-multicloud on gcp, model version {version}",
        "progress: 0 active, 0 succeeded, 0 failed; Suspended; check multikueue Pending: dispatching",
        "admitted on aws",
        "progress: 2 active, 0 succeeded, 0 failed",
        "progress: 0 active, 2 succeeded, 0 failed; Complete",
        f"exported model version {version} on aws: gs://b-aws/models/digits/{version}",
    ]


def test_the_job_is_the_template_with_the_team_queue_version_and_options(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack(tmp_path, workloads=[ON_AWS], jobs=[COMPLETE])
    assert run(tmp_path, doc, kubectl, "--team", "research", "--epochs", "3", "--filters", "64") == 0
    job = created(tmp_path)
    env = job["spec"]["template"]["spec"]["containers"][0].pop("env")
    version = env[-2]["value"]
    assert env == [
        *ENV[:2],
        {"name": "TRAINER_EPOCHS", "value": "3"},
        *ENV[3:],
        {"name": "TRAINER_MODEL_VERSION", "value": version},
        {"name": "TRAINER_FILTERS", "value": "64"},
    ]
    spec = json.loads(json.dumps(TEMPLATE["spec"]))
    del spec["template"]["spec"]["containers"][0]["env"]
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job["metadata"]["name"],
            "namespace": "ml",
            "labels": {"app": "trainer", "kueue.x-k8s.io/queue-name": "research-multicloud"},
        },
        "spec": spec,
    }
    assert "to queue research-multicloud on gcp" in capsys.readouterr().out


def test_a_failed_job_exits_1_with_its_reason(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack(tmp_path, workloads=[ON_AWS], jobs=[RUNNING, FAILED])
    assert run(tmp_path, doc, kubectl) == 1
    err = capsys.readouterr().err
    assert "failed (PodFailurePolicy: exit code 2) on aws" in err


def test_a_job_never_admitted_times_out_naming_what_it_waited_for(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = stack(tmp_path, workloads=[QUEUED], jobs=[SUSPENDED])
    assert run(tmp_path, doc, kubectl, "--timeout", "0") == 1
    err = capsys.readouterr().err
    assert "not complete after 0s (not admitted by any worker; " in err
    assert "check multikueue Pending: dispatching" in err


@pytest.mark.parametrize(
    "case",
    [
        ({}, ["--team", "nope"], "--team: unknown team 'nope'; allowed: ml, research"),
        ({"dispatch": None}, [], "dispatch: not in the outputs: the stack has no `queues.dispatch`"),
        ({"kubeconfigs": "[secret]"}, [], "kubeconfigs: hidden ([secret]): save the outputs with `pulumi "),
        ({"kubeconfigs": {"aws": "{}"}}, [], "kubeconfigs: none for gcp, only for aws"),
        ({"schemaVersion": 3}, [], f"schemaVersion\n  Input should be {SCHEMA_VERSION}"),
    ],
    ids=["unknown-team", "no-dispatch", "hidden-kubeconfigs", "no-manager-kubeconfig", "old-schema"],
)
def test_outputs_or_arguments_it_cannot_use_exit_2_before_anything_is_created(
    tmp_path: Path,
    kubectl: str,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], list[str], str],
) -> None:
    change, extra, message = case
    doc = {**stack(tmp_path, jobs=[COMPLETE], workloads=[ON_AWS]), **change}
    assert run(tmp_path, doc, kubectl, *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "created.json").exists()


def test_an_option_that_is_not_a_positive_number_is_a_usage_error(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(tmp_path, stack(tmp_path), kubectl, "--epochs", "0")
    assert exit_.value.code == 2
    assert "argument --epochs: '0' is not a positive whole number" in capsys.readouterr().err
    assert not (tmp_path / "created.json").exists()


def test_a_long_model_name_is_shortened_to_keep_the_job_name_a_dns_label() -> None:
    when = datetime(2026, 12, 5, 22, 52, 20, tzinfo=UTC)
    assert job_name("digits", when) == "train-digits-20261205-225220"
    long = job_name("a" * 30 + "-" + "b" * 30, when)
    assert len(long) == NAME_LIMIT
    assert re.fullmatch(r"train-a{30}-20261205-225220", long)
