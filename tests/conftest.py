"""Shared fixtures: the dev and prod plans, computed once per session."""

from __future__ import annotations

import pytest

from infra.plan.runner import Plan
from tests.plans import planned


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
