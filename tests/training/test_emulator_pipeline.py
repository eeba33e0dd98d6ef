"""The whole pipeline with data, model directory and exports in a bucket, on each emulator."""

from __future__ import annotations

import json

import pytest

from tests.trained import run_cli
from tests.training import emulators
from tests.training.test_storage_emulators import new_bucket
from trainer import storage


def test_prepare_train_resume_evaluate_export_in_a_bucket(
    store_env: emulators.Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = new_bucket(store_env.scheme)
    data, model_dir, serve = (bucket.child(p).uri for p in ("data", "model", "models/digits"))
    assert run_cli("prepare-data", "--out", data, "--shards", "2") == 0
    assert run_cli("train", "--data", data, "--model-dir", model_dir, "--epochs", "1") == 0
    # A second run with more epochs restores the checkpoint from the bucket and trains only what is left.
    capsys.readouterr()
    assert run_cli("train", "--data", data, "--model-dir", model_dir, "--epochs", "2") == 0
    output = capsys.readouterr().out
    assert "1 of 2 epoch(s) done" in output
    assert "Epoch 2/2" in output
    assert "Epoch 1/2" not in output
    assert run_cli("evaluate", "--model-dir", model_dir) == 0
    assert run_cli("export", "--model-dir", model_dir, "--out", serve) == 0

    files = storage.list_files(bucket)
    expected = {
        "data/manifest.json",
        "data/train-00000-of-00002.tfrecord",
        "model/model.keras",
        "model/config.json",
        "model/history.csv",
        "model/checkpoints/latest.weights.h5",
        "model/checkpoints/training_metadata.json",
        "model/metrics.json",
        "model/training_curves.png",
        "model/confusion_matrix.png",
        "models/digits/1/saved_model.pb",
        "models/digits/1/SHA256SUMS",
        "models/digits/1/variables/variables.index",
        "models/digits/1/model.tflite",
        "models/digits/1/model_int8.tflite",
    }
    assert expected <= set(files)
    assert any(f.startswith("model/logs/train/") for f in files)
    raw = bucket.fs.find(bucket.path)
    assert not [f for f in raw if storage.TEMP_PREFIX in f or storage.STAGING_PREFIX in f]
    metadata = json.loads(storage.read_bytes(bucket.child("model/checkpoints/training_metadata.json")))
    assert metadata["epoch"] == 2
    metrics = json.loads(storage.read_bytes(bucket.child("model/metrics.json")))
    assert metrics["test_rows"] == 270


def test_a_missing_bucket_fails_the_command_with_one_line(
    store_env: emulators.Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    out = f"{store_env.scheme}://no-such-bucket-cli/data"
    assert run_cli("prepare-data", "--out", out) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("trainer prepare-data: error: cannot ")
    assert "bucket or container 'no-such-bucket-cli' does not exist" in error
    assert "\n" not in error
