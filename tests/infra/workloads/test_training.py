"""The training Job: Indexed with a headless Service (the trainer's TF_CONFIG), RL-05 (preemption-tolerant),
RL-06 (hygiene, scheduling on the pool), RL-07 (checkpoints in the stack's bucket), its command chain and
environment as the trainer reads them, and a name that changes with the image or the training config.

Only the stack's home cloud (`training.cloud`) trains; every other cloud serves the versions the
replicator copies into its own bucket, and declares nothing of training."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from infra.catalog import Cloud
from infra.kueue import QUEUE_LABEL
from infra.workloads import model_sync
from infra.workloads.training import CHAIN, data_uri, job_name
from plan.manifests import integral
from plan.runner import Plan
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import (
    CRON_JOB,
    DEPLOYMENT,
    IMAGE,
    JOB,
    REPLICATOR,
    SERVICE,
    TRAINING,
    Cluster,
    env,
    expanded_env,
    pod_template,
)
from tests.plans import plan_with, planned, stack_values
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


def headless(cluster: Cluster) -> list[dict[str, Any]]:
    return [s for s in cluster.of(SERVICE) if s["spec"].get("clusterIP") == "None"]


def test_each_stack_trains_on_the_cloud_its_file_names(stack_plan: Plan) -> None:
    """`training.cloud` of the stack file (else the first of `clouds`) is the one cloud whose outputs
    carry training, and the one every cloud's model names as where it was trained."""
    values = stack_values(stack_plan.stack)
    home = values["gpu-platform:training"].get("cloud") or values["gpu-platform:clouds"][0]
    clouds = stack_plan.outputs["clouds"]
    assert len(clouds) > 1
    assert [cloud for cloud, out in clouds.items() if out["training"] is not None] == [home]
    assert {out["model"]["trainedOn"] for out in clouds.values()} == {home}
    jobs = [
        r
        for r in stack_plan.of_type(JOB)
        if r.inputs["metadata"]["namespace"] == values["gpu-platform:namespace"]
    ]
    assert [r.cloud for r in jobs] == [home]


def test_clouds_that_do_not_train_only_serve(serving_only: Cluster) -> None:
    """No Job, no headless Service, no trainer image, no replicator: the Deployment alone, its model-sync
    sidecar reading this cloud's own bucket, where the home cloud's replicator copies each version."""
    assert not serving_only.of(JOB)
    # A MultiKueue worker has the trainer's environment for the Jobs dispatched to it.
    assert len(headless(serving_only)) == serving_only.runs_dispatched
    assert not serving_only.of(CRON_JOB)
    assert not [r for r in serving_only.resources if r.type in (TRAINING, REPLICATOR)]
    assert not [r for r in serving_only.resources if r.type == IMAGE and r.name.endswith("-trainer")]
    assert [kind for kind, _, _ in serving_only.workload_pods()] == ["Deployment"]
    pod = pod_template(serving_only.one(DEPLOYMENT))["spec"]
    assert [c["name"] for c in pod["containers"]] == ["serving"]
    (sync,) = pod["initContainers"]
    model = planned(serving_only.stack).outputs["clouds"][serving_only.cloud]["model"]
    assert model["uri"] != model["sourceUri"]
    scheme, path = model["uri"].split("://", 1)
    backend, _ = model_sync.BACKENDS[scheme]
    assert env(sync)["MODEL_SOURCE"] == f":{backend}:{path}"


def test_indexed_job_with_one_pod_per_worker(home_cluster: Cluster) -> None:
    spec, workers = job(home_cluster)["spec"], home_cluster.cfg.training.workers
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == workers


def test_headless_service_gives_workers_their_names(home_cluster: Cluster) -> None:
    spec = job(home_cluster)["spec"]
    pod = spec["template"]["spec"]
    (service,) = headless(home_cluster)
    assert pod["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    assert service["spec"]["publishNotReadyAddresses"] is True
    name = job(home_cluster)["metadata"]["name"]
    values = expanded_env(home_cluster, trainer(home_cluster), name)
    assert values["TRAINER_WORKER_SERVICE"] == service["metadata"]["name"]
    assert values["TRAINER_JOB_NAME"] == name
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


def test_rl05_preemption_is_ignored_and_retries_are_bounded(home_cluster: Cluster) -> None:
    spec = job(home_cluster)["spec"]
    rules = spec["podFailurePolicy"]["rules"]
    assert {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]} in rules
    usage = next(r for r in rules if r["action"] == "FailJob")
    assert usage["onExitCodes"] == {"containerName": "trainer", "operator": "In", "values": [2]}
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert 0 < spec["backoffLimit"] <= 10 * home_cluster.cfg.training.workers
    assert 0 < spec["backoffLimitPerIndex"] <= 10
    assert spec["maxFailedIndexes"] == 0


