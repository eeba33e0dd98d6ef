"""A storage outage while `train` publishes a checkpoint: one clear line, nothing torn, a clean resume.

The GCS emulator keeps its objects on disk here, so it can be stopped (connections refused, as in an
outage) and restarted on the same port with everything it held. The outage starts when epoch 2 does,
synchronised on that line: the end of epoch 2 then publishes into it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.trained import run_cli
from tests.training import emulators
from tests.training.conftest import trainer_process, wait_for_line
from tests.training.test_storage_emulators import new_bucket
from trainer import storage
from trainer.checkpoints import DIGEST, METADATA, WEIGHTS

EPOCHS = 3


def test_train_fails_cleanly_in_an_outage_and_resumes_after_it(
    digits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port, data_dir = emulators.free_port(), tmp_path / "gcs"
    for key, value in emulators.env("gs", port).items():
        monkeypatch.setenv(key, value)
    # Two attempts of at most 2 s each (the documented knobs), instead of gcsfs's own half minute of
    # retries five times over: the failure comes in seconds.
    monkeypatch.setenv("TRAINER_STORAGE_ATTEMPTS", "2")
    monkeypatch.setenv("TRAINER_STORAGE_TIMEOUT", "2")
    server = emulators.start("gs", port, data_dir)
    try:
        model_dir = new_bucket("gs").child("model")
        ckpt = model_dir.child("checkpoints")
        args = ["train", "--data", str(digits), "--model-dir", model_dir.uri]
        args += ["--epochs", str(EPOCHS), "--batch-size", "8"]
        child = trainer_process(*args, stderr=subprocess.PIPE)
        wait_for_line(child, f"Epoch 2/{EPOCHS}")  # epoch 1's checkpoint is in the bucket
        emulators.stop(server)
        down = time.monotonic()
        _, stderr = child.communicate(timeout=120)
        assert time.monotonic() - down < 30
        assert child.returncode == 1
        line = rf"trainer train: error: cannot \w+ {re.escape(model_dir.uri)}/\S+: [^\n]+\n"
        assert re.fullmatch(line, stderr), stderr  # one line naming the object, no traceback

        server = emulators.start("gs", port, data_dir)
        # What a restarted pod reads: a complete pair, the metadata naming exactly the weights beside it.
        assert {WEIGHTS, METADATA} <= set(storage.list_files(ckpt))
        metadata = json.loads(storage.read_bytes(ckpt.child(METADATA)))
        assert metadata[DIGEST] == hashlib.sha256(storage.read_bytes(ckpt.child(WEIGHTS))).hexdigest()
        done = metadata["epoch"]
        assert 1 <= done < EPOCHS
        # And what evaluate and export read: no model claims to be complete.
        assert not storage.exists(model_dir.child("config.json"))

        capsys.readouterr()
        assert run_cli(*args) == 0
        output = capsys.readouterr().out
        assert f"Resuming from {ckpt.uri}: {done} of {EPOCHS} epoch(s) done\n" in output
        assert json.loads(storage.read_bytes(ckpt.child(METADATA)))["epoch"] == EPOCHS
        assert storage.exists(model_dir.child("config.json"))
        assert storage.exists(model_dir.child("model.keras"))
    finally:
        emulators.stop(server)
