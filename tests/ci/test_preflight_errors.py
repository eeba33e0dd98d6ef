"""ci.preflight_errors: one error annotation per failed preflight check, reachability first in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci import preflight_errors

ROW = {
    "cloud": "aws",
    "check": "reachability",
    "status": "FAIL",
    "found": "egress address 20.1.2.3 is outside",
}


def test_each_failed_check_is_one_annotation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {**ROW, "fix": "add 20.1.2.3/32"},
        {**ROW, "cloud": "gcp", "check": "tools", "found": "kubectl missing", "fix": "install it"},
        {**ROW, "cloud": "azure", "status": "PASS"},
    ]
    report = tmp_path / "preflight.json"
    report.write_text(json.dumps({"stack": "dev", "failed": True, "rows": rows}))
    assert preflight_errors.main([str(report), "1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "::error title=runner cannot reach the aws Kubernetes API::aws reachability: egress address "
        "20.1.2.3 is outside (fix: add 20.1.2.3/32)",
        "::error title=preflight gcp tools::gcp tools: kubectl missing (fix: install it)",
    ]


def test_without_a_report_it_points_at_the_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight_errors.main([str(tmp_path / "missing.json"), "2"]) == 0
    assert "preflight exited 2 without a report" in capsys.readouterr().out
