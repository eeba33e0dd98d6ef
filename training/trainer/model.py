"""The default model, the seed's CNN, and how it is compiled.

Conv2D 32 3x3 relu → MaxPool 2x2 → Flatten → Dense 128 relu → Dense softmax, Adam and categorical
cross-entropy; optional L1/L2 regularisation and dropout. The input is named `image`, which is the input
name of the exported `serving_default` signature.
"""

from __future__ import annotations

import hashlib
from typing import Any

import keras
import numpy as np

from trainer.config import ModelConfig

INPUT_NAME = "image"


def build(shape: tuple[int, int, int], classes: int, cfg: ModelConfig) -> Any:
    """The CNN for images of `shape` (H, W, C) and `classes` outputs (a keras.Model)."""
    regularizer = keras.regularizers.L1L2(l1=cfg.l1, l2=cfg.l2) if cfg.l1 or cfg.l2 else None
    inputs = keras.Input(shape=shape, name=INPUT_NAME)
    x = keras.layers.Conv2D(cfg.filters, 3, activation="relu", kernel_regularizer=regularizer)(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    if cfg.dropout:
        x = keras.layers.Dropout(cfg.dropout)(x)
    x = keras.layers.Dense(cfg.dense_units, activation="relu", kernel_regularizer=regularizer)(x)
    if cfg.dropout:
        x = keras.layers.Dropout(cfg.dropout)(x)
    # Probabilities stay float32 under mixed precision: float16 softmax loses small probabilities.
    outputs = keras.layers.Dense(classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def compile_model(model: Any, cfg: ModelConfig, *, steps_per_execution: int, xla: bool) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=cfg.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=xla,
    )


def set_precision(mixed: bool) -> None:
    """Mixed float16 compute, or plain float32 (the policy is global to Keras, so always set it)."""
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")


def fingerprint(model: Any) -> str:
    """A short digest of every weight, equal across workers that trained one model in lockstep."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]
