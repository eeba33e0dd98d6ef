"""Fixtures for the trainer's tests: one prepared digits data set and one trained model per session.

Training runs in this process through the CLI entry point (`trainer.__main__.main`), so TensorFlow is
imported once; only the tests that need a separate process (kill and resume, two workers, a fresh
install) start one.
"""

from __future__ import annotations

import os

# Before TensorFlow or gcsfs is imported by any test: quiet C++ logs, and no 60 s HNS probe per bucket
# call against the GCS emulator (gcsfs reads the flag when it is imported).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.training import emulators
from trainer.__main__ import main

EPOCHS = 15  # the acceptance bar: >= 0.95 test accuracy within 15 epochs
# Keras 3.15 saving TensorFlow variables under numpy 2 warns from inside Keras on every save; nothing
# in the trainer can act on it.
_KERAS_NUMPY2 = "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings(_KERAS_NUMPY2))


@dataclass(frozen=True)
class Trained:
    data: Path
    model_dir: Path
    serve: Path  # export base path; version 1 is exported
    metrics: dict[str, Any]


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def trainer_process(
    *args: str, env: dict[str, str] | None = None, stderr: int = subprocess.STDOUT
) -> subprocess.Popen[str]:
    """`python -m trainer ...` as a child process, text mode, stderr merged into stdout unless asked."""
    return subprocess.Popen(
        [sys.executable, "-m", "trainer", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for_line(process: subprocess.Popen[str], prefix: str) -> None:
    """Read the child's stdout until a line starts with `prefix`; fail if it ends first."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return
    pytest.fail(f"no line starting {prefix!r}; the process ended with {process.wait()}")


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("digits")
    assert run_cli("prepare-data", "--out", out) == 0
    return out


@pytest.fixture(scope="session")
def trained(digits: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """prepare-data → train (15 epochs) → evaluate → export, all with default settings."""
    root = tmp_path_factory.mktemp("trained")
    model_dir, serve = root / "model", root / "serve"
    assert run_cli("train", "--data", digits, "--model-dir", model_dir, "--epochs", EPOCHS) == 0
    assert run_cli("evaluate", "--model-dir", model_dir) == 0
    assert run_cli("export", "--model-dir", model_dir, "--out", serve) == 0
    metrics = json.loads((model_dir / "metrics.json").read_text())
    return Trained(digits, model_dir, serve, metrics)


@pytest.fixture(scope="session")
def emulator_pool() -> Iterator[emulators.Pool]:
    """The object-store emulators, each started on first use and stopped at the end of the session."""
    pool = emulators.Pool()
    yield pool
    pool.close()


@pytest.fixture(scope="session", params=["s3", "gs", "az"])
def emulator(request: pytest.FixtureRequest, emulator_pool: emulators.Pool) -> emulators.Emulator:
    """Each object-store emulator in turn."""
    return emulator_pool.get(request.param)


@pytest.fixture
def store_env(emulator: emulators.Emulator, monkeypatch: pytest.MonkeyPatch) -> emulators.Emulator:
    """The emulator's endpoint settings in this process's environment, as a pod would have them."""
    for key, value in emulator.env.items():
        monkeypatch.setenv(key, value)
    return emulator
