"""Workarounds for Keras 3.15 `fit` under tf.distribute strategies: the one module that touches Keras
internals, so it is easy to drop once Keras is fixed (keras-team/keras#20585, tensorflow#72388).

`tests/training/test_multiworker.py` trains two real workers through all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from keras.src import tree
from keras.src.backend.tensorflow import trainer as keras_tf_trainer

_reduction_patched = False


def build_for_strategy(model: Any, strategy: Any) -> None:
    """Create optimizer and metric state now, under `strategy`; then call `fit` inside its scope.

    `fit` otherwise builds that state from a first batch that it merges across replicas with
    `strategy.reduce` on the whole (x, y) pair, which the mirrored strategies reject ("Attempt to convert
    a value (PerReplica ...)"). Zeros of the input and label shapes are enough to build; clearing the
    model's own strategy makes `fit` skip its build and take the strategy from the enclosing scope.
    """
    shape, classes = tuple(model.input_shape[1:]), int(model.output_shape[-1])
    sample = (np.zeros((1, *shape), np.float32), np.zeros((1, classes), np.float32))
    with strategy.scope():
        model._symbolic_build(data_batch=sample)
    model._distribute_strategy = None


def fix_multi_worker_metric_reduction() -> None:
    """Average per-replica losses and metrics across workers with `axis=None`.

    Under MultiWorkerMirroredStrategy, `fit` reduces each step's scalar logs with
    `strategy.reduce("MEAN", v, axis=0)`, which fails on scalars ("Invalid reduction dimension 0 for
    input with 0 dimensions"); every other strategy takes a path that works.
    """
    global _reduction_patched  # noqa: PLW0603  (patch once per process)
    if _reduction_patched:
        return
    original = keras_tf_trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        if reduction in ("auto", "mean") and keras_tf_trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    keras_tf_trainer.reduce_per_replica = reduce_per_replica
    _reduction_patched = True


# Several steps per call read the distributed iterator through tf.experimental.Optional inside a
# while loop, which fails under MultiWorkerMirroredStrategy ("You must feed a value for placeholder
# tensor"); multi-worker training therefore runs one step per call.
MULTI_WORKER_STEPS_PER_EXECUTION = 1
