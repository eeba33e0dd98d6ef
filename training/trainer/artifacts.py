"""Reading what `train` left in a model directory: the model, its config, its history."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import keras

from trainer import model as cnn
from trainer import storage
from trainer.config import ModelConfig
from trainer.errors import DataError
from trainer.train import CONFIG_FILE, HISTORY_FILE, MODEL_FILE


def require_trained(model_dir: storage.Location) -> dict[str, Any]:
    """The saved training config; its absence means no finished `train` run wrote this directory."""
    if not storage.exists(model_dir.child(CONFIG_FILE)):
        raise DataError(f"no trained model in {model_dir.uri} ({CONFIG_FILE} missing): run train first")
    config: dict[str, Any] = json.loads(storage.read_bytes(model_dir.child(CONFIG_FILE)))
    return config


def load_model(model_dir: storage.Location, scratch: Path) -> Any:
    local = Path(model_dir.child(MODEL_FILE).path) if model_dir.is_local else scratch / MODEL_FILE
    if not model_dir.is_local:
        storage.download_file(model_dir.child(MODEL_FILE), local)
    return keras.models.load_model(str(local))


def load_float32_model(model_dir: storage.Location, scratch: Path, config: dict[str, Any]) -> Any:
    """The trained model computing in float32, whatever precision it was trained in.

    A mixed-precision model runs float16 ops, which the TFLite converter rejects and which buy nothing
    at serving batch sizes; its variables are float32 already, so the float32 model is the same
    architecture, rebuilt from the saved config, with the same weights.
    """
    model = load_model(model_dir, scratch)
    if not config["runtime"]["mixed_precision"]:
        return model
    cnn.set_precision(False)
    data_set = config["data_set"]
    shape = (int(data_set["shape"][0]), int(data_set["shape"][1]), int(data_set["shape"][2]))
    rebuilt = cnn.build(shape, len(data_set["classes"]), ModelConfig(**config["model"]))
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def data_uri(option: str | None, config: dict[str, Any]) -> str:
    """`--data` if given, else the data set the model was trained on."""
    return option or str(config["data"])


def history(model_dir: storage.Location) -> list[dict[str, float]]:
    """Per-epoch metrics, one row per epoch: a restart may have logged an epoch twice, keep the last."""
    loc = model_dir.child(HISTORY_FILE)
    if not storage.exists(loc):
        return []
    rows: dict[int, dict[str, float]] = {}
    for row in csv.DictReader(io.StringIO(storage.read_bytes(loc).decode())):
        values = {k: float(v) for k, v in row.items() if v not in ("", None)}
        rows[int(values["epoch"])] = values
    return [rows[e] for e in sorted(rows)]
