"""Restoring a checkpoint whose publish stopped part-way: the latest complete pair wins, nothing torn.

The states are the ones a publish leaves when it stops between two uploads (see trainer.checkpoints),
built from real files with the trainer's own `stamp`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from trainer import storage
from trainer.checkpoints import BACKUP, DIGEST, METADATA, WEIGHTS, Progress, restore, stamp


def _pair(directory: Path, epoch: int, weights: bytes, suffix: str = "", batch: int = 0) -> None:
    """A pair as BackupAndRestore writes it and `stamp` completes it (under `suffix`, once moved)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / WEIGHTS).write_bytes(weights)
    (directory / METADATA).write_text(json.dumps({"epoch": epoch, "batch": batch}))
    stamp(directory)
    if suffix:
        for name in (WEIGHTS, METADATA):
            (directory / name).rename(directory / f"{name}{suffix}")


def _restore(store: Path, tmp_path: Path) -> tuple[Progress, Path]:
    local = tmp_path / "local"
    return restore(storage.locate(str(store)), local), local


def test_a_complete_latest_pair_is_restored_with_its_batches(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _pair(store, 1, b"epoch 1", suffix=BACKUP)
    _pair(store, 2, b"epoch 2 and 16 batches", batch=16)
    progress, local = _restore(store, tmp_path)
    assert progress == Progress(2, 16)
    assert (local / WEIGHTS).read_bytes() == b"epoch 2 and 16 batches"


def test_weights_newer_than_their_metadata_fall_back_to_the_previous_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    _pair(store, 2, b"epoch 2", suffix=BACKUP)
    _pair(store, 2, b"epoch 2")
    (store / WEIGHTS).write_bytes(b"epoch 3")  # the publish of epoch 3 stopped before its metadata
    progress, local = _restore(store, tmp_path)
    assert progress == Progress(2)
    assert (local / WEIGHTS).read_bytes() == b"epoch 2"
    assert json.loads((local / METADATA).read_text())["epoch"] == 2
    assert "incomplete: using the one before it" in capsys.readouterr().out


def test_weights_without_metadata_are_ignored(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / WEIGHTS).write_bytes(b"epoch 1")  # the first publish stopped before its metadata
    progress, local = _restore(store, tmp_path)
    assert not progress
    assert not (local / WEIGHTS).exists()  # or Keras would load them and call them epoch 0


def test_unreadable_metadata_without_a_previous_pair_starts_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    _pair(store, 1, b"epoch 1")
    (store / METADATA).write_text('{"epo')  # torn by a kill during a local write
    progress, local = _restore(store, tmp_path)
    assert not progress
    assert not (local / WEIGHTS).exists()
    assert not (local / METADATA).exists()
    assert "No complete checkpoint" in capsys.readouterr().out


def test_keras_metadata_without_a_digest_is_trusted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / WEIGHTS).write_bytes(b"epoch 4")
    (store / METADATA).write_text(json.dumps({"epoch": 4, "batch": 0}))
    assert _restore(store, tmp_path)[0] == Progress(4)


def test_stamp_adds_the_weights_sha256_and_keeps_what_keras_wrote(tmp_path: Path) -> None:
    _pair(tmp_path, 3, b"weights", batch=5)
    metadata = json.loads((tmp_path / METADATA).read_text())
    assert metadata == {"epoch": 3, "batch": 5, DIGEST: hashlib.sha256(b"weights").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == [WEIGHTS, METADATA]  # no temporary left
