"""Typed configuration of each command, built from the parsed command line and environment.

`TrainConfig` is also what `train` saves beside the model (`config.json`), with the runtime choices it
resolved (strategy, replicas, mixed precision, XLA), so a model can always be traced to how it was made.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, TypeVar

C = TypeVar("C")


@dataclass(frozen=True)
class PrepareConfig:
    source: str
    out: str
    seed: int
    val_fraction: float
    test_fraction: float
    shards: int


@dataclass(frozen=True)
class ModelConfig:
    filters: int = 32
    dense_units: int = 128
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0
    learning_rate: float = 1e-3


@dataclass(frozen=True)
class TrainConfig:
    data: str
    model_dir: str
    checkpoint_dir: str | None
    epochs: int
    batch_size: int
    seed: int
    steps_per_execution: int
    mixed_precision: bool | None  # None: decide from the hardware
    xla: bool | None
    model: ModelConfig
    expect_gpus: int = 0  # 0: no expectation; a default so that older config.json files still load


@dataclass(frozen=True)
class EvaluateConfig:
    data: str | None  # None: the data the model was trained on, from its config.json
    model_dir: str
    batch_size: int


@dataclass(frozen=True)
class ExportConfig:
    model_dir: str
    out: str
    version: int | None  # None: one more than the highest version under `out`
    data: str | None


@dataclass(frozen=True)
class ReplicaLocation:
    """One `--location NAME=URI`: a cloud's name (for messages) and the model base path there."""

    name: str
    uri: str


@dataclass(frozen=True)
class ReplicateConfig:
    locations: list[ReplicaLocation]
    newest: int  # how many of the newest committed versions, across the locations, to keep in all


@dataclass(frozen=True)
class RefreshWorkersConfig:
    workers_file: str  # the workers file (JSON), see `workers_file`
    interval_minutes: int  # how often the CronJob runs: the refresh margin is twice this and a minute
    kube_api: str
    kube_token_file: str
    kube_ca_file: str


@dataclass(frozen=True)
class ServeConfig:
    model_base: str  # the base path `export` wrote versions under
    name: str  # the model's name in the URLs, `/v1/models/<name>`
    newest: int  # how many of the newest committed versions to load
    host: str
    port: int  # 0: any free port


@dataclass(frozen=True)
class BenchConfig:
    model: str
    synthetic: bool
    steps: int
    batch_size: int
    image_size: int


def from_namespace(cls: type[C], args: argparse.Namespace) -> C:
    """Build a config dataclass from parsed options; a nested `model` section takes its own fields."""
    values = vars(args)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name == "model" and cls is TrainConfig:
            kwargs["model"] = from_namespace(ModelConfig, args)
        else:
            kwargs[f.name] = values[f.name]
    return cls(**kwargs)


def to_json(config: object, **extra: object) -> str:
    return json.dumps({**dataclasses.asdict(config), **extra}, indent=2, sort_keys=True) + "\n"  # type: ignore[call-overload]


def train_config_from_json(text: str) -> TrainConfig:
    raw = json.loads(text)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in raw.items() if k in names}
    values["model"] = ModelConfig(**raw["model"])
    return TrainConfig(**values)
