"""Acceptance on the digits: accuracy bar, metrics and plots, the SavedModel, TFLite agreement."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.trained import EPOCHS, Trained, run_cli
from trainer import export, manifest, records, storage, tflite

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_reaches_the_accuracy_bar_within_15_epochs(trained: Trained) -> None:
    history = (trained.model_dir / "history.csv").read_text().splitlines()
    assert len(history) == 1 + EPOCHS
    assert trained.metrics["accuracy"] >= 0.95


def test_metrics_hold_precision_recall_f1_and_the_confusion_matrix(trained: Trained) -> None:
    metrics = trained.metrics
    classes = [str(i) for i in range(10)]
    for name in ("precision", "recall", "f1"):
        section = metrics[name]
        assert isinstance(section, dict)
        assert 0.9 <= section["macro"] <= 1.0
        assert sorted(section["per_class"], key=int) == classes
    matrix = metrics["confusion_matrix"]
    assert isinstance(matrix, dict)
    counts = np.array(matrix["matrix"])
    assert counts.shape == (10, 10)
    assert counts.sum() == metrics["test_rows"] == 270
    assert np.trace(counts) / counts.sum() == pytest.approx(metrics["accuracy"])


@pytest.mark.parametrize("name", ["training_curves.png", "confusion_matrix.png"])
def test_plots_are_valid_pngs(trained: Trained, name: str) -> None:
    path = trained.model_dir / name
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(path) as image:
        image.verify()  # raises on a truncated or corrupt file
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert min(image.size) >= 300


def test_config_is_saved_beside_the_model(trained: Trained) -> None:
    config = json.loads((trained.model_dir / "config.json").read_text())
    assert config["epochs"] == EPOCHS
    assert config["model"] == {
        "filters": 32,
        "dense_units": 128,
        "l1": 0.0,
        "l2": 0.0,
        "dropout": 0.0,
        "learning_rate": 0.001,
    }
    assert config["runtime"]["mixed_precision"] is False  # CPU: off by default
    assert config["runtime"]["xla"] is False
    assert config["data_set"] == {"shape": [8, 8, 1], "classes": [str(i) for i in range(10)]}
    assert list((trained.model_dir / "logs" / "train").iterdir()), "TensorBoard logs"


def _test_split(trained: Trained) -> tuple[np.ndarray, np.ndarray]:
    meta, files = manifest.stage(storage.locate(str(trained.data)), trained.data, ("test",))
    return records.arrays(files["test"], meta, "test")


def test_saved_model_serving_default_returns_probabilities(trained: Trained) -> None:
    version = trained.serve / "1"
    loaded = tf.saved_model.load(str(version))
    serving = loaded.signatures["serving_default"]
    assert list(serving.structured_input_signature[1]) == ["image"]
    x, y = _test_split(trained)
    outputs = serving(image=tf.constant(x[:32]))
    probabilities = outputs["output_0"].numpy()
    assert probabilities.shape == (32, 10)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(axis=1) == y[:32]).mean() >= 0.9
    signature = json.loads((version / "signature.json").read_text())
    assert signature["inputs"]["image"]["shape"] == [None, 8, 8, 1]


@pytest.mark.parametrize("name", ["model.tflite", "model_int8.tflite"])
def test_tflite_agrees_with_the_saved_model_on_the_test_set(trained: Trained, name: str) -> None:
    x, _ = _test_split(trained)
    serving = tf.saved_model.load(str(trained.serve / "1")).signatures["serving_default"]
    reference = serving(image=tf.constant(x))["output_0"].numpy()
    content = (trained.serve / "1" / name).read_bytes()
    assert tflite.agreement(content, x, reference) >= 0.95


def test_export_commits_whole_versions_and_never_overwrites(trained: Trained) -> None:
    version = trained.serve / "1"
    assert {p.name for p in trained.serve.iterdir()} >= {"1"}
    assert not [p for p in trained.serve.iterdir() if p.name.startswith(".")], "staging left behind"
    expected = {
        "saved_model.pb",
        "fingerprint.pb",
        "model.tflite",
        "model_int8.tflite",
        "signature.json",
        "export.json",
        "metrics.json",
        "config.json",
        "training_curves.png",
        "confusion_matrix.png",
        "SHA256SUMS",
    }
    assert expected <= {p.name for p in version.iterdir()}
    assert (version / "variables" / "variables.index").exists()
    assert run_cli("export", "--model-dir", trained.model_dir, "--out", trained.serve, "--version", "1") == 2


def test_export_numbers_the_next_version(tmp_path: Path) -> None:
    serve = storage.locate(str(tmp_path / "serve"))
    assert export.next_version(serve) == 1  # nothing there yet
    for name in ("7", "12", "notes", ".staging-abc-13"):
        (tmp_path / "serve" / name).mkdir(parents=True)
    assert export.next_version(serve) == 13


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs GNU coreutils' sha256sum")
def test_sha256sum_verifies_an_exported_version_by_its_manifest(trained: Trained) -> None:
    version = trained.serve / "1"
    files = sorted(p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file())
    result = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        check=False,
        cwd=version,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{rel}: OK" for rel in files if rel != "SHA256SUMS"]
