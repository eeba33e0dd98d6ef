"""`replicate`: keep the newest committed model versions in every one of several model base paths, on
any cloud.

It is what the platform's replication CronJob runs, so that every cluster's TF Serving has the models
trained on any cloud: a version may be exported into any `--location`, and reaches all the others. Each
location is listed, and of the versions committed there with `SHA256SUMS` (see `versions`; a committed
version without one is reported and skipped) the `--newest` N newest across all locations are chosen.
Every location that does not hold a chosen version committed gets it from one that does:

1. the version is downloaded once into a local temporary directory and every file is checked against
   `SHA256SUMS`: a missing, extra or different file refuses the version for every location;
2. it is uploaded under a hidden staging name in the location (`storage.stage_tree`), and the staged
   files are read back and checked again;
3. it is published into `<location>/<version>/` with `saved_model.pb` last (`storage.publish_tree`).

A version committed in a location is never touched. One number committed in two locations with
different `SHA256SUMS` (two clusters exported the same number) is a conflict: it is reported on one line
naming the version and both locations, copied nowhere, and left for a person to resolve.

A run killed at any point leaves nothing that TF Serving loads: at most a staging directory, or a
version directory without `saved_model.pb`. The next run removes that version's stale staging
directories and the torn directory, and copies the version again. A rerun with every location current
copies nothing. Locations are independent: one that fails (missing bucket, denied, unreachable) is
reported on one line naming it and left for the rest of the run, the others complete, and the command
exits with status 1 so that the CronJob retries; so does a conflict. Two runs must not write one
location at once (each would remove the other's staging): the CronJob forbids overlap.

No credentials are passed: each backend reads its own variables (see `storage`), so the locations can
each be on a different cloud in this one process.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trainer import storage, versions
from trainer.config import ReplicateConfig
from trainer.errors import DataError, PartialFailure, StorageError, UsageError
from trainer.manifest import sha256

_PREFIX = "trainer replicate"


@dataclass
class _Place:
    """One `--location`: what it holds committed (version → whether with SHA256SUMS), and whether it
    failed in this run (then nothing more is tried there)."""

    name: str
    base: storage.Location
    committed: dict[str, bool] = field(default_factory=dict)
    failed: bool = False

    def describe(self) -> str:
        return f"{self.name} ({self.base.uri})"


@dataclass
class _Tally:
    """What the run did, for the summary line and the exit status."""

    copied: int = 0
    current: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str, message: str) -> None:
        print(f"{_PREFIX}: error: {message}", file=sys.stderr, flush=True)
        self.failures.append(what)


def run(cfg: ReplicateConfig) -> None:
    places = _places(cfg)
    tally = _Tally()
    for place in places:
        _scan(place, cfg.newest, tally)
    chosen = _newest(places, cfg.newest)
    if chosen:
        for name in chosen:
            _replicate(name, [p for p in places if not p.failed], tally)
        print(
            f"Replicated version(s) {', '.join(chosen)} across {len(places)} location(s): "
            f"{tally.copied} copied, {tally.current} already there, {len(tally.failures)} failed",
            flush=True,
        )
    else:
        print(f"No committed version with {versions.SUMS} in any location: nothing to replicate", flush=True)
    if tally.failures:
        raise PartialFailure(f"not replicated: {', '.join(tally.failures)} (see above); a rerun retries")


def _places(cfg: ReplicateConfig) -> list[_Place]:
    """Locate every location, before anything is read; a misconfigured one is a usage error."""
    if len(cfg.locations) < 2:
        raise UsageError("give at least two --location NAME=URI: one to copy from, one to copy to")
    places: list[_Place] = []
    for location in cfg.locations:
        given = f"--location {location.name}={location.uri}"
        if any(p.name == location.name for p in places):
            raise UsageError(f"{given}: the name {location.name!r} is given twice")
        try:
            base = storage.locate(location.uri)
        except UsageError as exc:
            raise UsageError(f"{given}: {exc}") from None
        same = [p for p in places if (p.base.fs.protocol, p.base.path) == (base.fs.protocol, base.path)]
        if same:
            raise UsageError(f"{given}: the same location as --location {same[0].name}={same[0].base.uri}")
        places.append(_Place(location.name, base))
    return places


def _scan(place: _Place, count: int, tally: _Tally) -> None:
    """Note the committed versions of `place` from one listing, newest first, down to its `count`-th with
    SHA256SUMS: no older one can be among the `count` newest of all the locations."""
    try:
        files = set(storage.list_under(place.base))
    except StorageError as exc:
        _fail(place, exc, tally)
        return
    tops = {rel.split("/", 1)[0] for rel in files}
    numbered = [name for name in tops if name.isascii() and name.isdigit()]
    found = 0
    for name in sorted(numbered, key=int, reverse=True):
        if f"{name}/{versions.SAVED_MODEL}" not in files:
            continue  # being exported, or torn: not a version yet
        summed = place.committed[name] = f"{name}/{versions.SUMS}" in files
        if not summed:
            print(
                f"{_PREFIX}: warning: skipped {place.base.child(name).uri}: no {versions.SUMS} to verify "
                "a copy against",
                file=sys.stderr,
                flush=True,
            )
            continue
        found += 1
        if found == count:
            break


def _newest(places: list[_Place], count: int) -> list[str]:
    """The `count` newest versions committed with SHA256SUMS in any location, newest first."""
    summed = {name for p in places if not p.failed for name, has in p.committed.items() if has}
    return sorted(summed, key=int, reverse=True)[:count]


def _replicate(name: str, places: list[_Place], tally: _Tally) -> None:
    """Copy version `name` to each of `places` that does not hold it committed, from one that does."""
    holders = [p for p in places if name in p.committed]
    missing = [p for p in places if name not in p.committed]
    sources = _agreeing(name, [p for p in holders if p.committed[name]], tally)
    tally.current += len([p for p in holders if not p.failed])
    if not sources or not missing:
        return
    source = sources[0]
    version = source.base.child(name)
    with tempfile.TemporaryDirectory(prefix="trainer-replicate-") as scratch:
        local = Path(scratch)
        try:
            expected = _download(version, local)
        except (StorageError, DataError) as exc:
            verb = "refused" if isinstance(exc, DataError) else "not read"
            tally.fail(f"version {name}", f"version {name} {verb}: {exc}; no location changed")
            return
        size = sum((local / rel).stat().st_size for rel in expected)
        for place in missing:
            dest = place.base.child(name)
            try:
                resumed = _copy(local, expected, dest)
            except (StorageError, DataError) as exc:
                _fail(place, exc, tally)
                continue
            tally.copied += 1
            note = "; the copy an earlier run left unfinished was removed" if resumed else ""
            print(
                f"Copied version {name} from {source.name} to {place.name}: {dest.uri} "
                f"({len(expected)} files, {size / 1e6:.1f} MB, verified){note}",
                flush=True,
            )


def _agreeing(name: str, holders: list[_Place], tally: _Tally) -> list[_Place]:
    """The `holders` of version `name` (committed with SHA256SUMS), if they all hold the same SHA256SUMS;
    none if two differ (a conflict, reported) or one's cannot be parsed. A holder that cannot be read
    fails alone."""
    first: tuple[_Place, dict[str, str]] | None = None
    readable: list[_Place] = []
    for place in holders:
        where = place.base.child(name, versions.SUMS)
        try:
            sums = versions.parse_sums(storage.read_bytes(where), where)
        except StorageError as exc:
            _fail(place, exc, tally)
            continue
        except DataError as exc:
            tally.fail(f"version {name}", f"version {name} refused: {exc}; no location changed")
            return []
        if first is None:
            first = (place, sums)
        elif first[1] != sums:
            tally.fail(
                f"version {name}",
                f"version {name} conflicts: {first[0].describe()} and {place.describe()} hold different "
                f"{versions.SUMS}; copied nowhere, neither overwritten",
            )
            return []
        readable.append(place)
    return readable


def _download(version: storage.Location, local: Path) -> dict[str, str]:
    """Download `version` into `local` and verify it: the SHA-256 of every file, SHA256SUMS included."""
    names = storage.download_tree(version, local)
    if versions.SUMS not in names:
        raise DataError(f"{version.child(versions.SUMS).uri} is gone")
    sums = versions.parse_sums((local / versions.SUMS).read_bytes(), version.child(versions.SUMS))
    files = [rel for rel in names if rel != versions.SUMS]
    versions.check(sums, files, lambda rel: sha256(local / rel), version)
    return {**sums, versions.SUMS: sha256(local / versions.SUMS)}


def _copy(local: Path, expected: dict[str, str], dest: storage.Location) -> bool:
    """Stage `local` beside `dest`, verify the staged files, publish them as `dest`.

    Returns whether an earlier run's leftovers (staging directories, a torn `dest`) were removed first.
    """
    stale = storage.staged_beside(dest)
    for leftover in stale:
        storage.remove_tree(leftover)
    staging = storage.stage_tree(local, dest)
    try:
        staged = storage.list_files(staging)
        versions.check(expected, staged, lambda rel: storage.sha256(staging.child(rel)), dest)
    except DataError as exc:
        raise DataError(f"the staged upload does not verify: {exc}") from None
    torn = storage.exists(dest)  # no saved_model.pb (it was checked), so TF Serving never loaded it
    if torn:
        storage.remove_tree(dest)
    storage.publish_tree(staging, dest, last=(versions.SAVED_MODEL,))
    return bool(stale) or torn


def _fail(place: _Place, exc: Exception, tally: _Tally) -> None:
    place.failed = True
    tally.fail(f"location {place.name}", f"location {place.describe()}: {exc}")
