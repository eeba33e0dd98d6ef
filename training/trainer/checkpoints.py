"""The training checkpoint: Keras's BackupAndRestore files, and how a run resumes from them.

BackupAndRestore (with `double_checkpoint`) keeps a pair of files, `latest.weights.h5` (weights and
optimizer state) and `training_metadata.json` (`{"epoch": epochs done, "batch": ...}`), and the previous
pair under a `.bkp` suffix. It saves at the end of every epoch; `Checkpoint.save_now` also saves
mid-epoch, when SIGTERM asks (see `preemption`).

Keras 3.15 resumes at epoch boundaries only: it writes `batch` but restores just `epoch` (its
`_load_model` sets the model's initial epoch and nothing else). A checkpoint saved after B batches of
epoch E+1 therefore holds those batches' weights and optimizer state, and the resumed run trains epoch E+1
again from its first batch, starting from them: no optimizer progress is lost, and those B batches are
seen twice. In our checkpoints `batch` counts the batches of the next epoch already trained (0: none).

The two files of a pair cannot be replaced at once on an object store, and a publish can stop between
them (an outage, a SIGKILL). So the metadata also records the SHA-256 of its weights (`stamp`), the
previous pair is published before the latest one, and the latest pair's weights before its metadata.
Whenever a publish stops, one pair still matches; `restore` takes the latest pair that does, and ignores
weights that no metadata names.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import keras

from trainer import storage

WEIGHTS = "latest.weights.h5"
METADATA = "training_metadata.json"
BACKUP = ".bkp"  # BackupAndRestore's suffix for the previous pair
DIGEST = "weights_sha256"  # our key in the metadata; Keras reads only "epoch"
# Publication order (see the module docstring); anything else in the directory goes between.
PUBLISH_FIRST = (f"{WEIGHTS}{BACKUP}", f"{METADATA}{BACKUP}")
PUBLISH_LAST = (METADATA,)


@dataclass(frozen=True)
class Progress:
    """How far a checkpoint got: whole epochs, and batches of the next one (saved on SIGTERM)."""

    epochs: int
    batches: int = 0

    def __bool__(self) -> bool:
        return self.epochs > 0 or self.batches > 0

    def describe(self, total_epochs: int) -> str:
        text = f"{self.epochs} of {total_epochs} epoch(s) done"
        if self.batches:
            text += (
                f", and {self.batches} batch(es) of epoch {self.epochs + 1}, which restarts from its first "
                "batch with the weights saved after them (Keras resumes at epoch boundaries only)"
            )
        return text


class Checkpoint(keras.callbacks.BackupAndRestore):  # type: ignore[misc]
    """BackupAndRestore in `directory`, keeping the previous pair, that can also save mid-epoch."""

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory), double_checkpoint=True, delete_checkpoint=False)

    def save_now(self, progress: Progress) -> None:
        """Save weights, optimizer state and `progress` now, as the end of an epoch would."""
        # Keras has no public call for this: `_save_model` writes `_current_epoch` and `_last_batch_seen`
        # into the metadata. Keras is pinned by uv.lock, and the SIGTERM test fails if this breaks.
        self._current_epoch, self._last_batch_seen = progress.epochs, progress.batches
        self._save_model()


def stamp(directory: Path) -> None:
    """Record the SHA-256 of the latest weights in the latest metadata, after Keras has written both."""
    metadata = directory / METADATA
    if not metadata.exists():
        return
    values = json.loads(metadata.read_text())
    values[DIGEST] = _sha256(directory / WEIGHTS)
    temp = directory / f"{storage.TEMP_PREFIX}{METADATA}"
    temp.write_text(json.dumps(values))
    temp.replace(metadata)  # atomic: a reader sees the old metadata or the stamped one


def restore(source: storage.Location, target: Path) -> Progress:
    """Make the latest complete checkpoint local; returns how far it got (falsy: none)."""
    if not (source.is_local and Path(source.path) == target):
        target.mkdir(parents=True, exist_ok=True)
        if storage.exists(source):
            storage.download_tree(source, target)
    latest = _read_pair(target, "")
    if latest is not None:
        return latest
    previous = _read_pair(target, BACKUP)
    if previous is not None:  # the latest pair's publish stopped between its weights and metadata
        for name in (WEIGHTS, METADATA):
            shutil.copyfile(target / f"{name}{BACKUP}", target / name)
        print(f"The latest checkpoint in {source.uri} is incomplete: using the one before it", flush=True)
        return previous
    if (target / METADATA).exists():
        print(f"No complete checkpoint in {source.uri}: starting from the first epoch", flush=True)
    for name in (WEIGHTS, METADATA):  # weights alone: the first publish stopped before its metadata
        (target / name).unlink(missing_ok=True)
    return Progress(0)


def _read_pair(directory: Path, suffix: str) -> Progress | None:
    """The progress a pair records, or None if it is missing, unreadable or its weights do not match."""
    weights, metadata = directory / f"{WEIGHTS}{suffix}", directory / f"{METADATA}{suffix}"
    if not (weights.exists() and metadata.exists()):
        return None
    try:
        values = json.loads(metadata.read_text())
        progress = Progress(int(values["epoch"]), int(values.get("batch", 0)))
    except (ValueError, KeyError, TypeError):  # JSONDecodeError is a ValueError
        return None
    # Metadata without a digest was written by Keras alone (a local directory, before the stamp).
    if DIGEST in values and values[DIGEST] != _sha256(weights):
        return None
    return progress


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
