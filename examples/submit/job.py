"""The Job a submission creates: the template CronJob's `jobTemplate` (infra/kueue/template.py) as it is,
but for its name, the team's queue, a model version of its own and the trainer options asked for."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.kueue import QUEUE_LABEL

NAME_LIMIT = 52
"""A Job's pods are named `<job>-<index>-<suffix>` and labelled with the Job's name: 52 characters leave
room for them, as Kubernetes' own CronJob names do."""
VERSION_VAR = "TRAINER_MODEL_VERSION"
OPTIONS = {
    "epochs": "TRAINER_EPOCHS",
    "batch_size": "TRAINER_BATCH_SIZE",
    "filters": "TRAINER_FILTERS",
    "dense_units": "TRAINER_DENSE_UNITS",
}
"""The trainer options a submission may set, by argument, and the variables they set (trainer/cli.py)."""


@dataclass(frozen=True)
class Submission:
    name: str
    namespace: str
    queue: str
    version: int
    """The model version the Job exports: the submission's Unix time, so that no two Jobs, on whichever
    clouds they run, export one number (the replicator copies a version under its number everywhere)."""
    options: Mapping[str, int] = field(default_factory=dict)
    """Trainer variables and their values."""


def job_name(model: str, when: datetime) -> str:
    """`train-<model>-<UTC yyyymmdd-hhmmss>`, the model's part shortened to keep within `NAME_LIMIT`."""
    stamp = when.strftime("%Y%m%d-%H%M%S")
    prefix = f"train-{model}"[: NAME_LIMIT - len(stamp) - 1].rstrip("-")
    return f"{prefix}-{stamp}"


def build(cronjob: Mapping[str, Any], submission: Submission) -> dict[str, Any]:
    """The Job to create from the template CronJob as `kubectl get --output=json` returns it."""
    template = cronjob["spec"]["jobTemplate"]
    spec = copy.deepcopy(template["spec"])
    values = {VERSION_VAR: str(submission.version), **{k: str(v) for k, v in submission.options.items()}}
    for container in spec["template"]["spec"]["containers"]:
        container["env"] = _with(container.get("env") or [], values)
    labels = {**(template.get("metadata") or {}).get("labels", {}), QUEUE_LABEL: submission.queue}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": submission.name, "namespace": submission.namespace, "labels": labels},
        "spec": spec,
    }


def _with(env: list[dict[str, Any]], values: Mapping[str, str]) -> list[dict[str, Any]]:
    """`env` with each of `values` set: in the place of the entry of its name, else after the others (where
    no `$(VAR)` reference of the template can depend on it)."""
    present = {entry["name"] for entry in env}
    kept = [{"name": e["name"], "value": values[e["name"]]} if e["name"] in values else e for e in env]
    return kept + [{"name": name, "value": value} for name, value in values.items() if name not in present]
