"""Model versions as TF Serving sees them, and the SHA256SUMS manifest that lets anyone verify one.

A model base path holds numbered version directories, `<base>/<n>/`. TF Serving loads a version once
its `saved_model.pb` is there, so `export` and `replicate` publish that file last: its presence is what
"committed" means. Each version also carries `SHA256SUMS` in GNU coreutils format (`<64 hex>  <path>`
per line, sorted by path, every file of the version except itself), written before `saved_model.pb`,
so `sha256sum -c SHA256SUMS` verifies a version by hand and `replicate` verifies every copy it makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath

from trainer import storage
from trainer.errors import DataError
from trainer.manifest import sha256

SAVED_MODEL = "saved_model.pb"
SUMS = "SHA256SUMS"
_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")  # text (two spaces) or binary (" *") mode, as GNU reads


def listed(base: storage.Location) -> list[str]:
    """The names of the numbered directories under `base`, newest (highest number) first."""
    names = [name for name in storage.list_children(base) if name.isascii() and name.isdigit()]
    return sorted(names, key=int, reverse=True)


def is_committed(version: storage.Location) -> bool:
    """TF Serving's rule: a version directory is loadable once its `saved_model.pb` is present."""
    return storage.exists(version.child(SAVED_MODEL))


def write_sums(local_dir: Path) -> None:
    """Write `local_dir/SHA256SUMS` covering every other file under `local_dir`."""
    files = sorted(p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file())
    lines = [f"{sha256(local_dir / rel)}  {rel}\n" for rel in files if rel != SUMS]
    (local_dir / SUMS).write_text("".join(lines))


def parse_sums(data: bytes, where: storage.Location) -> dict[str, str]:
    """Relative path → SHA-256 from the SHA256SUMS at `where`; anything malformed is a `DataError`."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise DataError(f"{where.uri} is not UTF-8 text") from None
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _LINE.fullmatch(line)
        rel = match.group(2) if match else ""
        if not match or rel.startswith("/") or ".." in PurePosixPath(rel).parts:
            raise DataError(f"{where.uri} line {number}: expected '<64 hex>  <relative path>', got {line!r}")
        if rel in sums or rel == SUMS:
            raise DataError(f"{where.uri} line {number}: {rel!r} listed twice, or the manifest itself")
        sums[rel] = match.group(1)
    return sums


def check(
    expected: Mapping[str, str], names: Iterable[str], digest: Callable[[str], str], where: storage.Location
) -> None:
    """Refuse unless `names` (paths under `where`) are exactly `expected`'s, each with its digest.

    `digest(name)` hashes one file; only files that are expected are hashed. The `DataError` names the
    first file at fault and counts the others.
    """
    present = set(names)
    faults = [
        f"{where.child(n).uri} is listed in {SUMS} but missing" for n in sorted(expected.keys() - present)
    ]
    faults += [f"{where.child(n).uri} is not listed in {SUMS}" for n in sorted(present - expected.keys())]
    if not faults:
        faults = [
            f"{where.child(n).uri} does not match {SUMS}" for n in sorted(present) if digest(n) != expected[n]
        ]
    if faults:
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise DataError(f"{faults[0]}{more}")
