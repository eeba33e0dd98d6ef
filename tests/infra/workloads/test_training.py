"""The training Job: Indexed with a headless Service (the trainer's TF_CONFIG), RL-05 (preemption-tolerant),
RL-06 (hygiene, scheduling on the pool), RL-07 (checkpoints in the stack's bucket), its command chain and
environment as the trainer reads them, and a name that changes with the image or the training config."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.workloads.training import CHAIN, data_uri, job_name
from plan.runner import Plan
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import IMAGE, JOB, SERVICE, Cluster, env
from tests.plans import plan_with, planned
from trainer import cli

DISTRIBUTION = ("TRAINER_WORKERS", "TRAINER_JOB_NAME", "TRAINER_WORKER_SERVICE", "TRAINER_WORKER_PORT")
IMAGE_REF = "registry.example/trainer@sha256:" + "a" * 64


def job(cluster: Cluster) -> dict[str, Any]:
    return cluster.one(JOB)


def trainer(cluster: Cluster) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = job(cluster)["spec"]["template"]["spec"]["containers"]
    return container


def bucket(plan: Plan, cloud: str | None) -> str:
    return str(plan.outputs["clouds"][cloud]["bucketUri"])


def test_indexed_job_with_one_pod_per_worker(any_cluster: Cluster) -> None:
    spec, workers = job(any_cluster)["spec"], any_cluster.cfg.training.workers
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == workers


def test_headless_service_gives_workers_their_names(any_cluster: Cluster) -> None:
    spec = job(any_cluster)["spec"]
    pod = spec["template"]["spec"]
    (service,) = [s for s in any_cluster.of(SERVICE) if s["spec"].get("clusterIP") == "None"]
    assert pod["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    assert service["spec"]["publishNotReadyAddresses"] is True
    values = env(trainer(any_cluster))
    assert values["TRAINER_WORKER_SERVICE"] == service["metadata"]["name"]
    assert values["TRAINER_JOB_NAME"] == job(any_cluster)["metadata"]["name"]
    assert int(values["TRAINER_WORKER_PORT"]) in {p["port"] for p in service["spec"]["ports"]}


def test_the_trainer_reads_the_distribution_variables() -> None:
    """trainer/distribute.py builds TF_CONFIG from these (read as text: importing it loads TensorFlow)."""
    spec = importlib.util.find_spec("trainer.distribute")
    assert spec is not None
    assert spec.origin is not None
    source = Path(spec.origin).read_text()
    for name in (*DISTRIBUTION, "JOB_COMPLETION_INDEX"):
        assert f'"{name}"' in source, name
    assert "DEFAULT_WORKER_PORT = 2222" in source


def test_rl05_preemption_is_ignored_and_retries_are_bounded(any_cluster: Cluster) -> None:
    spec = job(any_cluster)["spec"]
    rules = spec["podFailurePolicy"]["rules"]
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]} in rules
    usage = next(r for r in rules if r["action"] == "FailJob")
    assert usage["onExitCodes"] == {"containerName": "trainer", "operator": "In", "values": [2]}
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert 0 < spec["backoffLimit"] <= 10 * any_cluster.cfg.training.workers
    assert 0 < spec["backoffLimitPerIndex"] <= 10
    assert spec["maxFailedIndexes"] == 0


def test_rl06_ttl_tolerations_and_pool(any_cluster: Cluster) -> None:
    spec, cfg = job(any_cluster)["spec"], any_cluster.cfg
    pod = spec["template"]["spec"]
    assert spec["ttlSecondsAfterFinished"] > 0
    assert pod["nodeSelector"] == {"gpu-platform/pool": cfg.training.pool}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_a_deadline_frees_the_gpus_of_a_job_that_never_completes(any_cluster: Cluster) -> None:
    """A multi-worker Job half scheduled would hold its GPUs forever: the deadline ends it."""
    hours = any_cluster.cfg.training.active_deadline_hours
    assert job(any_cluster)["spec"]["activeDeadlineSeconds"] == hours * 3600


def test_grace_period_is_the_clouds_spot_notice(any_cluster: Cluster) -> None:
    """The trainer writes a last checkpoint between SIGTERM and the kill: as long as the cloud's notice."""
    notice = {"aws": 120, "gcp": 15, "azure": 30}
    pod = job(any_cluster)["spec"]["template"]["spec"]
    is_double = any_cluster.network == doubles.DOUBLE_NETWORK
    assert pod["terminationGracePeriodSeconds"] == (45 if is_double else notice[str(any_cluster.cloud)])


def test_the_trainer_expects_the_gpus_it_is_given(any_cluster: Cluster) -> None:
    """On GKE a missing driver path leaves TensorFlow on CPU without a word: the trainer is told how many
    GPUs it must see, which the pod's limit grants."""
    container = trainer(any_cluster)
    assert env(container)["TRAINER_EXPECT_GPUS"] == str(any_cluster.cfg.training.gpus_per_worker)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == str(any_cluster.cfg.training.gpus_per_worker)


