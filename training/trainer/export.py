"""`export`: publish the trained model as version `<out>/<version>/` for TF Serving and edge devices.

The version directory holds the SavedModel from Keras 3 `model.export()` (signature `serving_default`:
input `image`, float32 [batch, H, W, C] in [0, 1]; output `output_0`, float32 [batch, classes] of
probabilities), plus `model.tflite` (float32), `model_int8.tflite`, `signature.json` (input and output
names, shapes and class names), `export.json` (TFLite agreement with the SavedModel on the test split)
and, when present, the model directory's `metrics.json`, PNG plots and `config.json`, and `SHA256SUMS`
listing the digest of every other file (see `versions`; `replicate` verifies copies against it). It is
assembled locally and committed in one step (see `storage.commit_tree`), with `saved_model.pb` last, so
TF Serving never loads half a version.
A model trained in mixed precision is exported computing in float32 (see `artifacts.load_float32_model`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import tensorflow as tf

from trainer import artifacts, manifest, records, storage, tflite, versions
from trainer.config import ExportConfig
from trainer.errors import UsageError

_EXTRAS = ("metrics.json", "training_curves.png", "confusion_matrix.png", "config.json")


def run(cfg: ExportConfig) -> None:
    model_dir, out = storage.locate(cfg.model_dir), storage.locate(cfg.out)
    trained = artifacts.require_trained(model_dir)
    version = cfg.version or next_version(out)
    target = out.child(str(version))
    if storage.exists(target):
        raise UsageError(f"--version {version}: {target.uri} already exists and versions are immutable")
    data = storage.locate(artifacts.data_uri(cfg.data, trained))
    with tempfile.TemporaryDirectory(prefix="trainer-export-") as scratch:
        tmp = Path(scratch)
        bundle = tmp / "bundle"
        model = artifacts.load_float32_model(model_dir, tmp, trained)
        report = _build(model, data, tmp, bundle)
        for name in _EXTRAS:
            if storage.exists(model_dir.child(name)):
                storage.download_file(model_dir.child(name), bundle / name)
        versions.write_sums(bundle)  # after every other file, before the commit publishes saved_model.pb
        storage.commit_tree(bundle, target, last=(versions.SAVED_MODEL,))
    print(
        f"Exported {target.uri}: SavedModel (serving_default), TFLite float and int8; top-1 agreement "
        f"with the SavedModel: float {report['float']:.4f}, int8 {report['int8']:.4f}",
        flush=True,
    )


def _build(model: Any, data: storage.Location, tmp: Path, bundle: Path) -> dict[str, Any]:
    """Write the SavedModel, the TFLite models and the JSON descriptions into `bundle`."""
    meta, files = manifest.stage(data, tmp / "data", ("train", "test"))
    model.export(str(bundle), format="tf_saved_model", verbose=False)
    x_train, _ = records.arrays(files["train"], meta, "train")
    x_test, _ = records.arrays(files["test"], meta, "test")
    serving = tf.saved_model.load(str(bundle)).signatures["serving_default"]
    reference = next(iter(serving(tf.constant(x_test)).values())).numpy()
    report: dict[str, Any] = {"test_rows": len(x_test)}
    for key, name, calibration in (("float", "model.tflite", None), ("int8", "model_int8.tflite", x_train)):
        content = tflite.convert(bundle, calibration)
        (bundle / name).write_bytes(content)
        report[key] = tflite.agreement(content, x_test, reference)
    (bundle / "export.json").write_text(json.dumps(report, indent=2) + "\n")
    (bundle / "signature.json").write_text(json.dumps(_signature(serving, meta.classes), indent=2) + "\n")
    return report


def _signature(serving: Any, classes: list[str]) -> dict[str, Any]:
    inputs = serving.structured_input_signature[1]
    outputs = serving.structured_outputs
    return {
        "signature_name": "serving_default",
        "inputs": {k: {"dtype": v.dtype.name, "shape": v.shape.as_list()} for k, v in inputs.items()},
        "outputs": {k: {"dtype": v.dtype.name, "shape": v.shape.as_list()} for k, v in outputs.items()},
        "classes": classes,
    }


def next_version(out: storage.Location) -> int:
    """One more than the highest numeric version under `out` (TF Serving serves the highest)."""
    numbers = [int(name) for name in versions.listed(out)] if storage.exists(out) else []
    return max(numbers, default=0) + 1
