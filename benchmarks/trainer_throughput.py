"""Trainer training throughput next to the seed's plain `model.fit` on numpy arrays.

    uv run --locked python benchmarks/trainer_throughput.py [--epochs N] [--repeat N]

Both sides train the same model (the seed's CNN, `trainer.model.build`) on the same rows (the digits'
train split, prepared once by `prepare-data`) with the same batch size (the trainer's default, 32):
- seed: `model.fit(x, y, batch_size=32)` on numpy arrays, compiled with Keras defaults;
- trainer: its tf.data pipeline over the TFRecord shards (parallel reads, cache, shuffle, prefetch),
  compiled as `trainer train` compiles it by default (steps per execution; XLA only on a GPU).
Samples/s are counted over epochs 2..N (the first epoch traces the step function and fills the cache)
with no validation on either side. Target: trainer / seed >= 1.3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf

from trainer import cli, manifest, model, records, storage
from trainer.__main__ import main as trainer_main
from trainer.config import ModelConfig


def train_default(name: str) -> Any:
    """A default of `trainer train`, read from its option table so the benchmark follows it."""
    return next(opt.default for opt in cli.COMMANDS["train"][1] if opt.dest == name)


class EpochTimer(keras.callbacks.Callback):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def samples_per_second(fit: Any, rows: int, epochs: int) -> float:
    timer = EpochTimer()
    fit(epochs, timer)
    return rows * (epochs - 1) / sum(timer.seconds[1:])


def seed_rate(x: Any, y: Any, batch: int, epochs: int) -> float:
    keras.utils.set_random_seed(0)
    net = model.build(x.shape[1:], y.shape[1], ModelConfig())
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return samples_per_second(
        lambda e, t: net.fit(x, y, batch_size=batch, epochs=e, callbacks=[t], verbose=0), len(x), epochs
    )


def trainer_rate(files: list[Path], meta: manifest.Manifest, batch: int, epochs: int) -> float:
    keras.utils.set_random_seed(0)
    ds = records.dataset(files, meta, "train", batch, training=True, seed=0)
    net = model.build(meta.shape, len(meta.classes), ModelConfig())
    xla = bool(tf.config.list_physical_devices("GPU"))  # the trainer's default
    model.compile_model(net, ModelConfig(), steps_per_execution=train_default("steps_per_execution"), xla=xla)
    return samples_per_second(
        lambda e, t: net.fit(ds, epochs=e, callbacks=[t], shuffle=False, verbose=0),
        meta.counts["train"],
        epochs,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=12, help="epochs per measurement (first is not timed)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per side; the median is shown")
    args = parser.parse_args()
    batch = train_default("batch_size")
    with tempfile.TemporaryDirectory() as scratch:
        trainer_main(["prepare-data", "--out", scratch])
        meta, files = manifest.stage(storage.locate(scratch), Path(scratch), ("train",))
        x, labels = records.arrays(files["train"], meta, "train")
        y = keras.utils.to_categorical(labels, len(meta.classes))
        seed, trainer = [], []
        for _ in range(args.repeat):
            seed.append(seed_rate(x, y, batch, args.epochs))
            trainer.append(trainer_rate(files["train"], meta, batch, args.epochs))
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU ({os.cpu_count()} cores)"
    print(f"{device}, digits train split {len(x)} rows, batch {batch}, median of {args.repeat}")
    seed_median, trainer_median = statistics.median(seed), statistics.median(trainer)
    print(f"  seed model.fit on numpy  {seed_median:>10,.0f} samples/s")
    print(f"  trainer                  {trainer_median:>10,.0f} samples/s")
    print(f"  ratio                    {trainer_median / seed_median:>10.2f}x (target 1.3)")


if __name__ == "__main__":
    main()
