"""Choosing the distribution strategy, and deriving `TF_CONFIG` from a Kubernetes Indexed Job.

- `TF_CONFIG` set: MultiWorkerMirroredStrategy as it describes.
- `TRAINER_WORKERS` > 1 in an Indexed Job: the same, with `TF_CONFIG` built from the pod's
  `JOB_COMPLETION_INDEX`. Indexed Job pods are named `<job>-<index>`; with `spec.subdomain` set to a
  headless Service they resolve as `<job>-<index>.<service>`, which is how workers find each other.
- Otherwise MirroredStrategy over several local GPUs, or the default strategy on one device.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from trainer.errors import GpuMissingError, UsageError

DEFAULT_WORKER_PORT = 2222


@dataclass(frozen=True)
class Placement:
    """The strategy to build the model under, and facts about where this process runs."""

    strategy: Any  # tf.distribute.Strategy (TensorFlow ships no type information)
    name: str
    replicas: int
    workers: int
    is_chief: bool  # only the chief writes the model directory and uploads checkpoints
    gpus: int


def tf_config_from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """`TF_CONFIG` as given, or derived from an Indexed Job, or None for a single worker."""
    if env.get("TF_CONFIG"):
        return _parse_tf_config(env["TF_CONFIG"])
    workers = _int_env(env, "TRAINER_WORKERS", default=1, low=1)
    if workers == 1:
        return None
    index = _int_env(env, "JOB_COMPLETION_INDEX", default=None, low=0)
    if index >= workers:
        raise UsageError(f"JOB_COMPLETION_INDEX={index} is not below TRAINER_WORKERS={workers}")
    job, service = _required(env, "TRAINER_JOB_NAME"), _required(env, "TRAINER_WORKER_SERVICE")
    port = _int_env(env, "TRAINER_WORKER_PORT", default=DEFAULT_WORKER_PORT, low=1)
    hosts = [f"{job}-{i}.{service}:{port}" for i in range(workers)]
    return {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}


def is_chief(tf_config: Mapping[str, Any] | None) -> bool:
    """The chief task, or worker 0 when the cluster has no chief (as in an Indexed Job)."""
    if not tf_config:
        return True
    task = tf_config.get("task", {})
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index") == 0 and "chief" not in tf_config["cluster"]


def require_gpus(expected: int) -> int:
    """The number of GPUs TensorFlow sees; `GpuMissingError` if fewer than `expected`."""
    visible = len(tf.config.list_physical_devices("GPU"))
    if visible < expected:
        raise GpuMissingError(
            f"expected {expected} GPU(s) (--expect-gpus / TRAINER_EXPECT_GPUS), TensorFlow sees {visible}: "
            "check the pod's nvidia.com/gpu limit and that the NVIDIA driver's libcuda is on "
            "LD_LIBRARY_PATH (GKE mounts it at /usr/local/nvidia/lib64)"
        )
    return visible


def choose(env: Mapping[str, str] | None = None) -> Placement:
    """Create the strategy; call this before any other TensorFlow work (multi-worker requires it)."""
    env = os.environ if env is None else env
    tf_config = tf_config_from_env(env)
    gpus = len(tf.config.list_physical_devices("GPU"))
    if tf_config is not None:
        # The strategy's cluster resolver reads TF_CONFIG from the environment.
        os.environ["TF_CONFIG"] = json.dumps(tf_config)
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        name, workers = (
            "MultiWorkerMirroredStrategy",
            len(tf_config["cluster"].get("worker", [])) + len(tf_config["cluster"].get("chief", [])),
        )
    elif gpus > 1:
        strategy, name, workers = tf.distribute.MirroredStrategy(), "MirroredStrategy", 1
    else:
        strategy, workers = tf.distribute.get_strategy(), 1
        name = f"default strategy on one device ({'GPU' if gpus else 'CPU'})"
    return Placement(strategy, name, int(strategy.num_replicas_in_sync), workers, is_chief(tf_config), gpus)


def _parse_tf_config(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"TF_CONFIG is not valid JSON ({exc.msg}): {text[:80]!r}") from None
    if not isinstance(value, dict) or "cluster" not in value or "task" not in value:
        raise UsageError(f"TF_CONFIG needs 'cluster' and 'task' keys, got {text[:80]!r}")
    return value


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise UsageError(
            f"{name} must be set when TRAINER_WORKERS > 1 (worker host is <job>-<index>.<service>)"
        )
    return value


def _int_env(env: Mapping[str, str], name: str, default: int | None, low: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        if default is None:
            raise UsageError(f"{name} must be set when TRAINER_WORKERS > 1 (an integer >= {low})")
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low:
        raise UsageError(f"environment variable {name}: expected an integer >= {low}, got {raw!r}")
    return value
