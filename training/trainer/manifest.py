"""The prepared data set's `manifest.json`: shapes, classes, counts and a checksum per shard.

`prepare-data` writes it last, so its presence means every shard it lists is complete; `train`,
`evaluate` and `export` read it, stage the shards on local disk and verify their checksums.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trainer import storage
from trainer.errors import DataError

MANIFEST = "manifest.json"
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Shard:
    name: str
    records: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    shape: tuple[int, int, int]
    classes: list[str]
    source: str
    seed: int
    dropped: int
    shards: dict[str, list[Shard]] = field(default_factory=dict)
    format_version: int = 1

    @property
    def counts(self) -> dict[str, int]:
        return {split: sum(s.records for s in shards) for split, shards in self.shards.items()}

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "counts": self.counts}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        shards = {split: [Shard(**s) for s in items] for split, items in raw["shards"].items()}
        return cls(
            shape=(int(raw["shape"][0]), int(raw["shape"][1]), int(raw["shape"][2])),
            classes=[str(c) for c in raw["classes"]],
            source=str(raw["source"]),
            seed=int(raw["seed"]),
            dropped=int(raw["dropped"]),
            shards=shards,
            format_version=int(raw["format_version"]),
        )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(data: storage.Location) -> Manifest:
    if not storage.exists(data.child(MANIFEST)):
        raise DataError(f"no {MANIFEST} under {data.uri}: run prepare-data first")
    return Manifest.from_json(storage.read_bytes(data.child(MANIFEST)).decode())


def stage(
    data: storage.Location, cache: Path, splits: tuple[str, ...] = SPLITS
) -> tuple[Manifest, dict[str, list[Path]]]:
    """Read the manifest and make the shards of `splits` local (downloading from buckets), verified."""
    manifest = read(data)
    files: dict[str, list[Path]] = {}
    for split in splits:
        files[split] = []
        for shard in manifest.shards[split]:
            local = Path(data.child(shard.name).path) if data.is_local else cache / shard.name
            if not data.is_local:
                storage.download_file(data.child(shard.name), local)
            if sha256(local) != shard.sha256:
                raise DataError(f"checksum mismatch for {data.child(shard.name).uri}: re-run prepare-data")
            files[split].append(local)
    return manifest, files
