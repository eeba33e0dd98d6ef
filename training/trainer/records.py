"""TFRecord shards: written by prepare-data, read back as the tf.data input pipeline.

Each record holds the image as raw float32 bytes (shape from the manifest) and its class index; decoding
raw bytes is cheaper than a float list, and the label is one-hot encoded in the pipeline because the
model trains with categorical cross-entropy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from numpy.typing import NDArray

from trainer.manifest import Manifest, Shard, sha256

_FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "label": tf.io.FixedLenFeature([], tf.int64),
}
# Enough to shuffle small and medium sets fully without holding a large one twice in memory.
_MAX_SHUFFLE_BUFFER = 50_000


def write_shards(
    x: NDArray[np.float32], y: NDArray[np.int64], split: str, count: int, directory: Path
) -> list[Shard]:
    """Write rows as `count` shards named `<split>-00000-of-0000N.tfrecord` (fewer if rows are few)."""
    count = max(1, min(count, len(y)))
    shards = []
    for i, rows in enumerate(np.array_split(np.arange(len(y)), count)):
        name = f"{split}-{i:05d}-of-{count:05d}.tfrecord"
        with tf.io.TFRecordWriter(str(directory / name)) as writer:
            for row in rows:
                writer.write(_example(x[row], int(y[row])))
        shards.append(Shard(name, len(rows), sha256(directory / name)))
    return shards


def _example(image: NDArray[np.float32], label: int) -> bytes:
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.astype(np.float32).tobytes()])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
    }
    serialized: bytes = tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
    return serialized


def dataset(
    files: list[Path], manifest: Manifest, split: str, batch_size: int, *, training: bool, seed: int = 0
) -> tf.data.Dataset:
    """(image, one-hot label) batches: parallel reads, parse, cache, shuffle (training only), prefetch."""
    shape, classes, rows = manifest.shape, len(manifest.classes), manifest.counts[split]

    def parse(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        parsed = tf.io.parse_single_example(record, _FEATURES)
        image = tf.reshape(tf.io.decode_raw(parsed["image"], tf.float32), shape)
        return image, tf.one_hot(parsed["label"], classes)

    ds = tf.data.TFRecordDataset([str(f) for f in files], num_parallel_reads=tf.data.AUTOTUNE)
    # A known length lets Keras count steps per epoch instead of running into the end of the data.
    ds = ds.apply(tf.data.experimental.assert_cardinality(rows))
    # Cache after parsing so later epochs skip both the file reads and the decoding.
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if training:
        ds = ds.shuffle(min(rows, _MAX_SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    # Shard by element, not by file: a small set may have fewer shards than there are workers.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def arrays(
    files: list[Path], manifest: Manifest, split: str
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """A whole split in memory, in file order: images and class indices (for evaluation and export)."""
    xs, ys = [], []
    for images, labels in dataset(files, manifest, split, 1024, training=False).as_numpy_iterator():
        xs.append(images)
        ys.append(labels.argmax(axis=1))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)
