"""SIGTERM during `train` (spot reclaim, node drain, Job deletion): checkpoint, publish, exit 143.

Kubernetes sends SIGTERM, waits `terminationGracePeriodSeconds`, then sends SIGKILL. The signal is read
on a thread of its own (through `signal.set_wakeup_fd`), so it is seen at once even while the main thread
waits inside TensorFlow.

One worker: at the next batch boundary (at most one compiled call, `--steps-per-execution` batches,
later) `StopOnSigterm` saves BackupAndRestore's state mid-epoch, publishes it to the checkpoint store as
every epoch's checkpoint is published, and stops with `Preempted` (one line, exit status 143). During
validation the next boundary is the epoch's end, whose checkpoint is published as usual.

Several workers (MultiWorkerMirroredStrategy): no checkpoint, the process ends at once with status 143.
A safe checkpoint needs every worker to stop after the same step, and nothing here can agree on one:
the workers get SIGTERM at different moments, or only one of them does (its node was reclaimed), and a
worker that stops leaves the others blocked in the next step's all-reduce, which is also where a worker's
own main thread may be waiting when its signal arrives, never returning to Python. TensorFlow's
coordinated answer, PreemptionCheckpointHandler, is not wired into Keras 3's `fit`. So the signal thread
prints the line and ends the process without unwinding; the last per-epoch checkpoint stands, and the
restarted Job resumes from it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import keras

from trainer.checkpoints import Checkpoint, Progress
from trainer.errors import Preempted
from trainer.workdirs import Publish

_STOP = b"\0"  # written to the pipe by the watch itself: not a signal number


class SigtermWatch:
    """Sets `received` when SIGTERM arrives; with several workers, ends the process instead."""

    def __init__(self, workers: int, checkpoint_uri: str) -> None:
        self.received = threading.Event()
        self.workers, self.checkpoint_uri = workers, checkpoint_uri
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)  # set_wakeup_fd requires it
        self._thread = threading.Thread(target=self._watch, name="sigterm-watch", daemon=True)

    def start(self) -> None:
        # A Python handler must be installed for the interpreter to catch the signal at all; the work
        # happens on the thread, which the wakeup file descriptor wakes from any thread.
        self._previous_handler = signal.signal(signal.SIGTERM, _ignore)
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._thread.start()

    def stop(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        signal.signal(signal.SIGTERM, self._previous_handler or signal.SIG_DFL)
        os.write(self._write, _STOP)
        self._thread.join()
        os.close(self._write)

    def _watch(self) -> None:
        with os.fdopen(self._read, "rb", buffering=0) as pipe:
            while True:
                received = pipe.read(64)
                if signal.SIGTERM in received:
                    self.received.set()
                    if self.workers > 1:
                        _exit_at_once(self.workers, self.checkpoint_uri)
                if not received or _STOP in received:
                    return


def _ignore(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing, the watch thread has seen the signal already."""


def _exit_at_once(workers: int, checkpoint_uri: str) -> None:
    line = (
        f"trainer train: stopped: SIGTERM with {workers} workers: exiting at once, without a checkpoint "
        "(the workers cannot agree on a step to save at); a restart resumes from the last epoch's "
        f"checkpoint in {checkpoint_uri}\n"
    )
    sys.stdout.flush()
    os.write(2, line.encode())
    os._exit(Preempted.exit_code)  # no unwinding: the main thread may be blocked in an all-reduce


@contextmanager
def watch(workers: int, checkpoint_uri: str) -> Iterator[SigtermWatch]:
    """Handle SIGTERM while the block runs; one that came too late for the callback stops it after."""
    sigterm = SigtermWatch(workers, checkpoint_uri)
    sigterm.start()
    try:
        yield sigterm
    finally:
        sigterm.stop()
    if sigterm.received.is_set():  # after the last epoch's end: its checkpoint covers every epoch
        raise Preempted(f"SIGTERM after the last epoch; the checkpoint in {checkpoint_uri} covers it all")


class StopOnSigterm(keras.callbacks.Callback):  # type: ignore[misc]
    """The last callback: after SIGTERM, at the next batch or epoch end, publish a checkpoint and stop."""

    def __init__(self, sigterm: SigtermWatch, checkpoint: Checkpoint, publish: Publish) -> None:
        super().__init__()
        self.sigterm, self.checkpoint, self.publish = sigterm, checkpoint, publish
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch  # zero-based: the number of epochs done

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.sigterm.received.is_set():
            progress = Progress(self.epoch, batch + 1)  # `batch` is the last step's zero-based index
            self.checkpoint.save_now(progress)
            self.publish.publish()
            self._stop(progress)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.sigterm.received.is_set():  # BackupAndRestore and Publish have run for this epoch
            self._stop(Progress(epoch + 1))

    def _stop(self, progress: Progress) -> None:
        done = f"{progress.epochs} epoch(s)"
        if progress.batches:
            done += f" and {progress.batches} batch(es)"
        uri = self.sigterm.checkpoint_uri
        raise Preempted(f"SIGTERM: checkpoint after {done} saved to {uri}; a rerun resumes from it")
