"""The training image, checked without Docker (none here): its install step, its Dockerfile, its lock.

No base image can be pulled on the test machines, so the image is tested without building it: install
`training/` into a fresh environment with the Dockerfile's own pip commands (pinned build backend, then
the package without build isolation), run the entry point, and lint the Dockerfile with hadolint and
checkov.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "training"
DOCKERFILE = (TRAINING / "Dockerfile").read_text()
EXPORT_COMMAND = [
    "uv", "export", "--frozen", "--package", "trainer", "--extra", "gpu", "--no-default-groups",
    "--no-emit-project", "--no-emit-workspace",
]  # fmt: skip
# The image's build backend: the workspace root's `build` dependency group.
BUILD_EXPORT_COMMAND = [
    "uv",
    "export",
    "--frozen",
    "--only-group",
    "build",
    "--no-emit-project",
    "--no-emit-workspace",
]
# Checks that the installed trainer's declared dependencies (with the cpu extra) are all present.
CHECK_REQUIREMENTS = """
import importlib.metadata as md, sys
from packaging.requirements import Requirement
problems = []
for text in md.requires("trainer"):
    req = Requirement(text)
    if req.marker and not req.marker.evaluate({"extra": "cpu"}):
        continue
    try:
        found = md.version(req.name)
    except md.PackageNotFoundError:
        problems.append(f"{req.name} missing")
        continue
    if not req.specifier.contains(found, prereleases=True):
        problems.append(f"{req.name} {found} does not satisfy {req.specifier}")
print("\\n".join(problems) or "ok")
"""


def _output(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def _build_context(tmp_path: Path) -> Path:
    """The files .dockerignore lets into the build context (but the multi-GB GPU requirements)."""
    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "requirements-build.txt"):
        shutil.copy(TRAINING / name, context)
    shutil.copytree(TRAINING / "trainer", context / "trainer", ignore=shutil.ignore_patterns("__pycache__"))
    return context


def _dockerfile_pip(target: str) -> list[str]:
    """The arguments of the Dockerfile's `RUN pip ...` whose last argument is `target`."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    for line in joined.splitlines():
        if line.startswith("RUN pip "):
            argv = shlex.split(line.removeprefix("RUN ").split("&&")[0])
            if argv[-1] == target:
                return argv[1:]
    raise AssertionError(f"no `RUN pip ... {target}` in the Dockerfile")


def test_the_package_is_built_with_the_pinned_backend_and_no_isolation() -> None:
    hashed = ["--require-hashes", "--only-binary=:all:", "-r", "requirements-build.txt"]
    assert _dockerfile_pip("requirements-build.txt") == ["install", "--no-cache-dir", *hashed]
    assert _dockerfile_pip(".") == ["install", "--no-cache-dir", "--no-deps", "--no-build-isolation", "."]
    assert DOCKERFILE.index("requirements-build.txt") < DOCKERFILE.index("COPY trainer")


def test_pip_install_as_the_dockerfile_does_then_run_the_entry_point(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # The Dockerfile's two install steps, verbatim, in its working directory: the hash-checked build
    # backend, then the package built with it (no isolated build, so nothing unpinned is fetched) and
    # installed without dependencies, which the image installs in the layer before.
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    context = _build_context(tmp_path)
    for target in ("requirements-build.txt", "."):
        argv = [python, "-m", "pip", *_dockerfile_pip(target), "--quiet"]
        subprocess.run(argv, check=True, cwd=context, env=env)
    backend = _output([python, "-c", "import importlib.metadata as md; print(md.version('hatchling'))"])
    assert f"hatchling=={backend.strip()} " in (TRAINING / "requirements-build.txt").read_text()
    # That layer would download several GB of CUDA wheels; instead, the same locked versions already
    # installed in the workspace environment are made visible to the fresh one, read-only, behind its
    # own site-packages (a .pth line; the workspace's editable `trainer` is not on that path).
    site = _output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    Path(site, "locked-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = _output([python, "-c", "import trainer; print(trainer.__file__)"])
    assert where.startswith(str(venv)), where
    assert _output([python, "-c", CHECK_REQUIREMENTS]).strip() == "ok"
    for argv, expected in ((["--help"], "prepare-data"), (["train", "--help"], "TRAINER_EPOCHS")):
        result = subprocess.run([python, "-m", "trainer", *argv], check=False, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout
    entry = subprocess.run(
        [str(venv / "bin" / "trainer"), "--help"], check=False, capture_output=True, text=True
    )
    assert entry.returncode == 0
    assert "prepare-data" in entry.stdout


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), str(TRAINING / "Dockerfile")], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes() -> None:
    checkov = Path(os.environ.get("CHECKOV", ROOT / ".tools" / "bin" / "checkov"))
    if not checkov.exists():
        pytest.fail(f"checkov not found at {checkov}: run `make setup` (or set CHECKOV)")
    argv = [str(checkov), "--skip-download", "--compact", "--quiet", "-f", str(TRAINING / "Dockerfile")]
    result = subprocess.run(argv, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout


def test_dockerfile_pins_its_base_runs_unprivileged_and_enters_the_trainer() -> None:
    lines = [line.strip() for line in DOCKERFILE.splitlines() if line.strip() and not line.startswith("#")]
    bases = [line for line in lines if line.startswith("FROM ")]
    assert len(bases) == 1
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", bases[0])
    assert ":latest" not in DOCKERFILE
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["python", "-m", "trainer"]' in lines
    # Cache-friendly: the dependency layer comes before the code is copied in.
    assert DOCKERFILE.index("requirements-gpu.txt") < DOCKERFILE.index("COPY trainer")
    assert (TRAINING / ".dockerignore").read_text().splitlines()[1] == "*"


def test_dockerfile_puts_the_gke_driver_on_the_loader_path() -> None:
    # Without it TensorFlow finds no libcuda on GKE and quietly trains on the CPU.
    found = re.findall(r"^ENV LD_LIBRARY_PATH=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert found == ["/usr/local/nvidia/lib64:/usr/local/nvidia/lib"]
    assert DOCKERFILE.index("LD_LIBRARY_PATH") < DOCKERFILE.index("ENTRYPOINT")


@pytest.mark.parametrize(
    ("name", "command", "pinned"),
    [
        ("requirements-gpu.txt", EXPORT_COMMAND, r"^tensorflow==2\.21\.0 "),
        ("requirements-build.txt", BUILD_EXPORT_COMMAND, r"^hatchling==\d+\.\d+\.\d+ "),
    ],
    ids=["gpu", "build"],
)
def test_image_requirements_match_the_lock_and_are_hash_pinned(
    name: str, command: list[str], pinned: str
) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv not on PATH: run `make setup`")
    exported = subprocess.run([uv, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=True)
    committed = (TRAINING / name).read_text()

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    stale = f"{name} is stale: run {' '.join(command)} -o training/{name}"
    assert body(committed) == body(exported.stdout), stale
    assert re.search(pinned, committed, flags=re.MULTILINE)
    # Every requirement is one exact version followed by its hashes (pip --require-hashes needs both).
    requirements = re.split(r"\n(?=\S)", "\n".join(line for line in body(committed) if line.strip()))
    for requirement in requirements:
        if requirement.lstrip().startswith("#"):
            continue
        assert re.match(r"^[A-Za-z0-9._-]+==[^\s;]+( ; [^\\]+)? \\\n", requirement), requirement
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", requirement), requirement
