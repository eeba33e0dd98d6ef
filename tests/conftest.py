"""Shared fixtures, each computed once per session: the dev and prod plans, all as of one pinned day; the
digits model trained and exported by the trainer, and the trainer's development server answering with it,
for the trainer's tests and the example app's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.versions import AS_OF_ENV
from plan.runner import Plan
from tests import trained as training
from tests.plans import planned

if TYPE_CHECKING:
    from tests.dev_server import DevServer

AS_OF = "2026-12-05"
# Config validation and the plan's warnings compare Kubernetes versions with the day they run: the suite
# runs as of one day, so it does not change with the calendar (subprocesses inherit it).
os.environ[AS_OF_ENV] = AS_OF


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return planned("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return planned("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    """Each stack's plan in turn, for controls that must hold on both."""
    return planned(request.param)


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return training.prepare(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="session")
def trained(digits: Path, tmp_path_factory: pytest.TempPathFactory) -> training.Trained:
    """prepare-data → train (15 epochs) → evaluate → export, all with default settings."""
    return training.train(digits, tmp_path_factory.mktemp("trained"))


@pytest.fixture(scope="session")
def served(trained: training.Trained) -> Iterator[DevServer]:
    """The trainer's development server answering with the trained model's version 1, loaded from the
    export as `python -m trainer serve` loads it (TensorFlow is imported only by the tests that ask)."""
    from tests.dev_server import DevServer  # noqa: PLC0415 - TensorFlow loads only for the tests that serve

    server = DevServer.exported(trained.serve)
    yield server
    server.stop()
