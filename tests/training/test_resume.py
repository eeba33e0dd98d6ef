"""A training process killed with SIGKILL resumes from its last checkpoint when started again."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest

from tests.trained import EPOCHS, run_cli
from tests.training.conftest import trainer_process

# Small batches make epochs long enough (about 160 steps) that the kill lands mid-run, not after it.
TRAIN_ARGS = ("--epochs", str(EPOCHS), "--batch-size", "8")
KILL_AFTER_EPOCHS = 3


def _checkpoint_epoch(model_dir: Path) -> int:
    metadata = model_dir / "checkpoints" / "training_metadata.json"
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0  # not written yet, or caught mid-write


def _epoch_lines(output: str) -> list[int]:
    return [int(m) for m in re.findall(rf"^Epoch (\d+)/{EPOCHS}$", output, flags=re.MULTILINE)]


def test_sigkill_mid_run_then_resume_from_the_last_checkpoint(
    digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_dir = tmp_path / "model"
    first = trainer_process("train", "--data", str(digits), "--model-dir", str(model_dir), *TRAIN_ARGS)
    deadline = time.monotonic() + 120
    while _checkpoint_epoch(model_dir) < KILL_AFTER_EPOCHS:
        assert first.poll() is None, f"training ended before it could be killed:\n{first.communicate()[0]}"
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    killed_output = first.communicate()[0]
    assert first.returncode == -signal.SIGKILL
    assert "Model fingerprint" not in killed_output, "the first run finished instead of being killed"
    done = _checkpoint_epoch(model_dir)
    assert KILL_AFTER_EPOCHS <= done < EPOCHS

    # The restart runs in this process: nothing survives from the killed one but the model directory,
    # and it saves a second TensorFlow import.
    capsys.readouterr()
    assert run_cli("train", "--data", digits, "--model-dir", model_dir, *TRAIN_ARGS) == 0
    output = capsys.readouterr().out
    assert f"{done} of {EPOCHS} epoch(s) done" in output
    assert _epoch_lines(output) == list(range(done + 1, EPOCHS + 1))

    assert run_cli("evaluate", "--model-dir", model_dir) == 0
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.95
    history = (model_dir / "history.csv").read_text().splitlines()[1:]
    assert sorted({int(row.split(",")[0]) for row in history}) == list(range(EPOCHS))
