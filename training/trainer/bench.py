"""`bench`: training throughput on this device, with and without mixed precision and XLA.

XLA applies everywhere; mixed float16 only on a GPU (CPUs have no fast float16 path), so on a CPU the
mixed-precision rows are skipped and the output says so. `cnn` trains the default model on the digits
(or random images of the same shape with `--synthetic`); `resnet50` trains Keras's ResNet50 from scratch
on random images, as no image data set is bundled.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from trainer import data, model
from trainer.config import BenchConfig, ModelConfig
from trainer.errors import UsageError

_WARMUP_EXECUTIONS = 2


def run(cfg: BenchConfig) -> None:
    if cfg.model == "resnet50" and not cfg.synthetic:
        raise UsageError("--model resnet50 needs --synthetic: no data set of its size is bundled")
    gpus = len(tf.config.list_physical_devices("GPU"))
    x, y = _data(cfg)
    unit = "images/s" if cfg.model == "resnet50" else "samples/s"
    print(
        f"bench: {cfg.model} on {'GPU' if gpus else 'CPU'}, input {list(x.shape[1:])}, batch "
        f"{cfg.batch_size}, {cfg.steps} timed steps{' (synthetic data)' if cfg.synthetic else ''}",
        flush=True,
    )
    variants = [("float32", False, False), ("float32 + XLA", False, True)]
    if gpus:
        variants += [("mixed float16", True, False), ("mixed float16 + XLA", True, True)]
    for label, mixed, xla in variants:
        print(f"  {label:<22} {_measure(cfg, x, y, mixed=mixed, xla=xla):>12,.1f} {unit}", flush=True)
    if not gpus:
        print("  mixed float16          not applicable on CPU", flush=True)


def _data(cfg: BenchConfig) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    rng = np.random.default_rng(0)
    if cfg.model == "resnet50":
        shape: tuple[int, ...] = (cfg.image_size, cfg.image_size, 3)
    elif cfg.synthetic:
        shape = (8, 8, 1)
    else:
        digits = data.load("digits")
        return digits.x, np.eye(len(digits.classes), dtype=np.float32)[digits.y]
    rows = max(cfg.batch_size * 4, 256) if cfg.model == "cnn" else cfg.batch_size * 2
    labels = rng.integers(0, 10, rows)
    return rng.random((rows, *shape), dtype=np.float32), np.eye(10, dtype=np.float32)[labels]


def _model(cfg: BenchConfig, shape: tuple[int, ...]) -> Any:
    if cfg.model == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=shape, classes=10)
    return model.build((shape[0], shape[1], shape[2]), 10, ModelConfig())


def _measure(
    cfg: BenchConfig, x: NDArray[np.float32], y: NDArray[np.float32], *, mixed: bool, xla: bool
) -> float:
    """Samples per second over `cfg.steps` training steps, after compiling and warming up."""
    keras.backend.clear_session()
    model.set_precision(mixed)
    net = _model(cfg, x.shape[1:])
    # The trainer's default for the small CNN (many steps per call); one step per call for ResNet50.
    per_call = 16 if cfg.model == "cnn" else 1
    model.compile_model(net, ModelConfig(), steps_per_execution=min(per_call, cfg.steps), xla=xla)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache().repeat().batch(cfg.batch_size).prefetch(-1)
    warmup = _WARMUP_EXECUTIONS * min(per_call, cfg.steps)
    net.fit(ds, steps_per_epoch=warmup, epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    net.fit(ds, steps_per_epoch=cfg.steps, epochs=1, shuffle=False, verbose=0)
    elapsed = time.perf_counter() - start
    model.set_precision(False)
    return cfg.steps * cfg.batch_size / elapsed
