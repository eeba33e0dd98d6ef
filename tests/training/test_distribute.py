"""TF_CONFIG from a Kubernetes Indexed Job, the chief, and the single-device fallback."""

from __future__ import annotations

import json

import pytest

from trainer import distribute
from trainer.errors import UsageError

JOB = {
    "TRAINER_WORKERS": "3",
    "TRAINER_JOB_NAME": "train-digits",
    "TRAINER_WORKER_SERVICE": "train-digits-workers",
}


def test_indexed_job_env_becomes_tf_config() -> None:
    config = distribute.tf_config_from_env({**JOB, "JOB_COMPLETION_INDEX": "2"})
    assert config == {
        "cluster": {
            "worker": [
                "train-digits-0.train-digits-workers:2222",
                "train-digits-1.train-digits-workers:2222",
                "train-digits-2.train-digits-workers:2222",
            ]
        },
        "task": {"type": "worker", "index": 2},
    }
    assert not distribute.is_chief(config)


def test_worker_zero_is_the_chief_and_the_port_can_change() -> None:
    config = distribute.tf_config_from_env(
        {**JOB, "JOB_COMPLETION_INDEX": "0", "TRAINER_WORKER_PORT": "5000"}
    )
    assert config is not None
    assert config["cluster"]["worker"][0] == "train-digits-0.train-digits-workers:5000"
    assert distribute.is_chief(config)


def test_explicit_tf_config_wins_over_the_job_env() -> None:
    given = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}
    config = distribute.tf_config_from_env(
        {**JOB, "JOB_COMPLETION_INDEX": "1", "TF_CONFIG": json.dumps(given)}
    )
    assert config == given
    assert not distribute.is_chief(config)  # a cluster with a chief: worker 0 is not it


@pytest.mark.parametrize("env", [{}, {"TRAINER_WORKERS": "1", "JOB_COMPLETION_INDEX": "0"}])
def test_one_worker_needs_no_cluster(env: dict[str, str]) -> None:
    assert distribute.tf_config_from_env(env) is None
    assert distribute.is_chief(None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**JOB}, "JOB_COMPLETION_INDEX must be set when TRAINER_WORKERS > 1"),
        ({**JOB, "JOB_COMPLETION_INDEX": "3"}, "JOB_COMPLETION_INDEX=3 is not below TRAINER_WORKERS=3"),
        (
            {**JOB, "JOB_COMPLETION_INDEX": "0", "TRAINER_WORKER_SERVICE": ""},
            "TRAINER_WORKER_SERVICE must be set",
        ),
        (
            {"TRAINER_WORKERS": "two"},
            "environment variable TRAINER_WORKERS: expected an integer >= 1, got 'two'",
        ),
        ({"TF_CONFIG": "{nope"}, "TF_CONFIG is not valid JSON"),
        ({"TF_CONFIG": '{"cluster": {}}'}, "TF_CONFIG needs 'cluster' and 'task' keys"),
    ],
)
def test_bad_cluster_settings_are_usage_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        distribute.tf_config_from_env(env)


def test_no_cluster_and_no_gpu_is_the_default_strategy_on_one_device() -> None:
    placement = distribute.choose({})
    assert placement.name == "default strategy on one device (CPU)"
    assert (placement.replicas, placement.workers, placement.gpus, placement.is_chief) == (1, 1, 0, True)
