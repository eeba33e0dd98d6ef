"""The model-sync script, run for real with rclone against a local directory standing in for the bucket:
complete versions are published, half-written ones and the trainer's hidden staging names are not, only
the newest `KEEP_VERSIONS` stay on disk (each once), the readiness marker appears with the first version,
and a version deleted from the bucket is unloaded. Needs the `rclone` binary, which `make setup` installs
from Debian."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.workloads import model_sync


def version(root: Path, number: int, complete: bool = True) -> None:
    (root / str(number) / "variables").mkdir(parents=True)
    (root / str(number) / "variables" / "variables.index").write_text("weights")
    if complete:
        (root / str(number) / "saved_model.pb").write_text("graph")


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    root = tmp_path / "bucket" / "models" / "digits"
    version(root, 1)
    version(root, 2, complete=False)  # the trainer writes saved_model.pb last
    (root / ".staging-1234" / "variables").mkdir(parents=True)
    (root / ".tmp-5678-export.json").write_text("{}")
    return root


@contextlib.contextmanager
def sidecar(source: Path, tmp_path: Path, keep: int = 2) -> Iterator[Path]:
    """The sidecar's script syncing `source`, with the environment the pod gives it; yields /models."""
    models = tmp_path / "models"
    env = {
        **os.environ,
        "MODEL_SOURCE": str(source),
        "MODELS": str(models),
        "MODEL_NAME": "digits",
        "KEEP_VERSIONS": str(keep),
        "READY": str(models / ".synced"),
        "INTERVAL": "0.1",
        "RCLONE_CONFIG": "/dev/null",
    }
    process = subprocess.Popen(["/bin/sh", "-c", model_sync.SCRIPT], env=env, stdout=subprocess.DEVNULL)
    try:
        yield models
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.fixture
def synced(tmp_path: Path, bucket: Path) -> Iterator[Path]:
    with sidecar(bucket, tmp_path) as models:
        yield models


def test_publishes_complete_versions_only(synced: Path, bucket: Path) -> None:
    served = synced / "digits"
    wait_for((synced / ".synced").exists)
    assert sorted(p.name for p in served.iterdir()) == ["1"]
    assert (served / "1" / "saved_model.pb").read_text() == "graph"
    assert not any(p.name.startswith(".") for p in (served / "1").rglob("*"))
    (bucket / "2" / "saved_model.pb").write_text("graph")
    wait_for((served / "2" / "saved_model.pb").exists)
    shutil.rmtree(bucket / "1")
    wait_for(lambda: not (served / "1").exists())
    assert sorted(p.name for p in served.iterdir()) == ["2"]


def test_keeps_only_the_newest_versions_once_each(tmp_path: Path) -> None:
    """Five complete versions in the bucket, two kept: only the newest two are on disk, with no second
    copy beside them, and a newer export replaces the oldest kept one."""
    root = tmp_path / "bucket"
    for number in (1, 2, 3, 10, 11):
        version(root, number)
    with sidecar(root, tmp_path, keep=2) as models:
        served = models / "digits"
        wait_for((models / ".synced").exists)
        assert sorted(p.name for p in served.iterdir()) == ["10", "11"]
        version(root, 12)
        wait_for(lambda: sorted(p.name for p in served.iterdir()) == ["11", "12"])
        assert [p.name for p in models.iterdir() if p.name.startswith(".stage")] == []
        assert sum(1 for p in models.rglob("saved_model.pb")) == 2


def test_waits_for_a_first_model(tmp_path: Path) -> None:
    """No model in the bucket yet: nothing is marked ready, so TF Serving does not start."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with sidecar(empty, tmp_path) as models:
        wait_for((models / "digits").exists)
        time.sleep(0.5)
        assert not (models / ".synced").exists()
