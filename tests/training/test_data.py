"""Loading, cleaning, normalising and splitting data, and the manifest prepare-data writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.trained import run_cli
from trainer import data, manifest, storage
from trainer.errors import DataError, UsageError


def test_cleaning_drops_bad_rows_and_labels_and_scales_to_unit_range() -> None:
    x = np.arange(6 * 4, dtype=np.float64).reshape(6, 2, 2) * 10
    x[1, 0, 0] = np.nan
    x[2, 1, 1] = np.inf
    labels: list[object] = [0, 1, 1, -1, 2.5, "  "]
    raw = data.Raw(x, labels)
    with pytest.raises(DataError, match="at least 2 classes"):
        data.clean(raw)  # only row 0 survives: NaN, inf, -1, 2.5 and a blank label all go
    raw = data.Raw(np.concatenate([x, x[:1] + 5]), [*labels, 3])
    cleaned = data.clean(raw)
    assert cleaned.dropped == 5
    assert cleaned.classes == ["0", "3"]
    assert cleaned.x.shape == (2, 2, 2, 1)
    assert cleaned.x.dtype == np.float32
    assert (cleaned.x.min(), cleaned.x.max()) == (0.0, 1.0)


def test_digits_load_without_download() -> None:
    digits = data.load("digits")
    assert digits.x.shape == (1797, 8, 8, 1)
    assert digits.classes == [str(i) for i in range(10)]
    assert (digits.x.min(), digits.x.max()) == (0.0, 1.0)


def test_split_is_disjoint_stratified_and_deterministic_by_seed() -> None:
    digits = data.load("digits")
    first = data.split(digits, seed=1, val_fraction=0.15, test_fraction=0.15)
    again = data.split(digits, seed=1, val_fraction=0.15, test_fraction=0.15)
    other = data.split(digits, seed=2, val_fraction=0.15, test_fraction=0.15)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["test"], other["test"])
    rows = np.concatenate(list(first.values()))
    assert sorted(rows) == list(range(len(digits.y)))
    assert {k: len(v) for k, v in first.items()} == {"train": 1257, "val": 270, "test": 270}
    assert set(np.bincount(digits.y[first["test"]])) <= {26, 27, 28}  # about 27 per class


def test_npz_directory_source(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for part in range(2):
        x = rng.integers(0, 255, (30, 6, 6)).astype(np.uint8)
        y = np.array(["cat", "dog", "bird"] * 10)
        np.savez(tmp_path / f"part{part}.npz", x=x, y=y)
    loaded = data.load(str(tmp_path))
    assert loaded.x.shape == (60, 6, 6, 1)
    assert loaded.classes == ["bird", "cat", "dog"]


def test_npz_without_the_expected_arrays_is_a_usage_error(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 4, 4)))
    with pytest.raises(UsageError, match="needs arrays 'x' and 'y'"):
        data.load(str(tmp_path))


def test_class_folder_images_drop_unreadable_and_odd_sized_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for label in ("circle", "square"):
        (tmp_path / label).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 255, (10, 10), dtype=np.uint8)).save(
                tmp_path / label / f"{i}.png"
            )
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(tmp_path / "circle" / "big.png")
    (tmp_path / "square" / "broken.png").write_bytes(b"not an image")
    loaded = data.load(str(tmp_path))
    assert loaded.x.shape == (10, 10, 10, 1)
    assert loaded.classes == ["circle", "square"]
    assert loaded.dropped == 2


def test_an_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no files found"):
        data.load(str(tmp_path))


def test_manifest_lists_counts_shape_classes_and_verified_shards(digits: Path, tmp_path: Path) -> None:
    meta = json.loads((digits / "manifest.json").read_text())
    assert meta["counts"] == {"train": 1257, "val": 270, "test": 270}
    assert meta["shape"] == [8, 8, 1]
    assert len(meta["classes"]) == 10
    assert [s["name"] for s in meta["shards"]["train"]] == [
        f"train-0000{i}-of-00004.tfrecord" for i in range(4)
    ]
    # A corrupted shard is caught before training on it.
    copy = tmp_path / "data"
    copy.mkdir()
    for item in digits.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    (copy / "test-00000-of-00004.tfrecord").write_bytes(b"corrupt")
    with pytest.raises(DataError, match=r"checksum mismatch for .*test-00000-of-00004\.tfrecord"):
        manifest.stage(storage.locate(str(copy)), tmp_path / "cache")


def test_training_without_prepared_data_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("train", "--data", tmp_path, "--model-dir", tmp_path / "m") == 1
    assert "no manifest.json under" in capsys.readouterr().err
