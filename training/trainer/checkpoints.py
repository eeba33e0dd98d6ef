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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras

from trainer import storage

WEIGHTS = "latest.weights.h5"
METADATA = "training_metadata.json"
BACKUP = ".bkp"  # BackupAndRestore's suffix for the previous pair


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


def restore(source: storage.Location, target: Path) -> Progress:
    """Make the latest shared checkpoint local; returns how far it got (falsy: no checkpoint)."""
    if not (source.is_local and Path(source.path) == target):
        target.mkdir(parents=True, exist_ok=True)
        if storage.exists(source):
            storage.download_tree(source, target)
    metadata = target / METADATA
    if not metadata.exists():
        return Progress(0)
    values = json.loads(metadata.read_text())
    return Progress(int(values["epoch"]), int(values.get("batch", 0)))
