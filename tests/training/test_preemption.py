"""SIGTERM mid-training, as on a spot reclaim: a checkpoint is published, exit 143, and a rerun resumes.

The checkpoint store is a bucket on the GCS emulator, so the SIGTERM checkpoint goes through the same
upload path as every epoch's. Training runs in a child process (the signal is real); the rerun runs in
this one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trained import run_cli
from tests.training import emulators
from tests.training.conftest import wait_for_line
from tests.training.test_storage_emulators import new_bucket
from trainer import storage
from trainer.checkpoints import DIGEST, METADATA, WEIGHTS, Progress
from trainer.errors import Preempted

EPOCHS = 3
# Small batches: about 160 steps (10 compiled calls) per epoch, so the signal lands inside epoch 2.
TRAIN_ARGS = ("--epochs", str(EPOCHS), "--batch-size", "8")
STOPPED = re.compile(
    r"trainer train: stopped: SIGTERM: checkpoint after (\d+) epoch\(s\)(?: and (\d+) batch\(es\))? "
    r"saved to (\S+); a rerun resumes from it\n"
)


@pytest.mark.parametrize("emulator", ["gs"], indirect=True)
def test_sigterm_publishes_a_checkpoint_and_a_rerun_resumes_from_it(
    store_env: emulators.Emulator, digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = new_bucket(store_env.scheme).child("checkpoints")
    args = ["train", "--data", str(digits), "--model-dir", str(tmp_path / "model")]
    args += ["--checkpoint-dir", store.uri, *TRAIN_ARGS]
    child = subprocess.Popen(
        [sys.executable, "-m", "trainer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    # "Epoch 2/3" is printed once epoch 1's checkpoint is published: the signal lands in epoch 2.
    wait_for_line(child, f"Epoch 2/{EPOCHS}")
    sent = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert time.monotonic() - sent < 20
    assert child.returncode == Preempted.exit_code == 143

    stopped = STOPPED.fullmatch(stderr)
    assert stopped, stderr  # exactly one line, naming what was saved and where
    saved = Progress(int(stopped[1]), int(stopped[2] or 0))
    assert stopped[3] == store.uri
    assert saved.epochs >= 1
    assert saved.epochs < EPOCHS or not saved.batches
    # Complete in the store: both files of the pair, the metadata naming what the line said and the
    # very weights beside it.
    assert {WEIGHTS, METADATA} <= set(storage.list_files(store))
    weights = hashlib.sha256(storage.read_bytes(store.child(WEIGHTS))).hexdigest()
    assert json.loads(storage.read_bytes(store.child(METADATA))) == {
        "epoch": saved.epochs,
        "batch": saved.batches,
        DIGEST: weights,
    }
    raw = store.fs.find(store.path)
    assert not [name for name in raw if storage.TEMP_PREFIX in name], raw

    capsys.readouterr()
    assert run_cli(*args) == 0
    output = capsys.readouterr().out
    assert f"Resuming from {store.uri}: {saved.describe(EPOCHS)}\n" in output
    epochs = [int(n) for n in re.findall(rf"^Epoch (\d+)/{EPOCHS}$", output, flags=re.MULTILINE)]
    assert epochs == list(range(saved.epochs + 1, EPOCHS + 1))
    assert json.loads(storage.read_bytes(store.child(METADATA)))["epoch"] == EPOCHS
    assert (tmp_path / "model" / "config.json").exists()
