"""Two worker processes on loopback, each with its own TF_CONFIG, train one model together."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.training.conftest import trainer_process
from tests.training.emulators import free_port


def test_two_workers_train_one_model_with_multi_worker_mirrored_strategy(
    digits: Path, tmp_path: Path
) -> None:
    hosts = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    model_dir = tmp_path / "model"
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        args = ("train", "--data", str(digits), "--model-dir", str(model_dir), "--epochs", "2")
        workers.append(trainer_process(*args, env={"TF_CONFIG": json.dumps(tf_config)}))
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output
        assert "Strategy: MultiWorkerMirroredStrategy, 2 replica(s), 2 worker(s)" in output
        # Each step takes a global batch of 32 split over both workers: 1257 rows → 40 steps.
        assert re.search(r"^40/40 ", output, flags=re.MULTILINE), output

    # In lockstep, both workers end with the very same weights.
    fingerprints = [re.findall(r"Model fingerprint: (\w+)", output) for output in outputs]
    assert fingerprints[0]
    assert fingerprints[0] == fingerprints[1]
    # Only the chief (worker 0) writes the model directory.
    config = json.loads((model_dir / "config.json").read_text())
    assert config["runtime"]["workers"] == 2
    assert config["runtime"]["replicas"] == 2
    assert (model_dir / "model.keras").exists()
    assert json.loads((model_dir / "checkpoints" / "training_metadata.json").read_text())["epoch"] == 2
