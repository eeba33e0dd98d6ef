"""The plan's reports: the resource diff against a base plan (with node-replacement warnings) and the
pull-request comment in Markdown."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from infra import config
from plan import diff, markdown, policy, runner, stackfile
from plan.__main__ import EXIT_OK, main, to_json
from policy.engine import Finding
from tests.plans import ROOT


def _doc(plan: runner.Plan) -> dict[str, Any]:
    return to_json(plan, [])


def _named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["name"] == name)


def test_identical_plans_have_no_diff(dev_plan: runner.Plan) -> None:
    assert diff.compare(_doc(dev_plan), _doc(dev_plan)).empty()


def test_diff_lists_added_removed_and_changed_inputs(dev_plan: runner.Plan) -> None:
    base = _doc(dev_plan)
    head = copy.deepcopy(base)
    head["resources"] = [r for r in head["resources"] if r["name"] != "dev-gcp-network-router"]
    head["resources"].append({"type": "gcp:compute/address:Address", "name": "new-ip", "inputs": {}})
    _named(head, "dev-gcp-storage-bucket")["inputs"]["versioning"]["enabled"] = False
    result = diff.compare(base, head)
    assert result.added == [("gcp:compute/address:Address", "new-ip")]
    assert result.removed == [("gcp:compute/router:Router", "dev-gcp-network-router")]
    assert [(c.name, c.paths) for c in result.changed] == [
        ("dev-gcp-storage-bucket", [("versioning.enabled", True, False)])
    ]
    assert result.warnings == []


def test_gpu_pool_changes_that_replace_nodes_are_warnings(dev_plan: runner.Plan) -> None:
    base = _doc(dev_plan)
    head = copy.deepcopy(base)
    config_ = _named(head, "dev-gcp-gke-train")["inputs"]["nodeConfig"]
    config_["machineType"] = "g2-standard-8"
    config_["guestAccelerators"][0]["type"] = "nvidia-l4"
    config_["diskSizeGb"] = 300
    _named(head, "dev-gcp-gke-train")["inputs"]["autoscaling"]["totalMaxNodeCount"] = 5
    result = diff.compare(base, head)
    assert result.warnings == [
        "dev-gcp-gke-train (gcp:container/nodePool:NodePool): changing GPU pool nodeConfig.diskSizeGb, "
        "GPU pool nodeConfig.guestAccelerators, GPU pool nodeConfig.machineType replaces its nodes"
    ]


def test_scaling_a_pool_is_not_a_replacement(dev_plan: runner.Plan) -> None:
    head = _doc(dev_plan)
    base = copy.deepcopy(head)
    _named(head, "dev-gcp-gke-train")["inputs"]["autoscaling"]["totalMaxNodeCount"] = 8
    assert diff.compare(base, head).warnings == []


def test_dev_against_prod_shows_the_stack_differences(dev_plan: runner.Plan, prod_plan: runner.Plan) -> None:
    result = diff.compare(_doc(dev_plan), _doc(prod_plan))
    assert result.added
    assert result.removed  # resource names carry the stack name


def test_markdown_comment_has_summary_changes_findings_and_waivers(dev_plan: runner.Plan) -> None:
    files = stackfile.load(ROOT, "dev")
    cfg = config.parse(config.read_raw(files.config.get), stack="dev")
    finding = Finding(
        "ST-08", "mandatory", "dev-gcp-storage-bucket", "versioning.enabled | must be true", "gcp"
    )
    changes = diff.compare(_doc(dev_plan), _doc(dev_plan))
    text = markdown.render(dev_plan, cfg, [finding], diff=changes)
    assert text.startswith("## Offline plan `gpu-platform/dev`: 1 mandatory violation(s)")
    gcp_resources = sum(r.custom and r.cloud == "gcp" for r in dev_plan.resources)
    assert f"| gcp | {gcp_resources} | 1 | 0 |" in text
    assert "0 added, 0 removed, 0 changed." in text
    assert (
        "| ST-08 GCS versioning, CMEK, lifecycle, soft delete | mandatory | gcp | dev-gcp-storage-bucket |"
        in text
    )
    assert "versioning.enabled \\| must be true" in text
    assert "| ST-12 | azure | dev holds no customer data" in text
    waived = markdown.render(dev_plan, cfg, policy.check(dev_plan, cfg))
    assert "| ST-12 Azure customer-managed key | advisory | azure | dev-azure-store-account |" in waived
    assert "Changes against" not in waived
    assert "All 72 controls pass." in markdown.render(dev_plan, cfg, [])


def test_cli_writes_every_report(tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    assert main(["--stack", "dev", "--cwd", str(ROOT), "--json", str(base)]) == EXIT_OK
    args = [
        "--markdown",
        str(tmp_path / "plan.md"),
        "--render-k8s",
        str(tmp_path / "k8s"),
        "--diff",
        str(base),
    ]
    assert main(["--stack", "dev", "--cwd", str(ROOT), *args]) == EXIT_OK
    assert "0 added, 0 removed, 0 changed." in (tmp_path / "plan.md").read_text()
    # dev waives ST-12 on Azure: the finding is listed, as advisory.
    assert {v["severity"] for v in json.loads(base.read_text())["violations"]} <= {"advisory"}
