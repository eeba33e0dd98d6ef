"""`bench`: throughput lines per variant on this device (a CPU here: XLA yes, mixed precision no)."""

from __future__ import annotations

import re

import pytest

from tests.trained import run_cli
from trainer import bench
from trainer.config import BenchConfig


def test_cnn_bench_reports_samples_per_second_with_and_without_xla(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli("bench", "--synthetic", "--steps", "32") == 0
    out = capsys.readouterr().out
    assert "bench: cnn on CPU, input [8, 8, 1], batch 32, 32 timed steps (synthetic data)" in out
    rates = dict(re.findall(r"^  (float32(?: \+ XLA)?) +([\d,.]+) samples/s$", out, flags=re.MULTILINE))
    assert set(rates) == {"float32", "float32 + XLA"}
    assert all(float(rate.replace(",", "")) > 0 for rate in rates.values())
    assert "mixed float16          not applicable on CPU" in out


def test_resnet50_needs_synthetic_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("bench", "--model", "resnet50") == 2
    assert "--model resnet50 needs --synthetic" in capsys.readouterr().err


def test_resnet50_is_keras_resnet50_at_the_requested_size() -> None:
    cfg = BenchConfig(model="resnet50", synthetic=True, steps=1, batch_size=2, image_size=32)
    x, y = bench._data(cfg)
    model = bench._model(cfg, x.shape[1:])
    assert model.name == "resnet50"
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)
    assert y.shape == (4, 10)