def test_rl06_spot_pools_get_the_cloud_spot_tolerations(double: doubles.Built) -> None:
    cluster = double.cluster
    pool = cluster.cfg.pool(cluster.cfg.training.pool)
    assert pool is not None
    tolerations = job(cluster)["spec"]["template"]["spec"]["tolerations"]
    expected = list(double.double.spot_tolerations) if pool.spot else []
    assert tolerations[1:] == expected


def test_rl07_checkpoints_in_this_stacks_bucket(cluster: Cluster) -> None:
    root = bucket(planned(cluster.stack), cluster.cloud)
    values = env(trainer(cluster))
    name = job(cluster)["metadata"]["name"]
    assert values["TRAINER_CHECKPOINT_DIR"] == f"{root}/training/{name}/checkpoints"
    assert values["TRAINER_MODEL_DIR"] == f"{root}/training/{name}"
    assert values["TRAINER_EXPORT_DIR"] == f"{root}/models/{cluster.cfg.serving.model_name}"
    assert values["TRAINER_DATA"] == data_uri(root, cluster.cfg.training.data_source)


def test_skip_await_and_the_command_chain(any_cluster: Cluster) -> None:
    assert job(any_cluster)["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert trainer(any_cluster)["command"] == ["/bin/sh", "-c", CHAIN]
    steps = [
        line.split("python -m trainer ")[1].split(";")[0] for line in CHAIN.splitlines() if "trainer " in line
    ]
    assert steps == ["prepare-data", "train", "evaluate", "export"]


def test_every_trainer_variable_is_one_the_trainer_reads(any_cluster: Cluster) -> None:
    read = {opt.env for _, opts in cli.COMMANDS.values() for opt in opts} | set(DISTRIBUTION)
    ours = {k for k in env(trainer(any_cluster)) if k.startswith("TRAINER_")}
    assert ours <= read
    assert "TRAINER_DATA" in ours


def test_storage_env_reaches_the_trainer(double: doubles.Built) -> None:
    assert double.double.storage_env.items() <= env(trainer(double.cluster)).items()


def test_job_name_changes_with_image_and_config(cluster: Cluster) -> None:
    training = cluster.cfg.training
    base = job_name("digits", IMAGE_REF, training)
    assert base.startswith("train-digits-")
    assert len(base) <= 40
    assert job_name("digits", IMAGE_REF.replace("a" * 64, "b" * 64), training) != base
    assert job_name("digits", IMAGE_REF, training.model_copy(update={"epochs": training.epochs + 1})) != base
    assert job_name("digits", IMAGE_REF, training) == base


@pytest.fixture(scope="module")
def prebuilt() -> Plan:
    """dev with a training image built elsewhere, and one more epoch."""
    return plan_with({"gpu-platform:training": {"image": IMAGE_REF, "epochs": 11}})


def test_prebuilt_image_skips_the_build_and_renames_the_job(prebuilt: Plan, dev_plan: Plan) -> None:
    for cloud, out in prebuilt.outputs["clouds"].items():
        assert out["trainingImage"] == IMAGE_REF
        assert out["trainingJob"] != dev_plan.outputs["clouds"][cloud]["trainingJob"]
    names = [r.name for r in prebuilt.of_type(IMAGE)]
    assert names
    assert not [n for n in names if n.endswith("-trainer")]
    assert len(names) == len(dev_plan.of_type(IMAGE)) - len(prebuilt.outputs["clouds"])


def run_chain(tmp_path: Path, **env_vars: str) -> tuple[int, list[str]]:
    """The Job's command chain with a stand-in `python` that logs each trainer command (and fails on
    the one named in FAIL_ON with status 2)."""
    log = tmp_path / "commands"
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$3" >> {log}\n[ "$3" != "${{FAIL_ON:-}}" ] || exit 2\n')
    fake.chmod(0o755)
    env_ = {"PATH": f"{fake.parent}:/usr/bin:/bin", **env_vars}
    status = subprocess.run(["/bin/sh", "-c", CHAIN], env=env_, check=False).returncode
    return status, log.read_text().split() if log.exists() else []


def test_chain_runs_every_step_on_worker_0(tmp_path: Path) -> None:
    assert run_chain(tmp_path, TRAINER_SOURCE="digits", JOB_COMPLETION_INDEX="0") == (
        0,
        ["prepare-data", "train", "evaluate", "export"],
    )


def test_chain_other_workers_only_prepare_and_train(tmp_path: Path) -> None:
    assert run_chain(tmp_path, TRAINER_SOURCE="digits", JOB_COMPLETION_INDEX="1") == (
        0,
        ["prepare-data", "train"],
    )


def test_chain_without_a_source_trains_on_prepared_data(tmp_path: Path) -> None:
    assert run_chain(tmp_path, JOB_COMPLETION_INDEX="0") == (0, ["train", "evaluate", "export"])


def test_chain_stops_at_the_first_failure_with_its_status(tmp_path: Path) -> None:
    assert run_chain(tmp_path, TRAINER_SOURCE="digits", JOB_COMPLETION_INDEX="0", FAIL_ON="train") == (
        2,
        ["prepare-data", "train"],
    )
