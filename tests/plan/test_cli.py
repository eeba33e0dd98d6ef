"""`python -m plan`: exit codes, the JSON document, and config errors as a user sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.outputs import SCHEMA_VERSION
from plan import runner, stackfile
from plan.__main__ import EXIT_INVALID_CONFIG, EXIT_OK, main
from tests.plans import ROOT, merged, stack_values


def write_stack(tmp_path: Path, name: str, overrides: dict[str, Any]) -> Path:
    """A project dir whose only stack is dev with `overrides`; `infra/` is the real program."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "infra").symlink_to(ROOT / "infra")
    doc = {"config": merged(stack_values("dev"), overrides)}
    (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def test_prod_plan_writes_the_json_document(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert main(["--stack", "prod", "--cwd", str(ROOT), "--json", str(out)]) == EXIT_OK
    doc = json.loads(out.read_text())
    assert set(doc) == {"stack", "project", "resources", "outputs", "violations", "notices"}
    assert (doc["stack"], doc["project"]) == ("prod", "gpu-platform")
    # prod passes every mandatory control; node agents leave advisory findings (policy/README.md).
    assert {v["severity"] for v in doc["violations"]} <= {"advisory"}
    assert doc["outputs"]["schemaVersion"] == SCHEMA_VERSION
    for res in doc["resources"]:
        assert set(res) == {"type", "name", "parent", "provider", "cloud", "inputs", "dependsOn"}
        assert res["cloud"] in {"aws", "gcp", "azure", None}


BROKEN_STACKS = [
    pytest.param(
        {"gpu-platform:gpuPools": [{"name": "train", "gpu": "v100", "minNodes": 0, "maxNodes": 2}]},
        'gpu-platform:gpuPools[0].gpu: got "v100"; expected a GPU type',
        id="unknown-gpu-type",
    ),
    pytest.param(
        {"gpu-platform:gpuPools": [{"name": "train", "gpu": "t4", "minNodes": 3, "maxNodes": 1}]},
        "gpu-platform:gpuPools[0].minNodes: got 3; expected at most maxNodes (1)",
        id="pool-min-above-max",
    ),
    pytest.param(
        {
            "gpu-platform:azure": {
                "vnetCidr": "10.10.0.0/16",
                "systemSubnetCidr": "10.10.0.0/22",
                "gpuSubnetCidr": "10.10.4.0/22",
            }
        },
        'gpu-platform:azure.vnetCidr: got "10.10.0.0/16"; expected a range apart from aws.vpcCidr',
        id="overlapping-cidrs",
    ),
    pytest.param(
        {"gpu-platform:gcp": {"apiAccess": {"authorizedCidrs": ["0.0.0.0/0"]}}},
        'gpu-platform:gcp.apiAccess.authorizedCidrs[0]: got "0.0.0.0/0"; expected a restricted CIDR',
        id="api-open-to-world",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BROKEN_STACKS)
def test_broken_stack_exits_2_naming_key_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], overrides: dict[str, Any], message: str
) -> None:
    project = write_stack(tmp_path, "broken", overrides)
    out = tmp_path / "out.json"
    assert main(["--stack", "broken", "--cwd", str(project), "--json", str(out)]) == EXIT_INVALID_CONFIG
    err = capsys.readouterr().err
    assert "invalid config for stack 'broken'" in err
    assert message in err
    assert not out.exists()
    with pytest.raises(runner.ProgramFailedError) as failed:
        runner.run(stackfile.load(project, "broken"), "broken")
    assert failed.value.registered == []  # refused before any resource was declared


def test_misspelled_flag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--stack", "dev", "--jsn", "x.json"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err


def test_installed_package_runs_from_any_directory(tmp_path: Path) -> None:
    """Pulumi runs `infra/` with `infra/` as the program dir: `import infra.x` must resolve through the
    editable install, not through the current directory; and the plan's former name still runs it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "infra.plan", "--stack", "dev", "--cwd", str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert "gpu-platform/dev" in result.stdout