def test_rl06_ttl_tolerations_and_queue(home_cluster: Cluster) -> None:
    """The pool is Kueue's choice among the team's flavors (tests/infra/kueue), not the Job's: the Job
    names its queue and is created suspended, so no pod starts before the queue admits all of them."""
    spec, cfg = job(home_cluster)["spec"], home_cluster.cfg
    pod = spec["template"]["spec"]
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["suspend"] is True
    assert job(home_cluster)["metadata"]["labels"][QUEUE_LABEL] == cfg.training_team().name
    assert "nodeSelector" not in pod
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_a_deadline_frees_the_gpus_of_a_job_that_never_completes(home_cluster: Cluster) -> None:
    """A multi-worker Job half scheduled would hold its GPUs forever: the deadline ends it."""
    hours = home_cluster.cfg.training.active_deadline_hours
    assert job(home_cluster)["spec"]["activeDeadlineSeconds"] == hours * 3600


def test_grace_period_is_the_clouds_spot_notice(home_cluster: Cluster) -> None:
    """The trainer writes a last checkpoint between SIGTERM and the kill: as long as the cloud's notice."""
    notice = {"aws": 120, "gcp": 15, "azure": 30}
    pod = job(home_cluster)["spec"]["template"]["spec"]
    expected = 45 if doubles.is_double(home_cluster) else notice[str(home_cluster.cloud)]
    assert pod["terminationGracePeriodSeconds"] == expected


def test_the_trainer_expects_the_gpus_it_is_given(home_cluster: Cluster) -> None:
    """On GKE a missing driver path leaves TensorFlow on CPU without a word: the trainer is told how many
    GPUs it must see, which the pod's limit grants."""
    container, gpus = trainer(home_cluster), str(home_cluster.cfg.training.gpus_per_worker)
    assert env(container)["TRAINER_EXPECT_GPUS"] == gpus
    assert container["resources"]["limits"]["nvidia.com/gpu"] == gpus


def test_rl06_spot_pools_get_the_cloud_spot_tolerations(double: doubles.Built) -> None:
    """Kueue adds an admitted Job's flavor's tolerations to its pods: a spot pool's flavor carries the
    cloud's spot taint, an on-demand one only the GPU taint the Job tolerates itself."""
    cluster = double.cluster
    (only_gpu,) = job(cluster)["spec"]["template"]["spec"]["tolerations"]
    for pool in cluster.cfg.pools_on(cast(Cloud, double.double.cloud)):
        tolerations = double.flavors[pool.name]["tolerations"]
        expected = list(double.double.spot_tolerations) if pool.spot else []
        assert tolerations == [only_gpu, *expected], pool.name


def test_rl07_checkpoints_in_this_stacks_bucket(planned_home: Cluster) -> None:
    root = bucket(planned(planned_home.stack), planned_home.cloud)
    name = job(planned_home)["metadata"]["name"]
    values = expanded_env(planned_home, trainer(planned_home), name)
    assert values["TRAINER_CHECKPOINT_DIR"] == f"{root}/training/{name}/checkpoints"
    assert values["TRAINER_MODEL_DIR"] == f"{root}/training/{name}"
    assert values["TRAINER_EXPORT_DIR"] == f"{root}/models/{planned_home.cfg.serving.model_name}"
    assert values["TRAINER_DATA"] == data_uri(root, planned_home.cfg.training.data_source)


def test_skip_await_and_the_command_chain(home_cluster: Cluster) -> None:
    assert job(home_cluster)["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert trainer(home_cluster)["command"] == ["/bin/sh", "-c", CHAIN]
    steps = [
        line.split("python -m trainer ")[1].split(";")[0] for line in CHAIN.splitlines() if "trainer " in line
    ]
    assert steps == ["prepare-data", "train", "evaluate", "export"]


def test_every_trainer_variable_is_one_the_trainer_reads(home_cluster: Cluster) -> None:
    read = {opt.env for _, opts in cli.COMMANDS.values() for opt in opts} | set(DISTRIBUTION)
    ours = {k for k in env(trainer(home_cluster)) if k.startswith("TRAINER_")}
    assert ours <= read
    assert "TRAINER_DATA" in ours


def test_storage_env_reaches_the_trainer(double: doubles.Built) -> None:
    values = expanded_env(double.cluster, trainer(double.cluster), "job")
    assert double.double.storage_env.items() <= values.items()


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
    """The home cloud trains (and replicates) with the given image; the others still train nothing."""
    trained = {c: out["training"] for c, out in prebuilt.outputs["clouds"].items() if out["training"]}
    (home,) = trained
    assert trained[home]["image"] == IMAGE_REF
    assert trained[home]["job"] != dev_plan.outputs["clouds"][home]["training"]["job"]
    (cron_job,) = [integral(r.inputs) for r in prebuilt.of_type(CRON_JOB)]
    (replicator,) = pod_template(cron_job)["spec"]["containers"]
    assert replicator["image"] == IMAGE_REF
    names = [r.name for r in prebuilt.of_type(IMAGE)]
    assert names
    assert not [n for n in names if n.endswith("-trainer")]
    assert len(names) == len(dev_plan.of_type(IMAGE)) - 1


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
