"""PNG plots for `evaluate`, rendered off-screen (matplotlib's Agg backend: no display in a pod)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def curves(history: list[dict[str, float]]) -> bytes:
    """Loss and accuracy per epoch, training and validation."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [int(row["epoch"]) + 1 for row in history]
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, label in (("", "train"), ("val_", "validation")):
            values = [row.get(prefix + metric, float("nan")) for row in history]
            axis.plot(epochs, values, marker="o", label=label)
        axis.set(title=metric, xlabel="epoch")
        axis.legend()
    if not history:
        figure.suptitle("no training history found")
    return _png(figure)


def confusion(metrics: dict[str, Any], classes: list[str]) -> bytes:
    """The confusion matrix as a heat map with counts (rows: true class, columns: predicted)."""
    matrix = metrics["confusion_matrix"]["matrix"]
    size = max(4.0, 0.5 * len(classes) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    axis.imshow(matrix, cmap="Blues")
    ticks = range(len(classes))
    axis.set(
        xticks=ticks,
        yticks=ticks,
        xticklabels=classes,
        yticklabels=classes,
        xlabel="predicted",
        ylabel="true",
        title=f"accuracy {metrics['accuracy']:.3f}",
    )
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            axis.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                color="white" if count > peak / 2 else "black",
                fontsize=8,
            )
    return _png(figure)
