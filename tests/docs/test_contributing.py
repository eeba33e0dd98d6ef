"""CONTRIBUTING.md stays true: every file its "Adding a cloud" list names exists for each cloud, the make
targets it names exist, and the hooks it installs lint as `make lint` does and refuse long subjects."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.catalog import CLOUDS
from tests.plans import ROOT

TEXT = (ROOT / "CONTRIBUTING.md").read_text()


def _section(title: str) -> str:
    return TEXT.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_file_a_new_cloud_touches_exists_for_each_cloud() -> None:
    paths = set(re.findall(r"`((?:infra|plan|preflight|policy|tests|docs)/[\w/<>.]*|Pulumi[\w.]*\.yaml)`",
                           _section("Adding a cloud")))  # fmt: skip
    assert len(paths) > 20
    missing = [
        p.replace("<cloud>", c)
        for p in sorted(paths)
        for c in CLOUDS
        if not (ROOT / p.replace("<cloud>", c)).exists()
    ]
    assert missing == []


def test_each_cloud_package_has_the_modules_the_list_names() -> None:
    names = re.findall(
        r"`(\w+\.py)`", _section("Adding a cloud").split("infra/clouds/<cloud>/", 1)[1].split("\n5.")[0]
    )
    assert {"context.py", "platform.py", "keys.py", "kubeconfig.py"} <= set(names)
    for cloud in CLOUDS:
        assert [n for n in names if not (ROOT / "infra" / "clouds" / cloud / n).exists()] == [], cloud


def test_the_make_targets_it_names_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", TEXT, re.MULTILINE):
        assert re.search(rf"^(\S+ )*{target}( \S+)*:", makefile, re.MULTILINE), target


def _hooks() -> dict[str, dict[str, object]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}


def test_the_hooks_run_what_make_lint_runs() -> None:
    lint = re.search(r"^lint:\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert lint is not None
    checks = [line.strip().split("--locked ", 1)[1] for line in lint.group(1).splitlines()]
    entries = [
        str(h["entry"]).split("--locked ", 1)[1] for h in _hooks().values() if h["language"] == "system"
    ]
    # The hooks fix what they can (the commit then shows it); `make lint` only reports.
    assert [e.replace(" --fix", "") for e in entries] == [
        c.replace(" --check", "").removesuffix(" .") for c in checks
    ]


@pytest.mark.parametrize(("subject", "accepted"), [("x" * 72, True), ("x" * 73, False)])
def test_the_commit_msg_hook_measures_the_subject(tmp_path: Path, subject: str, accepted: bool) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(ROOT / ".venv" / "bin")))
    assert pre_commit, "make setup installs pre-commit with the test group"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copy(ROOT / ".pre-commit-config.yaml", tmp_path)
    message = tmp_path / "MSG"
    message.write_text(
        f"{subject}\n\nA body line may be as long as it needs to be, well beyond the subject's 72.\n"
    )
    run = subprocess.run(
        [
            pre_commit,
            "run",
            "commit-subject",
            "--hook-stage",
            "commit-msg",
            "--commit-msg-filename",
            str(message),
        ],
        check=False,
        cwd=tmp_path,
        env={"PRE_COMMIT_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert (run.returncode == 0) is accepted, run.stdout
