"""`prepare-data`: load, clean, normalise and split a data set; write TFRecord shards and a manifest.

The shards are uploaded first, each atomically, and `manifest.json` last, so a reader that finds the
manifest finds every shard it lists.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from trainer import data, records, storage
from trainer.config import PrepareConfig
from trainer.manifest import MANIFEST, Manifest


def run(cfg: PrepareConfig) -> None:
    out = storage.locate(cfg.out)
    dataset = data.load(cfg.source)
    parts = data.split(dataset, cfg.seed, cfg.val_fraction, cfg.test_fraction)
    height, width, channels = dataset.x.shape[1:]
    with tempfile.TemporaryDirectory(prefix="trainer-prepare-") as scratch:
        local = Path(scratch)
        shards = {
            split: records.write_shards(dataset.x[rows], dataset.y[rows], split, cfg.shards, local)
            for split, rows in parts.items()
        }
        storage.upload_tree(local, out)
    manifest = Manifest(
        shape=(int(height), int(width), int(channels)),
        classes=dataset.classes,
        source=cfg.source,
        seed=cfg.seed,
        dropped=dataset.dropped,
        shards=shards,
    )
    storage.write_bytes(out.child(MANIFEST), manifest.to_json().encode())
    counts = ", ".join(f"{split} {n}" for split, n in manifest.counts.items())
    print(
        f"Wrote {out.uri}: {counts} rows of {list(manifest.shape)}, {len(dataset.classes)} classes, "
        f"{dataset.dropped} invalid row(s) dropped",
        flush=True,
    )
