"""Shared fixtures: the dev and prod plans, computed once per session, all as of one pinned day."""

from __future__ import annotations

import os

import pytest

from infra.versions import AS_OF_ENV
from plan.runner import Plan
from tests.plans import planned

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
