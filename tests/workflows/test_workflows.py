"""The GitHub workflows: zizmor (offline, pedantic) and the GitHub workflow and action schemas pass;
every action is pinned by commit SHA with its version noted; no cloud keys, least permissions; and the
shape the platform relies on (PR plan for forks, preview and deploy through OIDC, prod behind approval)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.plans import ROOT
from tests.tools import run_tool

GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
AUTH_ACTIONS = (
    "pulumi/auth-actions",
    "aws-actions/configure-aws-credentials",
    "google-github-actions/auth",
    "azure/login",
)


def load(path: Path) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def test_zizmor_offline_finds_nothing() -> None:
    result = run_tool("zizmor", "--offline", "--pedantic", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)],
    ids=["workflows", "actions"],
)
def test_files_match_the_github_schemas(schema: str, files: list[Path]) -> None:
    result = run_tool("check-jsonschema", "--builtin-schema", schema, *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def _uses_lines() -> list[str]:
    return [
        line.split("uses:", 1)[1].strip()
        for path in [*WORKFLOWS, *ACTIONS]
        for line in path.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]


def test_every_action_is_pinned_by_sha_with_its_version() -> None:
    remote = [u for u in _uses_lines() if not u.startswith("./")]
    assert remote
    assert [u for u in remote if not PINNED.match(u)] == []
    local = [u.split(" #")[0] for u in _uses_lines() if u.startswith("./")]
    assert all((ROOT / u / "action.yml").exists() for u in local)


def test_no_secrets_and_least_permissions() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "secrets." not in text, f"{path.name}: credentials come from OIDC, not secrets"
        doc = load(path)
        assert doc["permissions"] == {}, path.name
        for name, job in doc["jobs"].items():
            assert "write-all" not in str(job.get("permissions")), (path.name, name)
            assert set(job["permissions"]) <= {"contents", "id-token", "pull-requests"}, (path.name, name)


def test_pull_request_workflow_plans_for_forks_and_previews_with_oidc() -> None:
    doc = load(GITHUB / "workflows/pull-request.yml")
    assert set(doc["on"]) == {"pull_request"}
    jobs = doc["jobs"]
    assert any(s.get("run") == "make test" for s in jobs["test"]["steps"])
    plan = yaml.safe_dump(jobs["offline-plan"])
    for flag in ("--json", "--markdown", "--render-k8s", "--diff"):
        assert flag in plan
    assert "base.sha" in plan
    assert "GITHUB_STEP_SUMMARY" in plan
    assert "sticky-pull-request-comment" in plan
    assert "id-token" not in jobs["offline-plan"]["permissions"]
    preview = jobs["preview"]
    assert preview["permissions"]["id-token"] == "write"
    assert "head.repo.full_name == github.repository" in preview["if"]
    pulumi = next(s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"


def test_setup_action_authenticates_to_every_cloud_through_oidc() -> None:
    steps = yaml.safe_load((GITHUB / "actions/pulumi-setup/action.yml").read_text())["runs"]["steps"]
    used = [str(s.get("uses", "")).split("@")[0] for s in steps]
    assert all(a in used for a in AUTH_ACTIONS)
    keys = {k for s in steps for k in (s.get("with") or {})}
    assert {"role-to-assume", "workload_identity_provider", "client-id"} <= keys
    assert not keys & {"aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds"}


def test_deploy_runs_dev_then_prod_behind_approval_one_run_per_stack() -> None:
    doc = load(GITHUB / "workflows/deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}
    dev, prod = doc["jobs"]["dev"], doc["jobs"]["prod"]
    assert prod["needs"] == "dev"
    assert prod["environment"] == "prod"
    for stack, job in (("dev", dev), ("prod", prod)):
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        pulumi = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"].endswith(f"/{stack}")
        assert pulumi["with"]["policyPacks"] == "policy"
