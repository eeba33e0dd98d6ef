"""`train --expect-gpus N`: a pod that sees fewer GPUs than its Job asked for stops before training.

On a CPU-only machine TensorFlow sees no GPU, which is exactly the GKE failure this guards against (the
driver not on the loader's path): the command must say so on one line and exit 3, not train on the CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trained import run_cli
from trainer import tf_logs
from trainer.errors import GpuMissingError

EXPECTED_LINE = (
    "trainer train: error: expected 1 GPU(s) (--expect-gpus / TRAINER_EXPECT_GPUS), TensorFlow sees 0: "
    "check the pod's nvidia.com/gpu limit and that the NVIDIA driver's libcuda is on LD_LIBRARY_PATH "
    "(GKE mounts it at /usr/local/nvidia/lib64)\n"
)


def test_missing_gpus_exit_3_with_one_line_before_training(tmp_path: Path) -> None:
    # A data set that does not exist: the check must come before anything reads it.
    argv = [sys.executable, "-m", "trainer", "train", "--data", str(tmp_path / "none"), "--model-dir", "m"]
    started = time.monotonic()
    result = subprocess.run(
        argv,
        env={**os.environ, "TRAINER_EXPECT_GPUS": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 30  # TensorFlow's import, then the check: seconds, no training
    assert result.returncode == GpuMissingError.exit_code == 3
    assert result.stderr == EXPECTED_LINE
    assert result.stdout == ""
    assert not (tmp_path / "m").exists()


def test_the_flag_wins_over_the_variable(
    digits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAINER_EXPECT_GPUS", "0")
    model_dir = tmp_path / "model"
    assert run_cli("train", "--data", digits, "--model-dir", model_dir, "--expect-gpus", "1") == 3
    assert capsys.readouterr().err == EXPECTED_LINE
    assert not model_dir.exists()


@pytest.mark.parametrize(
    ("line", "noise"),
    [
        (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", True),
        (b"I0000 00:00:1796486098.085231   18268 port.cc:153] oneDNN custom operations are on.\n", True),
        (b"E0000 00:00:1796486098.085231   18268 cuda_executor.cc:1228] failed call to cuInit\n", False),
        (b"W0000 00:00:1796486098.085231   18268 gpu_device.cc:2342] Cannot dlopen GPU libraries\n", False),
        (b"trainer train: error: something\n", False),
    ],
)
def test_only_tensorflow_info_lines_are_dropped(line: bytes, noise: bool) -> None:
    assert tf_logs.is_noise(line) is noise
