"""`train`: fit the CNN on a prepared data set, resumably, on whatever devices and workers there are.

Outputs in the model directory: `model.keras`, `config.json` (the resolved config), `history.csv` (one
row per epoch, kept across restarts), `logs/` (TensorBoard) and, unless `--checkpoint-dir` says
otherwise, `checkpoints/` (keras.callbacks.BackupAndRestore, written at the end of every epoch, and
mid-epoch on SIGTERM: see `preemption`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from trainer import checkpoints, distribute, keras_fixes, manifest, preemption, records, storage
from trainer import model as cnn
from trainer.config import TrainConfig, to_json
from trainer.distribute import Placement
from trainer.workdirs import Output, Publish

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"


def run(cfg: TrainConfig) -> None:
    # Before the strategy, which with several workers waits for the others: a pod on a node without
    # its GPUs fails at once, with a status that lets the Job retry it elsewhere.
    distribute.require_gpus(cfg.expect_gpus)
    placement = distribute.choose()  # before any other TensorFlow work, as multi-worker requires
    mixed = cfg.mixed_precision if cfg.mixed_precision is not None else placement.gpus > 0
    xla = cfg.xla if cfg.xla is not None else placement.gpus > 0
    print(
        f"Strategy: {placement.name}, {placement.replicas} replica(s), {placement.workers} worker(s); "
        f"mixed precision {'on' if mixed else 'off'}, XLA {'on' if xla else 'off'}",
        flush=True,
    )
    keras.utils.set_random_seed(cfg.seed)
    cnn.set_precision(mixed)
    steps = cfg.steps_per_execution
    if placement.workers > 1:
        keras_fixes.fix_multi_worker_metric_reduction()
        steps = keras_fixes.MULTI_WORKER_STEPS_PER_EXECUTION
    runtime = _runtime(placement, mixed=mixed, xla=xla, steps_per_execution=steps)
    model_dir = storage.locate(cfg.model_dir)
    ckpt_loc = storage.locate(cfg.checkpoint_dir) if cfg.checkpoint_dir else model_dir.child("checkpoints")
    with tempfile.TemporaryDirectory(prefix="trainer-") as scratch:
        tmp = Path(scratch)
        meta, files = manifest.stage(storage.locate(cfg.data), tmp / "data", ("train", "val"))
        outputs = Output.for_location(model_dir, tmp / "model", placement.is_chief)
        ckpt_out = Output.for_location(ckpt_loc, tmp / "checkpoints", placement.is_chief)
        progress = checkpoints.restore(ckpt_loc, ckpt_out.local)
        if progress:
            print(f"Resuming from {ckpt_loc.uri}: {progress.describe(cfg.epochs)}", flush=True)
        with preemption.watch(placement.workers, ckpt_loc.uri) as sigterm:
            callbacks = _callbacks(outputs, ckpt_out, sigterm)
            model = _fit(cfg, placement, meta, files, xla=xla, steps_per_execution=steps, callbacks=callbacks)
        data_set = {"shape": list(meta.shape), "classes": meta.classes}
        _save(model, outputs, to_json(cfg, runtime=runtime, data_set=data_set))
        print(f"Model fingerprint: {cnn.fingerprint(model)}", flush=True)


def _fit(
    cfg: TrainConfig,
    placement: Placement,
    meta: manifest.Manifest,
    files: dict[str, list[Path]],
    *,
    xla: bool,
    steps_per_execution: int,
    callbacks: list[Any],
) -> Any:
    train_ds = records.dataset(files["train"], meta, "train", cfg.batch_size, training=True, seed=cfg.seed)
    val_ds = records.dataset(files["val"], meta, "val", cfg.batch_size, training=False)
    with placement.strategy.scope():
        model = cnn.build(meta.shape, len(meta.classes), cfg.model)
        cnn.compile_model(model, cfg.model, steps_per_execution=steps_per_execution, xla=xla)
        keras_fixes.build_for_strategy(model, placement.strategy)
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=cfg.epochs,
            shuffle=False,  # the tf.data pipeline shuffles; Keras cannot shuffle a Dataset anyway
            callbacks=callbacks,
            verbose=2,  # one line per epoch: readable in `kubectl logs`, unlike a progress bar
        )
    return model


def _runtime(placement: Placement, *, mixed: bool, xla: bool, steps_per_execution: int) -> dict[str, Any]:
    """What was resolved at run time, saved in config.json beside the options."""
    return {
        "strategy": placement.name,
        "replicas": placement.replicas,
        "workers": placement.workers,
        "mixed_precision": mixed,
        "xla": xla,
        "steps_per_execution": steps_per_execution,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def _callbacks(outputs: Output, ckpt_out: Output, sigterm: preemption.SigtermWatch) -> list[Any]:
    outputs.local.mkdir(parents=True, exist_ok=True)
    # Order matters: the checkpoint is complete before the history row and the uploads of that epoch,
    # and all of them are done before a SIGTERM stops training at the epoch's end.
    checkpoint = checkpoints.Checkpoint(ckpt_out.local)
    publish = Publish(ckpt_out, outputs)
    return [
        checkpoint,
        keras.callbacks.CSVLogger(str(outputs.local / HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(str(outputs.local / "logs"), write_graph=False),
        publish,
        preemption.StopOnSigterm(sigterm, checkpoint, publish),
    ]


def _save(model: Any, outputs: Output, config_json: str) -> None:
    """Write model.keras and config.json beside each other, then upload the staged directory."""
    temp = outputs.local / f"{storage.TEMP_PREFIX}{MODEL_FILE}"
    model.save(str(temp))
    temp.replace(outputs.local / MODEL_FILE)  # atomic within one directory
    config = outputs.local / f"{storage.TEMP_PREFIX}{CONFIG_FILE}"
    config.write_text(config_json)
    config.replace(outputs.local / CONFIG_FILE)
    # config.json last: its presence in the model directory means the model beside it is complete.
    outputs.publish(last=(CONFIG_FILE,))
