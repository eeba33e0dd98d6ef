"""`replicate` over local directories standing for three clouds' model base paths: versions exported in
any of them (the home cloud or a MultiKueue worker) reach all, and a version number exported twice with
different contents is a conflict that nothing overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trained import run_cli
from tests.training.test_versions import bundle
from trainer import versions

CLOUDS = ("aws", "gcp", "azure")


def replicate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`trainer replicate` over `<root>/<cloud>` for each cloud: its exit status, stdout and stderr."""
    capsys.readouterr()
    code = run_cli("replicate", *(a for c in CLOUDS for a in ("--location", f"{c}={root / c}")))
    out, err = capsys.readouterr()
    return code, out, err


def tree(base: Path) -> dict[str, bytes]:
    """Every file under `base` and its bytes."""
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_versions_exported_in_different_clouds_reach_every_cloud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle(tmp_path / "aws" / "1", graph=b"trained on aws")
    bundle(tmp_path / "azure" / "2", graph=b"trained on azure")
    code, out, err = replicate(tmp_path, capsys)
    assert (code, err) == (0, "")
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [
        "Copied version 2 from azure to aws",
        "Copied version 2 from azure to gcp",
        "Copied version 1 from aws to gcp",
        "Copied version 1 from aws to azure",
    ]
    assert out.splitlines()[-1] == (
        "Replicated version(s) 2, 1 across 3 location(s): 4 copied, 2 already there, 0 failed"
    )
    assert tree(tmp_path / "aws") == tree(tmp_path / "gcp") == tree(tmp_path / "azure")
    assert (tmp_path / "gcp" / "2" / versions.SAVED_MODEL).read_bytes() == b"trained on azure"

    code, out, err = replicate(tmp_path, capsys)  # every location current: nothing to do
    assert (code, err, out.count("Copied")) == (0, "", 0)
    assert out.endswith(": 0 copied, 6 already there, 0 failed\n")


def test_one_number_exported_twice_differently_is_copied_nowhere_and_the_others_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle(tmp_path / "aws" / "1")
    bundle(tmp_path / "aws" / "2", graph=b"trained on aws")
    bundle(tmp_path / "azure" / "2", graph=b"trained on azure")
    before = {cloud: tree(tmp_path / cloud) for cloud in ("aws", "azure")}
    code, out, err = replicate(tmp_path, capsys)
    assert code == 1
    assert err.splitlines() == [
        f"trainer replicate: error: version 2 conflicts: aws ({tmp_path / 'aws'}) and azure "
        f"({tmp_path / 'azure'}) hold different SHA256SUMS; copied nowhere, neither overwritten",
        "trainer replicate: error: not replicated: version 2 (see above); a rerun retries",
    ]
    version_1 = {f"1/{rel}": data for rel, data in tree(tmp_path / "aws" / "1").items()}
    assert tree(tmp_path / "aws") == before["aws"]  # neither 2 is overwritten; 1 is copied all the same
    assert tree(tmp_path / "azure") == {**before["azure"], **version_1}
    assert tree(tmp_path / "gcp") == version_1
    assert out.endswith(": 2 copied, 3 already there, 1 failed\n")
