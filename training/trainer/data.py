"""Loading, cleaning, normalising and splitting a data set, before anything is written.

Sources: scikit-learn's bundled handwritten digits (no download), or a directory (local or a bucket URI)
of `.npz` files holding `x` (N, H, W[, C]) and `y` (N,), or of class-per-folder images.
"""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from trainer import storage
from trainer.errors import DataError, UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass(frozen=True)
class Dataset:
    """Images as float32 (N, H, W, C) in [0, 1] and labels as class indices into `classes`."""

    x: NDArray[np.float32]
    y: NDArray[np.int64]
    classes: list[str]
    dropped: int = 0


@dataclass(frozen=True)
class Raw:
    """What a source yields before cleaning: any numeric images, any labels, rows already dropped."""

    x: NDArray[np.floating]
    labels: list[object]
    dropped: int = 0


def load(source: str) -> Dataset:
    """Load `source` ("digits" or a directory URI), clean it and normalise it to [0, 1]."""
    raw = _load_digits() if source == "digits" else _load_directory(storage.locate(source))
    return clean(raw)


def split(
    data: Dataset, seed: int, val_fraction: float, test_fraction: float
) -> dict[str, NDArray[np.int64]]:
    """Row indices of train, val and test: stratified by class where every class allows it, by seed."""
    rows = np.arange(len(data.y))
    holdout = val_fraction + test_fraction
    if round(len(rows) * min(val_fraction, test_fraction)) < 1 or holdout >= 1:
        raise DataError(f"{len(rows)} rows cannot be split into val {val_fraction} and test {test_fraction}")

    def cut(idx: NDArray[np.int64], fraction: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        try:
            kept, taken = train_test_split(idx, test_size=fraction, random_state=seed, stratify=data.y[idx])
        except ValueError:  # a class too small to appear in both parts: fall back to a plain shuffle
            kept, taken = train_test_split(idx, test_size=fraction, random_state=seed)
        return np.asarray(kept, dtype=np.int64), np.asarray(taken, dtype=np.int64)

    rest, test = cut(rows, test_fraction)
    train, val = cut(rest, val_fraction / (1 - test_fraction))
    return {"train": train, "val": val, "test": test}


def clean(raw: Raw) -> Dataset:
    """Drop rows with non-finite pixels or invalid labels, then scale pixels to [0, 1]."""
    x = raw.x.astype(np.float64)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    labels = [_label_key(v) for v in raw.labels]
    keep = finite & np.array([k is not None for k in labels], dtype=bool)
    if not keep.any():
        raise DataError("no valid rows left after cleaning (every row had bad pixels or labels)")
    kept_labels = [k for k, ok in zip(labels, keep, strict=True) if ok and k is not None]
    classes = sorted(set(kept_labels), key=_sort_key)
    if len(classes) < 2:
        raise DataError(f"need at least 2 classes after cleaning, found {classes}")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[k] for k in kept_labels], dtype=np.int64)
    return Dataset(_normalise(x[keep]), y, classes, raw.dropped + int((~keep).sum()))


def _normalise(x: NDArray[np.float64]) -> NDArray[np.float32]:
    # One global min-max, not per image: it keeps relative intensities (digits are 0..16, photos 0..255).
    low, high = float(x.min()), float(x.max())
    scale = high - low if high > low else 1.0
    return ((x - low) / scale).astype(np.float32)


def _label_key(value: object) -> str | None:
    """A label as a class name, or None if it is missing, not finite, negative or fractional."""
    if value is None:
        return None
    if isinstance(value, str | np.str_):
        text = str(value).strip()
        return text or None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not np.isfinite(number) or number < 0 or number != int(number):
        return None  # -1 is the usual "unlabelled" marker
    return str(int(number))


def _sort_key(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


def _load_digits() -> Raw:
    bunch = load_digits()
    return Raw(np.asarray(bunch.images, dtype=np.float64), [int(t) for t in bunch.target])


def _load_directory(loc: storage.Location) -> Raw:
    files = storage.list_files(loc)
    if not files:
        raise UsageError(f"--source {loc.uri!r}: no files found; expected .npz files or class folders")
    npz = [f for f in files if f.endswith(".npz")]
    if npz:
        return _load_npz(loc, npz)
    images = [f for f in files if f.lower().endswith(IMAGE_SUFFIXES) and "/" in f]
    if not images:
        raise UsageError(f"--source {loc.uri!r}: found neither .npz files nor class-per-folder images")
    return _load_images(loc, images)


def _load_npz(loc: storage.Location, names: list[str]) -> Raw:
    xs, labels = [], []
    for name in names:
        with np.load(io.BytesIO(storage.read_bytes(loc.child(name))), allow_pickle=False) as archive:
            if "x" not in archive or "y" not in archive:
                raise UsageError(f"{loc.child(name).uri}: an .npz file needs arrays 'x' and 'y'")
            x, y = archive["x"], archive["y"]
        if len(x) != len(y) or x.ndim not in (3, 4):
            raise UsageError(f"{loc.child(name).uri}: x must be (N, H, W[, C]) with one y per row")
        xs.append(x.astype(np.float64))
        labels.extend(y.tolist())
    shapes = {x.shape[1:] for x in xs}
    if len(shapes) > 1:
        raise UsageError(f"--source {loc.uri!r}: .npz files disagree on image shape: {sorted(shapes)}")
    return Raw(np.concatenate(xs), labels)


def _load_images(loc: storage.Location, names: list[str]) -> Raw:
    pixels: list[NDArray[np.uint8]] = []
    labels: list[object] = []
    dropped = 0
    mode, size = None, None
    for name in names:
        try:
            with Image.open(io.BytesIO(storage.read_bytes(loc.child(name)))) as image:
                # The first readable image fixes mode and size; the rest must match to be kept.
                mode = mode or ("L" if image.mode in ("1", "L", "I;16") else "RGB")
                array = np.asarray(image.convert(mode), dtype=np.uint8)
        except (UnidentifiedImageError, OSError):
            dropped += 1
            continue
        size = size or array.shape
        if array.shape != size:
            dropped += 1
            continue
        pixels.append(array)
        labels.append(posixpath.dirname(name).split("/")[-1])
    if not pixels:
        raise DataError(f"--source {loc.uri!r}: none of the {len(names)} images could be read")
    return Raw(np.stack(pixels).astype(np.float64), labels, dropped)
