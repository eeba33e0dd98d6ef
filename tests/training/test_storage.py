"""Storage on local paths, and the retry and error rules shared by every backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fsspec.exceptions import FSTimeoutError

from trainer import storage, storage_errors
from trainer.errors import StorageError, UsageError


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_errors, "BACKOFF_SECONDS", 0)


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    loc = storage.locate(str(tmp_path / "a" / "b.json"))
    storage.write_bytes(loc, b"first")
    storage.write_bytes(loc, b"second")
    assert storage.read_bytes(loc) == b"second"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.json"]


def test_a_failed_write_keeps_the_previous_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loc = storage.locate(str(tmp_path / "b.json"))
    storage.write_bytes(loc, b"complete")

    def half_write(path: str, data: bytes) -> None:
        Path(path).write_bytes(data[:3])
        raise OSError("disk full")

    monkeypatch.setattr(loc.fs, "pipe_file", half_write)
    with pytest.raises(StorageError, match=r"cannot write .*b\.json: OSError: disk full"):
        storage.write_bytes(loc, b"replacement")
    assert storage.read_bytes(loc) == b"complete"
    assert storage.list_files(storage.locate(str(tmp_path))) == ["b.json"]  # the torn temp is not listed


def test_commit_tree_publishes_a_directory_at_once_and_never_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "bundle"
    (source / "variables").mkdir(parents=True)
    (source / "saved_model.pb").write_bytes(b"pb")
    (source / "variables" / "v.index").write_bytes(b"index")
    target = storage.locate(str(tmp_path / "serve" / "1"))
    storage.commit_tree(source, target, last=("saved_model.pb",))
    assert storage.list_files(target) == ["saved_model.pb", "variables/v.index"]
    assert [p.name for p in (tmp_path / "serve").iterdir()] == ["1"]
    with pytest.raises(StorageError, match="already exists"):
        storage.commit_tree(source, target)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://host/x", r"unsupported storage URI 'ftp://host/x': use a local path or s3://, gs://"),
        ("s3://", "names no bucket"),
    ],
)
def test_bad_uris_are_usage_errors(uri: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        storage.locate(uri)


def test_azure_without_credentials_says_which_variables_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    with pytest.raises(UsageError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        storage.locate("az://models/x")


class _Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures, self.calls = failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


class _HttpError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code


def test_transient_faults_are_retried_with_backoff(tmp_path: Path) -> None:
    loc = storage.locate(str(tmp_path))
    flaky = _Flaky([ConnectionResetError("reset"), TimeoutError("slow"), _HttpError(503)])
    assert storage_errors.call(loc, "read", flaky) == "ok"
    assert flaky.calls == 4


def test_retries_stop_after_the_last_attempt(tmp_path: Path) -> None:
    loc = storage.locate(str(tmp_path))
    flaky = _Flaky([ConnectionError("down")] * 10)
    with pytest.raises(StorageError, match=r"cannot read .*: ConnectionError: down"):
        storage_errors.call(loc, "read", flaky)
    assert flaky.calls == storage_errors.ATTEMPTS


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (FileNotFoundError("x"), "not found"),
        (PermissionError("no"), r"access denied \(no\)"),
        (_HttpError(403), r"access denied \(HTTP 403\)"),
        (_HttpError(404), "not found"),
    ],
)
def test_permanent_faults_fail_at_once_with_one_line(tmp_path: Path, error: Exception, message: str) -> None:
    loc = storage.locate(str(tmp_path / "file"))
    flaky = _Flaky([error])
    with pytest.raises(StorageError, match=message) as raised:
        storage_errors.call(loc, "read", flaky)
    assert flaky.calls == 1
    assert "\n" not in str(raised.value)


def test_missing_local_files_are_not_found(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"cannot read .*missing\.json: not found"):
        storage.read_bytes(storage.locate(str(tmp_path / "missing.json")))
    assert storage.list_files(storage.locate(str(tmp_path / "nothing"))) == []


def test_is_transient_classifies_by_type_name_and_status() -> None:
    endpoint = type("EndpointConnectionError", (Exception,), {})
    cases: list[tuple[Any, bool]] = [
        (endpoint(), True),
        (_HttpError(429), True),
        (_HttpError(400), False),
        (FileNotFoundError(), False),
        (ValueError(), False),
    ]
    for error, transient in cases:
        assert storage_errors.is_transient(error) is transient, error


def test_trainer_storage_attempts_sets_the_number_of_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_STORAGE_ATTEMPTS", "2")
    flaky = _Flaky([ConnectionError("down")] * 10)
    with pytest.raises(StorageError, match=r": ConnectionError: down \(2 attempt\(s\)\)$"):
        storage_errors.call(storage.locate(str(tmp_path)), "read", flaky)
    assert flaky.calls == 2


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("TRAINER_STORAGE_ATTEMPTS", "0", "an integer >= 1"),
        ("TRAINER_STORAGE_ATTEMPTS", "many", "an integer >= 1"),
        ("TRAINER_STORAGE_TIMEOUT", "-1", "seconds >= 0"),
        ("TRAINER_STORAGE_TIMEOUT", "soon", "seconds >= 0"),
    ],
)
def test_bad_storage_variables_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(
        UsageError, match=rf"^environment variable {name}: expected {allowed}, got '{value}'$"
    ):
        storage.read_bytes(storage.locate(str(tmp_path / "x")))


def test_an_attempt_out_of_time_is_retried_then_reported_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINER_STORAGE_ATTEMPTS", "2")
    monkeypatch.setenv("TRAINER_STORAGE_TIMEOUT", "1.5")
    flaky = _Flaky([FSTimeoutError()] * 2)  # what fsspec raises when `timeout` runs out
    message = r"cannot read .*: no answer within 1\.5 s \(TRAINER_STORAGE_TIMEOUT\), 2 attempt\(s\)$"
    with pytest.raises(StorageError, match=message):
        storage_errors.call(storage.locate(str(tmp_path)), "read", flaky)
    assert flaky.calls == 2


def test_gcs_without_credentials_names_the_problem_instead_of_going_anonymous(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """gcsfs falls back to anonymous access unless told to use the default credentials; without any, the
    error says so at once rather than as a 401 on the first read."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(StorageError, match=r"cannot use gs://bucket/models: .*missing\.json"):
        storage.locate("gs://bucket/models")
