"""The plan runner: runs stay independent of each other within one process."""

from __future__ import annotations

import pytest

from infra.plan.runner import ProgramFailedError
from tests.plans import plan_with


def test_a_run_after_a_failed_run_completes() -> None:
    """A failed run leaves never-resolving futures in the SDK's process-wide output set; the next run
    must not wait on them (it used to hang)."""
    with pytest.raises(ProgramFailedError):
        plan_with({"gpu-platform:gpuPools": [{"name": "bad", "gpu": "v100", "minNodes": 0, "maxNodes": 1}]})
    plan = plan_with({})
    assert plan.outputs["stack"] == "dev"
