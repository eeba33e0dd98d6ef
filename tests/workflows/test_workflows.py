"""The GitHub workflows: zizmor (offline, pedantic) and the GitHub workflow and action schemas pass;
every action is pinned by commit SHA with its version noted; no cloud keys, least permissions; and the
shape the platform relies on (PR plan for forks, preview and deploy through OIDC, prod behind approval,
runners from config, pinned CLI and plugins, credentials that outlive the job, a read-only preview token,
preflight before and the smoke test after every `pulumi up`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci import tools
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
)
SETUP = GITHUB / "actions/pulumi-setup/action.yml"


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


def _setup_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(SETUP.read_text())["runs"]["steps"]
    return steps


def test_setup_action_authenticates_to_every_cloud_through_oidc() -> None:
    steps = _setup_steps()
    used = [str(s.get("uses", "")).split("@")[0] for s in steps]
    assert all(a in used for a in AUTH_ACTIONS)
    keys = {k for s in steps for k in (s.get("with") or {})}
    assert {"role-to-assume", "workload_identity_provider"} <= keys
    assert not keys & {"aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds"}
    assert "azure/login" not in used, "az login cannot refresh past GitHub's assertion (AADSTS700024)"


def test_credentials_outlive_the_job() -> None:
    steps = _setup_steps()
    aws = next(s for s in steps if str(s.get("uses", "")).startswith("aws-actions/"))
    assert aws["with"]["role-duration-seconds"] == "${{ inputs.session-seconds }}"
    pulumi = next(s for s in steps if str(s.get("uses", "")).startswith("pulumi/auth-actions@"))
    assert pulumi["with"]["token-expiration"] == "${{ inputs.session-seconds }}"
    azure = next(s for s in steps if "ARM_USE_OIDC=true" in str(s.get("run")))["run"]
    for line in ("AAD_LOGIN_METHOD=workloadidentity", "AZURE_FEDERATED_TOKEN_FILE=", "AZURE_CLIENT_ID="):
        assert line in azure
    assert "python -m ci.oidc --out" in azure
    assert re.search(r"nohup .*python -m ci\.oidc .*--every \d+ .*&$", azure, re.MULTILINE)
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            for step in job["steps"]:
                if step.get("uses") == "./.github/actions/pulumi-setup":
                    assert int(step["with"]["session-seconds"]) >= 60 * job["timeout-minutes"], name


def test_exec_plugins_are_installed_pinned() -> None:
    steps = _setup_steps()
    runs = [str(s.get("run", "")) for s in steps]
    install = next(i for i, r in enumerate(runs) if "python -m ci.tools --dest" in r)
    assert "GITHUB_PATH" in runs[install]
    auth = next(i for i, s in enumerate(steps) if "ARM_USE_OIDC" in str(s.get("run")))
    assert install < auth
    assert {tool.name for tool in tools.TOOLS} == {"gke-gcloud-auth-plugin", "kubelogin"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def test_the_pulumi_cli_is_pinned_at_least_at_the_documented_minimum() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Pulumi CLI version") :]
    untyped, minimum, pinned_doc = re.findall(r"\*\*(\d+\.\d+\.\d+)\*\*", section)[:3]
    assert untyped == "3.45.0"
    lock = re.search(r'name = "pulumi"\nversion = "([\d.]+)"', (ROOT / "uv.lock").read_text())
    assert lock is not None
    pins = [
        s["with"].get("pulumi-version")
        for path in [*WORKFLOWS, SETUP]
        for s in _all_steps(path)
        if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert pins
    assert set(pins) == {pinned_doc} == {lock.group(1)}
    assert _version(pinned_doc) >= _version(minimum) >= _version(untyped)


def _all_steps(path: Path) -> list[dict[str, Any]]:
    if path == SETUP:
        return _setup_steps()
    return [s for job in load(path)["jobs"].values() for s in job["steps"]]


def test_deploy_and_preview_jobs_run_where_config_says() -> None:
    deploy = load(GITHUB / "workflows/deploy.yml")["jobs"]
    for stack in ("dev", "prod"):
        assert deploy[stack]["runs-on"].startswith(f"${{{{ vars.DEPLOY_RUNNER_{stack.upper()} ")
    preview = load(GITHUB / "workflows/pull-request.yml")["jobs"]["preview"]
    assert preview["runs-on"].startswith("${{ vars.PREVIEW_RUNNER ")


def test_the_preview_token_is_read_only_and_its_subject_a_pull_request() -> None:
    preview = load(GITHUB / "workflows/pull-request.yml")["jobs"]["preview"]
    setup = next(s for s in preview["steps"] if s.get("uses") == "./.github/actions/pulumi-setup")
    assert setup["with"]["pulumi-token-type"] in {"team", "personal"}
    assert setup["with"]["pulumi-token-scope"].startswith(("team:", "user:"))
    assert "environment" not in preview
    for stack in ("dev", "prod"):
        job = load(GITHUB / "workflows/deploy.yml")["jobs"][stack]
        step = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi-setup")
        assert step["with"]["pulumi-token-type"] == "organization"
    token = next(s for s in _setup_steps() if str(s.get("uses", "")).startswith("pulumi/auth-actions@"))
    assert token["with"]["requested-token-type"].endswith(":${{ inputs.pulumi-token-type }}")


def test_preflight_before_and_the_smoke_test_after_every_up() -> None:
    for stack, job in load(GITHUB / "workflows/deploy.yml")["jobs"].items():
        runs = [str(s.get("run", "")) for s in job["steps"]]
        up = next(i for i, s in enumerate(job["steps"]) if s.get("with", {}).get("command") == "up")
        preflight = next(i for i, r in enumerate(runs) if f"python -m preflight --stack {stack}" in r)
        smoke = next(i for i, r in enumerate(runs) if "python -m examples.app.smoke --stack" in r)
        assert preflight < up < smoke, stack
        assert "ci.preflight_errors" in runs[preflight]
        assert job["env"]["STACK"].endswith(f"/{stack}")


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
