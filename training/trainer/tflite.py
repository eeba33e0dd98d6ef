"""TFLite models for edge devices: float32, and int8 with float input and output.

Both are converted from the exported SavedModel, so they compute what TF Serving computes. The int8
model is fully integer inside (weights and activations), calibrated on training images, and keeps float
input and output so that callers feed the same [0, 1] images either way.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

CALIBRATION_ROWS = 200


def convert(saved_model: Path, calibration: NDArray[np.float32] | None = None) -> bytes:
    """A float model, or an int8 one when calibration images are given."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if calibration is not None:
        rows = calibration[:CALIBRATION_ROWS]

        def representative() -> Iterator[list[NDArray[np.float32]]]:
            for i in range(len(rows)):
                yield [rows[i : i + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(converter.convert())


def predict(model: bytes, images: NDArray[np.float32]) -> NDArray[np.float32]:
    """Class probabilities for a batch of `images`."""
    with warnings.catch_warnings():
        # tf.lite.Interpreter warns that it moves to the separate LiteRT package; it still works here.
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_content=model)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    # Converted models default to batch 1; the batch dimension is dynamic, so size it to the input.
    interpreter.resize_tensor_input(source["index"], list(images.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], images.astype(np.float32))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(target["index"]), dtype=np.float32)


def agreement(model: bytes, images: NDArray[np.float32], reference: NDArray[np.float32]) -> float:
    """Share of images where the TFLite model's top-1 class equals the reference probabilities' top-1."""
    return float((predict(model, images).argmax(axis=1) == reference.argmax(axis=1)).mean())
