"""Where `train` writes locally, and how that reaches the model directory and checkpoint store.

Keras and TensorBoard write local files only, so each output directory is either used in place (a local
path, on the chief) or staged in a temporary directory and uploaded (a bucket). Non-chief workers stage
everything and upload nothing: in multi-worker training they compute the same model as the chief, and
only one process may own the outputs. Every worker starts from the shared checkpoints, so a restarted
Job resumes on all workers from the same epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from trainer import checkpoints, storage


@dataclass(frozen=True)
class Output:
    """One output directory: the local path to write, and where to upload it (None: nowhere)."""

    local: Path
    upload_to: storage.Location | None

    @classmethod
    def for_location(cls, loc: storage.Location, scratch: Path, is_chief: bool) -> Output:
        if loc.is_local and is_chief:
            return cls(Path(loc.path), None)
        return cls(scratch, loc if is_chief else None)

    def publish(self, first: tuple[str, ...] = (), last: tuple[str, ...] = ()) -> None:
        """Upload the files, each atomically: those in `first` in order, then the others, then `last`."""
        if self.upload_to is None:
            return
        upload_to = self.upload_to
        for rel in first:
            if (self.local / rel).exists():
                storage.upload_file(self.local / rel, upload_to.child(rel))
        storage.upload_tree(self.local, upload_to, skip=lambda rel: rel in first or rel in last)
        for rel in last:
            if (self.local / rel).exists():
                storage.upload_file(self.local / rel, upload_to.child(rel))


class Publish(keras.callbacks.Callback):  # type: ignore[misc]
    """Uploads staged outputs after every epoch, after BackupAndRestore has written its checkpoint."""

    def __init__(self, checkpoints: Output, model_dir: Output) -> None:
        super().__init__()
        self.checkpoints, self.model_dir = checkpoints, model_dir

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.publish()

    def publish(self) -> None:
        """Stamp and upload the checkpoint as it is now, then the model directory's logs."""
        checkpoints.stamp(self.checkpoints.local)
        # The previous pair, then the latest weights, then the metadata naming them: whenever an upload
        # stops, one complete pair remains in the store (see `checkpoints`).
        self.checkpoints.publish(first=checkpoints.PUBLISH_FIRST, last=checkpoints.PUBLISH_LAST)
        self.model_dir.publish()
