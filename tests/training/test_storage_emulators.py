"""One storage contract, run against real emulators of S3 (moto), GCS and Azure Blob (Azurite)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobClient

from tests.training import emulators
from trainer import storage
from trainer.errors import StorageError


def new_bucket(scheme: str) -> storage.Location:
    name = f"t{uuid.uuid4().hex[:12]}"  # valid for S3, GCS and Azure containers alike
    loc = storage.locate(f"{scheme}://{name}")
    loc.fs.mkdir(name)
    return loc


def test_files_round_trip(store_env: emulators.Emulator, tmp_path: Path) -> None:
    bucket = new_bucket(store_env.scheme)
    storage.write_bytes(bucket.child("data/manifest.json"), b"{}")
    local = tmp_path / "up"
    (local / "sub").mkdir(parents=True)
    (local / "a.bin").write_bytes(b"a")
    (local / "sub" / "b.bin").write_bytes(b"b")
    storage.upload_tree(local, bucket.child("data"))
    assert storage.list_files(bucket.child("data")) == ["a.bin", "manifest.json", "sub/b.bin"]
    assert storage.exists(bucket.child("data/sub/b.bin"))
    assert not storage.exists(bucket.child("data/none"))
    assert storage.read_bytes(bucket.child("data/manifest.json")) == b"{}"
    names = storage.download_tree(bucket.child("data"), tmp_path / "down")
    assert names == ["a.bin", "manifest.json", "sub/b.bin"]
    assert (tmp_path / "down" / "sub" / "b.bin").read_bytes() == b"b"
    # Writes go through temporary keys that are removed once published.
    assert not [f for f in bucket.fs.find(bucket.path) if storage.TEMP_PREFIX in f]


def test_commit_tree_copies_saved_model_pb_last_and_removes_staging(
    store_env: emulators.Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = new_bucket(store_env.scheme)
    source = tmp_path / "bundle"
    (source / "variables").mkdir(parents=True)
    for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index", "model.tflite"):
        (source / name).write_bytes(name.encode())
    copied: list[str] = []
    original = bucket.fs.copy

    def recording_copy(src: str, dst: str) -> None:
        copied.append(dst.rsplit("/1/", 1)[-1])
        original(src, dst)

    monkeypatch.setattr(bucket.fs, "copy", recording_copy)
    target = bucket.child("models/digits/1")
    storage.commit_tree(source, target, last=("saved_model.pb",))
    assert copied[-1] == "saved_model.pb"
    assert sorted(copied) == storage.list_files(target)
    assert storage.list_children(bucket.child("models/digits")) == ["1"]
    with pytest.raises(StorageError, match="already exists"):
        storage.commit_tree(source, target)


def test_a_missing_bucket_is_one_clear_line(store_env: emulators.Emulator) -> None:
    missing = storage.locate(f"{store_env.scheme}://no-such-bucket-{uuid.uuid4().hex[:6]}/data/manifest.json")
    for operation in (storage.read_bytes, storage.exists, lambda loc: storage.write_bytes(loc, b"x")):
        with pytest.raises(
            StorageError, match=r"bucket or container 'no-such-bucket-\w+' does not exist"
        ) as err:
            operation(missing)
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("emulator", ["az"], indirect=True)
def test_denied_access_is_one_clear_line(
    emulator: emulators.Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Azurite checks request signatures: a wrong account key is a real authorisation failure.
    wrong_key = emulators.AZURITE_KEY[:-6] + "AAAA=="
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", emulators.azure_connection_string(emulator.port, wrong_key)
    )
    with pytest.raises(StorageError, match=r"cannot write az://\w+/x\.json: access denied \(") as err:
        storage.write_bytes(storage.locate(f"az://t{uuid.uuid4().hex[:12]}/x.json"), b"x")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("ended", ["success", "failed"])
def test_an_azure_copy_still_pending_is_waited_for(
    emulator_pool: emulators.Pool, monkeypatch: pytest.MonkeyPatch, ended: str
) -> None:
    """Azurite copies at once; Azure may answer a copy while it runs. Publishing polls the destination
    until the copy ends, so the temporary source is never deleted under a running copy."""
    for key, value in emulator_pool.get("az").env.items():
        monkeypatch.setenv(key, value)
    bucket = new_bucket("az")
    reported = iter(["pending", "pending", ended])
    original = BlobClient.get_blob_properties

    async def copy_in_progress(self: BlobClient, **kwargs: Any) -> BlobProperties:
        props = await original(self, **kwargs)
        if self.blob_name == "data/weights.bin":
            props.copy.status = next(reported, props.copy.status)
        return props

    monkeypatch.setattr(BlobClient, "get_blob_properties", copy_in_progress)
    loc = bucket.child("data/weights.bin")
    if ended == "success":
        storage.write_bytes(loc, b"weights")
        assert storage.read_bytes(loc) == b"weights"
    else:
        with pytest.raises(StorageError, match=r"weights.bin: Azure's copy ended failed"):
            storage.write_bytes(loc, b"weights")
    assert next(reported, "all read") == "all read"
