"""The GPU defaults (mixed precision, XLA), forced on a CPU: train, then export and serve in float32."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.trained import run_cli


@pytest.fixture
def _float32_afterwards() -> Iterator[None]:
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.usefixtures("_float32_afterwards")
def test_mixed_precision_and_xla_train_and_export(digits: Path, tmp_path: Path) -> None:
    model_dir, serve = tmp_path / "model", tmp_path / "serve"
    flags = ("--mixed-precision", "--xla", "--epochs", "2")
    assert run_cli("train", "--data", digits, "--model-dir", model_dir, *flags) == 0
    runtime = json.loads((model_dir / "config.json").read_text())["runtime"]
    assert (runtime["mixed_precision"], runtime["xla"]) == (True, True)
    assert run_cli("export", "--model-dir", model_dir, "--out", serve) == 0

    serving = tf.saved_model.load(str(serve / "1")).signatures["serving_default"]
    images = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    probabilities = serving(image=tf.constant(images))["output_0"]
    assert probabilities.dtype == tf.float32
    np.testing.assert_allclose(probabilities.numpy().sum(axis=1), 1.0, rtol=1e-5)
    # export.json: TFLite top-1 agreement with this SavedModel on the test split, measured by export.
    report = json.loads((serve / "1" / "export.json").read_text())
    assert report["float"] >= 0.95
    assert report["int8"] >= 0.95
