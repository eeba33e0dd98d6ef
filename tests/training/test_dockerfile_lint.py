"""The training image's Dockerfile passes hadolint and checkov's Dockerfile checks, with nothing skipped
(no base image can be pulled here, so the image itself is tested by installing `training/` the way the
Dockerfile does; see test_pipeline.py)."""

from __future__ import annotations

from tests.plans import ROOT
from tests.tools import checkov, run_tool

DOCKERFILE = ROOT / "training" / "Dockerfile"


def test_hadolint_passes() -> None:
    result = run_tool("hadolint", str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_dockerfile_checks_pass() -> None:
    failed = checkov(DOCKERFILE, "dockerfile")
    assert failed == [], [(c["check_id"], c["check_name"]) for c in failed]
