"""One digits model per session, for the trainer's tests and the example app's: prepared, trained,
evaluated and exported through the trainer's CLI entry point (`trainer.__main__.main`) in this process,
so TensorFlow is imported once. `tests/conftest.py` holds the session fixtures that use it.
"""

from __future__ import annotations

import os

# Before TensorFlow or gcsfs is imported by any test: quiet C++ logs, and no 60 s HNS probe per bucket
# call against the GCS emulator (gcsfs reads the flag when it is imported).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.__main__ import main

EPOCHS = 15  # the acceptance bar: >= 0.95 test accuracy within 15 epochs
# Keras 3.15 saving TensorFlow variables under numpy 2 warns from inside Keras on every save; nothing
# in the trainer can act on it.
KERAS_NUMPY2 = "__array__ implementation doesn't accept a copy keyword"


@dataclass(frozen=True)
class Trained:
    data: Path
    model_dir: Path
    serve: Path  # export base path; version 1 is exported
    metrics: dict[str, Any]


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def prepare(out: Path) -> Path:
    """scikit-learn's digits, prepared with the default settings into `out`."""
    assert run_cli("prepare-data", "--out", out) == 0
    return out


def train(data: Path, root: Path) -> Trained:
    """train (15 epochs) → evaluate → export into `root`, all with default settings."""
    model_dir, serve = root / "model", root / "serve"
    with warnings.catch_warnings():  # whichever package's test first asks for the model
        warnings.filterwarnings("ignore", KERAS_NUMPY2, DeprecationWarning)
        assert run_cli("train", "--data", data, "--model-dir", model_dir, "--epochs", EPOCHS) == 0
        assert run_cli("evaluate", "--model-dir", model_dir) == 0
        assert run_cli("export", "--model-dir", model_dir, "--out", serve) == 0
    metrics = json.loads((model_dir / "metrics.json").read_text())
    return Trained(data, model_dir, serve, metrics)
