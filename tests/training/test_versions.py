"""SHA256SUMS and the storage steps replication is built from, on local paths; `replicate` between them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.trained import run_cli
from trainer import storage, versions
from trainer.errors import DataError

DIGEST = hashlib.sha256(b"listed").hexdigest()
"""What SHA256SUMS lists for a file in the `check` tests; the files hash to something else."""


def bundle(root: Path, graph: bytes = b"graph") -> Path:
    """A small version directory with its SHA256SUMS, as `export` leaves one."""
    (root / "variables").mkdir(parents=True)
    (root / "variables" / "variables.index").write_bytes(b"index")
    (root / versions.SAVED_MODEL).write_bytes(graph)
    versions.write_sums(root)
    return root


def test_sha256sums_lists_every_other_file_sorted_in_coreutils_format(tmp_path: Path) -> None:
    root = bundle(tmp_path / "v")
    assert (root / versions.SUMS).read_text() == (
        f"{hashlib.sha256(b'graph').hexdigest()}  saved_model.pb\n"
        f"{hashlib.sha256(b'index').hexdigest()}  variables/variables.index\n"
    )
    where = storage.locate(str(root / versions.SUMS))
    parsed = versions.parse_sums((root / versions.SUMS).read_bytes(), where)
    assert parsed == {
        "saved_model.pb": hashlib.sha256(b"graph").hexdigest(),
        "variables/variables.index": hashlib.sha256(b"index").hexdigest(),
    }


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("abc  saved_model.pb", "line 1: expected '<64 hex>  <relative path>', got 'abc  saved_model.pb'"),
        (f"{DIGEST}  /etc/passwd", "line 1: expected '<64 hex>  <relative path>'"),
        (f"{DIGEST}  a\n{DIGEST}  variables/../../x", "line 2: expected '<64 hex>  <relative path>'"),
        (f"{DIGEST}  a\n{DIGEST} *a", "line 2: 'a' listed twice, or the manifest itself"),
        (f"{DIGEST}  SHA256SUMS", "line 1: 'SHA256SUMS' listed twice, or the manifest itself"),
    ],
)
def test_malformed_sums_are_refused_naming_the_line(tmp_path: Path, text: str, fault: str) -> None:
    where = storage.locate(str(tmp_path / versions.SUMS))
    with pytest.raises(DataError) as raised:
        versions.parse_sums(text.encode(), where)
    assert str(raised.value).startswith(f"{where.uri} {fault}")


@pytest.mark.parametrize(
    ("names", "fault"),
    [
        (["a", "b"], "a does not match SHA256SUMS (and 1 more)"),
        (["a"], "b is listed in SHA256SUMS but missing"),
        (["a", "b", "c"], "c is not listed in SHA256SUMS"),
    ],
)
def test_check_names_the_first_file_at_fault(tmp_path: Path, names: list[str], fault: str) -> None:
    where = storage.locate(str(tmp_path))
    with pytest.raises(DataError) as raised:
        versions.check(
            {"a": DIGEST, "b": DIGEST}, names, lambda _: hashlib.sha256(b"stored").hexdigest(), where
        )
    assert str(raised.value) == f"{where.uri}/{fault}"


def test_sha256_of_a_stored_file_reads_it_in_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "_READ_BLOCK", 3)
    for content in (b"", b"ab", b"abcdefghij"):
        (tmp_path / "f").write_bytes(content)
        assert storage.sha256(storage.locate(str(tmp_path / "f"))) == hashlib.sha256(content).hexdigest()


def test_replicate_between_local_paths_completes_a_torn_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    bundle(source / "1")
    stale = target / f".staging-{'a' * 32}-1"
    bundle(stale, graph=b"half")
    (target / "1").mkdir()
    (target / "1" / "junk").write_bytes(b"torn")  # no saved_model.pb: what a killed publish leaves
    other = target / f".staging-{'b' * 32}-11"  # another version's staging: not this version's to remove
    shutil.copytree(stale, other)
    assert run_cli("replicate", "--location", f"home={source}", "--location", f"disk={target}") == 0
    out = capsys.readouterr().out
    assert f"Copied version 1 from home to disk: {target}/1 (3 files, " in out
    assert "; the copy an earlier run left unfinished was removed\n" in out
    assert sorted(p.name for p in target.iterdir()) == [other.name, "1"]
    copied = sorted(str(p.relative_to(target / "1")) for p in (target / "1").rglob("*") if p.is_file())
    assert copied == [versions.SUMS, versions.SAVED_MODEL, "variables/variables.index"]
    assert all((target / "1" / rel).read_bytes() == (source / "1" / rel).read_bytes() for rel in copied)
