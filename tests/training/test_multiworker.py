"""Two worker processes on loopback, each with its own TF_CONFIG, train one model together; SIGTERM
stops both at once (no checkpoint with several workers, see trainer.preemption) and a restart resumes."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.training.conftest import trainer_process, wait_for_line
from tests.training.emulators import free_port

EPOCHS = 3


def _workers(digits: Path, model_dir: Path) -> list[subprocess.Popen[str]]:
    hosts = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    args = ("train", "--data", str(digits), "--model-dir", str(model_dir), "--epochs", str(EPOCHS))
    return [
        trainer_process(*args, env={"TF_CONFIG": json.dumps(config)}, stderr=subprocess.PIPE)
        for config in (
            {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}} for index in range(2)
        )
    ]


def _checkpoint_epoch(model_dir: Path) -> int:
    return int(json.loads((model_dir / "checkpoints" / "training_metadata.json").read_text())["epoch"])


def test_two_workers_stop_at_once_on_sigterm_then_resume_and_train_one_model(
    digits: Path, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    first = _workers(digits, model_dir)
    for worker in first:  # printed once epoch 1's checkpoint is written: both are inside epoch 2
        wait_for_line(worker, f"Epoch 2/{EPOCHS}")
    sent = time.monotonic()
    for worker in first:
        worker.send_signal(signal.SIGTERM)
    stopped = (
        "trainer train: stopped: SIGTERM with 2 workers: exiting at once, without a checkpoint (the workers "
        "cannot agree on a step to save at); a restart resumes from the last epoch's checkpoint in "
        f"{model_dir / 'checkpoints'}\n"
    )
    for worker in first:
        _, stderr = worker.communicate(timeout=60)
        assert (worker.returncode, stderr) == (143, stopped)
    assert time.monotonic() - sent < 20
    assert _checkpoint_epoch(model_dir) == 1

    second = _workers(digits, model_dir)
    outputs = [w.communicate(timeout=300)[0] for w in second]
    for worker, output in zip(second, outputs, strict=True):
        assert worker.returncode == 0, output
        assert "Strategy: MultiWorkerMirroredStrategy, 2 replica(s), 2 worker(s)" in output
        assert f"1 of {EPOCHS} epoch(s) done" in output
        # Each step takes a global batch of 32 split over both workers: 1257 rows → 40 steps.
        assert re.search(r"^40/40 ", output, flags=re.MULTILINE), output

    # In lockstep, both workers end with the very same weights.
    fingerprints = [re.findall(r"Model fingerprint: (\w+)", output) for output in outputs]
    assert fingerprints[0]
    assert fingerprints[0] == fingerprints[1]
    # Only the chief (worker 0) writes the model directory.
    config = json.loads((model_dir / "config.json").read_text())
    assert config["runtime"]["workers"] == 2
    assert config["runtime"]["replicas"] == 2
    assert (model_dir / "model.keras").exists()
    assert _checkpoint_epoch(model_dir) == EPOCHS
