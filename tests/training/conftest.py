"""Fixtures for the trainer's tests: the object-store emulators, and child `python -m trainer` processes.

The prepared digits and the trained model of the session are shared with the example app's tests
(`tests/conftest.py`, `tests/trained.py`). Training runs in this process, so TensorFlow is imported once;
only the tests that need a separate process (kill and resume, two workers, a fresh install) start one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.trained import KERAS_NUMPY2
from tests.training import emulators

_KERAS_NUMPY2 = f"ignore:{KERAS_NUMPY2}:DeprecationWarning"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings(_KERAS_NUMPY2))


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
