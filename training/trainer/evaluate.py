"""`evaluate`: score the trained model on the held-out test split.

Writes `<model-dir>/metrics.json` (top-level `accuracy`; precision, recall and F1 as macro averages and
per class; the confusion matrix with rows = true class, columns = predicted class) and two PNGs beside
it: `training_curves.png` and `confusion_matrix.png`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from trainer import artifacts, manifest, plots, records, storage
from trainer.config import EvaluateConfig

METRICS_FILE = "metrics.json"


def run(cfg: EvaluateConfig) -> None:
    model_dir = storage.locate(cfg.model_dir)
    trained = artifacts.require_trained(model_dir)
    data = storage.locate(artifacts.data_uri(cfg.data, trained))
    with tempfile.TemporaryDirectory(prefix="trainer-evaluate-") as scratch:
        meta, files = manifest.stage(data, Path(scratch), ("test",))
        x, y = records.arrays(files["test"], meta, "test")
        model = artifacts.load_model(model_dir, Path(scratch))
        predicted = model.predict(x, batch_size=cfg.batch_size, verbose=0).argmax(axis=1)
    metrics = scores(y, predicted, meta.classes)
    metrics |= {"test_rows": len(y), "data": data.uri, "model_dir": model_dir.uri}
    storage.write_bytes(model_dir.child(METRICS_FILE), (json.dumps(metrics, indent=2) + "\n").encode())
    storage.write_bytes(model_dir.child("confusion_matrix.png"), plots.confusion(metrics, meta.classes))
    storage.write_bytes(model_dir.child("training_curves.png"), plots.curves(artifacts.history(model_dir)))
    print(
        f"Test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['f1']['macro']:.4f} "
        f"on {len(y)} rows; wrote {model_dir.child(METRICS_FILE).uri}",
        flush=True,
    )


def scores(y: NDArray[np.int64], predicted: NDArray[np.int64], classes: list[str]) -> dict[str, Any]:
    labels = list(range(len(classes)))
    per_class = precision_recall_fscore_support(y, predicted, labels=labels, zero_division=0)
    macro = precision_recall_fscore_support(y, predicted, labels=labels, average="macro", zero_division=0)
    result: dict[str, Any] = {"accuracy": float(accuracy_score(y, predicted))}
    for i, name in enumerate(("precision", "recall", "f1")):
        result[name] = {
            "macro": float(macro[i]),
            "per_class": {c: float(v) for c, v in zip(classes, per_class[i], strict=True)},
        }
    result["support"] = {c: int(v) for c, v in zip(classes, per_class[3], strict=True)}
    matrix = confusion_matrix(y, predicted, labels=labels)
    result["confusion_matrix"] = {"labels": classes, "matrix": matrix.tolist()}
    return result
