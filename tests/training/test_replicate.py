"""`replicate` with S3 (moto), GCS and Azure Blob (Azurite) running side by side, as three clouds.

Every backend's variables are set in this one process, as in the replication pod. Faults are injected
where the trainer meets the third-party code: a wrapped method of the target's fsspec filesystem.
What the targets hold is checked with raw fsspec calls and hashlib, not with the trainer's own code.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.trained import Trained, run_cli
from tests.training import emulators, prefix_grants
from tests.training.test_storage_emulators import new_bucket
from trainer import storage, versions
from trainer.errors import StorageError

CLOUDS = {"s3": "aws", "gs": "gcp", "az": "azure"}  # scheme → the target NAME used for that cloud
VARIABLES = "variables/variables.data-00000-of-00001"


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so none of the trainer's handlers or clean-ups run."""


@pytest.fixture
def clouds(emulator_pool: emulators.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """All three emulators, each backend's variables set in this process."""
    for scheme in CLOUDS:
        for key, value in emulator_pool.get(scheme).env.items():
            monkeypatch.setenv(key, value)


def base_in(scheme: str) -> storage.Location:
    """A model base path in a new bucket of `scheme`."""
    return new_bucket(scheme).child("models/digits")


def source_with(trained: Trained, scheme: str, *names: str) -> storage.Location:
    """A model base path in `scheme` holding the exported version under each of `names`."""
    base = base_in(scheme)
    for name in names:
        storage.commit_tree(trained.serve / "1", base.child(name), last=(versions.SAVED_MODEL,))
    return base


def replicate(
    capsys: pytest.CaptureFixture[str], locations: dict[str, storage.Location], *extra: str
) -> tuple[int, str, str]:
    """`trainer replicate` over `locations` in this process: its exit status, stdout and stderr."""
    args = ["replicate", *extra]
    for name, base in locations.items():
        args += ["--location", f"{name}={base.uri}"]
    capsys.readouterr()
    code = run_cli(*args)
    out, err = capsys.readouterr()
    return code, out, err


def raw_files(base: storage.Location) -> dict[str, bytes]:
    """Every object under `base` (hidden names included) and its bytes, read with fsspec directly."""
    base.fs.invalidate_cache()
    if not base.fs.exists(base.path):
        return {}
    return {posixpath.relpath(f, base.path): base.fs.cat_file(f) for f in base.fs.find(base.path)}


def served(base: storage.Location) -> list[str]:
    """TF Serving's rule on a raw listing: the numbered directories holding `saved_model.pb`."""
    paths = [rel.split("/") for rel in raw_files(base)]
    return sorted(p[0] for p in paths if len(p) == 2 and p[0].isdigit() and p[1] == "saved_model.pb")


def assert_replica(source: storage.Location, target: storage.Location, *names: str) -> None:
    """`target` holds exactly `names`, byte for byte as in `source`, each verified by its SHA256SUMS."""
    want, got = raw_files(source), raw_files(target)
    assert sorted(got) == sorted(rel for rel in want if rel.split("/")[0] in names), "hidden or missing files"
    assert all(got[rel] == want[rel] for rel in got)
    for name in names:
        lines = got[f"{name}/SHA256SUMS"].decode().splitlines()
        sums = {path: digest for digest, path in (line.split("  ", 1) for line in lines)}
        files = {rel.split("/", 1)[1] for rel in got if rel.startswith(f"{name}/")} - {"SHA256SUMS"}
        assert sorted(sums) == sorted(files)
        assert all(hashlib.sha256(got[f"{name}/{rel}"]).hexdigest() == sums[rel] for rel in files)


def wrap(
    fs: Any, method: str, monkeypatch: pytest.MonkeyPatch, before: Callable[[int, tuple[Any, ...]], None]
) -> None:
    """Replace `fs.method` (the fsspec instance's) by one that calls `before(n, args)` on its n-th call."""
    original, calls = getattr(fs, method), [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        before(calls[0], args)
        return original(*args, **kwargs)

    monkeypatch.setattr(fs, method, wrapped)


def recorder(seen: list[str]) -> Callable[[int, tuple[Any, ...]], None]:
    """A `wrap` hook that notes the path each call is given."""
    return lambda _, args: seen.append(str(args[0]))


@pytest.mark.parametrize("target_scheme", list(CLOUDS))
def test_a_target_granted_only_its_model_prefix_is_replicated(
    clouds: None, trained: Trained, target_scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a federated replicator may do in another cloud's bucket (ID-09: one prefix, never the bucket
    itself) is enough to copy into an empty one and to rerun."""
    source_scheme = next(s for s in CLOUDS if s != target_scheme)
    source, target = source_with(trained, source_scheme, "1"), base_in(target_scheme)
    locations = {CLOUDS[source_scheme]: source, CLOUDS[target_scheme]: target}
    with pytest.MonkeyPatch.context() as scoped:
        prefix_grants.grant_only(target, scoped)
        code, out, err = replicate(capsys, locations)
        assert (code, err) == (0, "")
        assert out.endswith("across 2 location(s): 1 copied, 1 already there, 0 failed\n")
        code, out, err = replicate(capsys, locations)
        assert (code, err) == (0, "")
        assert out.endswith(": 0 copied, 2 already there, 0 failed\n")
    assert_replica(source, target, "1")  # read back with the emulator's full access


def test_the_stand_in_refuses_what_the_grant_does_not_cover(
    clouds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-ins are no wider than the grants: the bucket's root and a sibling model are refused."""
    for scheme in CLOUDS:
        target = base_in(scheme)
        prefix_grants.grant_only(target, monkeypatch)
        root, sibling = storage.locate(target.uri.rsplit("/models/", 1)[0]), target.sibling("other")
        for refused in (root.child("data/x"), sibling.child("1/saved_model.pb")):
            with pytest.raises(StorageError, match="access denied"):
                storage.write_bytes(refused, b"x")


@pytest.mark.parametrize("source_scheme", list(CLOUDS))
def test_a_version_exported_in_any_location_reaches_the_other_two_byte_for_byte(
    clouds: None, trained: Trained, source_scheme: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wherever it was exported (the home cloud or a MultiKueue worker's), the order of the locations
    does not matter."""
    source = source_with(trained, source_scheme, "1")
    locations = {CLOUDS[s]: source if s == source_scheme else base_in(s) for s in CLOUDS}
    code, out, err = replicate(capsys, locations)
    assert (code, err) == (0, "")
    files = len(raw_files(source.child("1")))
    for name, base in locations.items():
        if base is not source:
            assert (
                f"Copied version 1 from {CLOUDS[source_scheme]} to {name}: {base.uri}/1 ({files} files, "
                in out
            )
        assert_replica(source, base, "1")
    assert out.endswith("version(s) 1 across 3 location(s): 2 copied, 1 already there, 0 failed\n")


def test_a_rerun_with_every_target_current_copies_nothing(
    clouds: None, trained: Trained, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    locations = {"aws": base_in("s3"), "gcp": source_with(trained, "gs", "1"), "azure": base_in("az")}
    assert replicate(capsys, locations)[0] == 0
    calls: dict[str, list[str]] = {"put_file": [], "pipe_file": [], "copy": [], "rm": []}
    for base in locations.values():
        for method, seen in calls.items():
            wrap(base.fs, method, monkeypatch, recorder(seen))
    code, out, _ = replicate(capsys, locations)
    assert code == 0
    assert calls == {"put_file": [], "pipe_file": [], "copy": [], "rm": []}
    assert "Copied" not in out
    assert out.endswith(": 0 copied, 3 already there, 0 failed\n")


@pytest.mark.parametrize("method", ["put_file", "copy"])  # killed while staging, or while publishing
def test_a_run_killed_mid_way_commits_nothing_and_the_rerun_completes_it(
    clouds: None,
    trained: Trained,
    method: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = source_with(trained, "s3", "1")
    locations = {"aws": source, "gcp": base_in("gs"), "azure": base_in("az")}
    azure = locations["azure"]

    def kill_at_the_fourth(n: int, _: tuple[Any, ...]) -> None:
        if n == 4:
            raise Killed

    with monkeypatch.context() as patch:
        wrap(azure.fs, method, patch, kill_at_the_fourth)
        with pytest.raises(Killed):
            replicate(capsys, locations)
    assert served(azure) == []
    left = raw_files(azure)
    assert [rel for rel in left if rel.startswith(".staging-")], "the staging directory stays behind"
    # Killed while publishing: a version directory with the three files copied, and no saved_model.pb.
    assert len([rel for rel in left if rel.startswith("1/")]) == (3 if method == "copy" else 0)
    azure.fs.pipe_file(f"{azure.path}/1/stray", b"not in the version")  # the rerun must not keep it

    code, out, err = replicate(capsys, locations)
    assert (code, err) == (0, "")
    assert f"Copied version 1 from aws to azure: {azure.uri}/1 (" in out
    assert "; the copy an earlier run left unfinished was removed\n" in out
    assert out.endswith(": 1 copied, 2 already there, 0 failed\n")  # gcp was done before the kill
    for base in locations.values():
        assert_replica(source, base, "1")


def test_a_corrupted_source_file_is_refused_and_no_target_gets_that_version(
    clouds: None, trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    source = source_with(trained, "gs", "1", "2")
    data = bytearray(source.fs.cat_file(f"{source.path}/2/{VARIABLES}"))
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    source.fs.pipe_file(f"{source.path}/2/{VARIABLES}", bytes(data))
    targets = {"aws": base_in("s3"), "azure": base_in("az")}
    code, out, err = replicate(capsys, {"gcp": source, **targets})
    assert code == 1
    assert err.splitlines() == [
        f"trainer replicate: error: version 2 refused: {source.uri}/2/{VARIABLES} does not match SHA256SUMS;"
        " no location changed",
        "trainer replicate: error: not replicated: version 2 (see above); a rerun retries",
    ]
    for base in targets.values():
        assert_replica(source, base, "1")  # the older, intact version is copied all the same
    assert out.endswith(": 2 copied, 2 already there, 1 failed\n")


def test_an_upload_that_reads_back_wrong_is_not_published(
    clouds: None, trained: Trained, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = source_with(trained, "az", "1")
    locations = {"aws": base_in("s3"), "gcp": base_in("gs"), "azure": source}
    aws = locations["aws"]
    real_put = aws.fs.put_file

    def corrupting_put(local: str, remote: str, **kwargs: Any) -> None:
        if remote.endswith("/model.tflite"):  # the store keeps other bytes than those sent
            local_copy = Path(local).read_bytes()
            aws.fs.pipe_file(remote, local_copy[:-1] + b"\0")
        else:
            real_put(local, remote, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(aws.fs, "put_file", corrupting_put)
        code, _, err = replicate(capsys, locations)
    assert code == 1
    assert err.splitlines()[0] == (
        f"trainer replicate: error: location aws ({aws.uri}): the staged upload does not verify: "
        f"{aws.uri}/1/model.tflite does not match SHA256SUMS"
    )
    assert served(aws) == []
    assert_replica(source, locations["gcp"], "1")
    # The rerun removes the rejected staging directory and copies the version again.
    assert replicate(capsys, locations)[0] == 0
    assert_replica(source, aws, "1")


@pytest.mark.parametrize("fault", ["missing bucket", "unreachable endpoint"])
def test_a_target_that_is_down_fails_alone_and_the_other_completes(
    clouds: None,
    trained: Trained,
    fault: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = source_with(trained, "s3", "1")
    if fault == "missing bucket":
        bucket = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
        down, up = ("gcp", storage.locate(f"gs://{bucket}/models/digits")), ("azure", base_in("az"))
        reason = f"bucket or container '{bucket}' does not exist"
    else:  # Azure's endpoint refuses connections; one attempt of at most 2 s instead of minutes of retries
        closed = emulators.azure_connection_string(emulators.free_port())
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", closed)
        monkeypatch.setenv("TRAINER_STORAGE_ATTEMPTS", "1")
        monkeypatch.setenv("TRAINER_STORAGE_TIMEOUT", "2")
        down, up = ("azure", storage.locate("az://models/digits")), ("gcp", base_in("gs"))
        reason = "no answer within 2 s (TRAINER_STORAGE_TIMEOUT), 1 attempt(s)"
    code, out, err = replicate(capsys, dict([("aws", source), down, up]))
    assert code == 1
    first, last = err.splitlines()
    assert first.startswith(f"trainer replicate: error: location {down[0]} ({down[1].uri}): cannot ")
    assert first.endswith(reason)
    assert (
        last == f"trainer replicate: error: not replicated: location {down[0]} (see above); a rerun retries"
    )
    assert f"Copied version 1 from aws to {up[0]}: " in out
    assert_replica(source, up[1], "1")


def test_newest_chooses_the_newest_committed_versions_that_carry_sums(
    clouds: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = base_in("gs"), base_in("az")
    for number in range(1, 6):
        bundle = tmp_path / str(number)
        (bundle / "variables").mkdir(parents=True)
        (bundle / "variables" / "variables.index").write_bytes(f"index {number}".encode())
        if number != 5:  # version 5 is still being exported: no saved_model.pb yet
            (bundle / versions.SAVED_MODEL).write_bytes(f"graph {number}".encode())
        if number != 4:  # version 4 predates manifests
            versions.write_sums(bundle)
        storage.commit_tree(bundle, source.child(str(number)), last=(versions.SAVED_MODEL,))
    locations = {"gcp": source, "azure": target}
    code, out, err = replicate(capsys, locations, "--newest", "2")
    assert code == 0
    assert (
        err == f"trainer replicate: warning: skipped {source.uri}/4: no SHA256SUMS to verify a copy against\n"
    )
    assert [line.split(":")[0] for line in out.splitlines()[:2]] == [
        "Copied version 3 from gcp to azure",
        "Copied version 2 from gcp to azure",
    ]
    assert served(target) == ["2", "3"]
    assert replicate(capsys, locations, "--newest", "3")[1].endswith(
        ": 1 copied, 5 already there, 0 failed\n"
    )
    assert_replica(source, target, "1", "2", "3")
