"""External validators the tests run: checkov (installed apart by `make setup`, its pins clash with the
Pulumi SDK's), kubernetes-validate, hadolint, zizmor and check-jsonschema (in the venv)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.plans import ROOT


def checkov_binary() -> Path:
    """`make setup` installs checkov under .tools; CHECKOV overrides the location."""
    override = os.environ.get("CHECKOV")
    path = Path(override) if override else ROOT / ".tools/bin/checkov"
    if not path.exists():
        raise RuntimeError(f"checkov not found at {path}: run `make setup` (or set CHECKOV)")
    return path


def checkov(target: Path, framework: str, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Failed checkov checks on a file or directory (offline: --skip-download)."""
    flag = "-d" if target.is_dir() else "-f"
    command = [str(checkov_binary()), flag, str(target), "--framework", framework, "--skip-download"]
    command += ["--quiet", "--compact", "-o", "json"] + (["--skip-check", ",".join(skip)] if skip else [])
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A console script of the test environment (next to this Python), run from the repository root."""
    binary = Path(sys.executable).parent / name
    command = [str(binary), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
