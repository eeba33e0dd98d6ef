"""`replicate`: copy the newest committed model versions from one model base path to others, on any cloud.

It is what the platform's replication CronJob runs, so that every cluster's TF Serving has the models
trained on another. For each of the `--newest` N newest versions of `--source` that are committed and
carry `SHA256SUMS` (see `versions`; a committed version without one is reported and skipped), every
`--target` that does not hold the version committed gets it:

1. the version is downloaded once into a local temporary directory and every file is checked against
   `SHA256SUMS`: a missing, extra or different file refuses the version for every target;
2. it is uploaded under a hidden staging name in the target (`storage.stage_tree`), and the staged files
   are read back and checked again;
3. it is published into `<target>/<version>/` with `saved_model.pb` last (`storage.publish_tree`).

A run killed at any point leaves nothing that TF Serving loads: at most a staging directory, or a
version directory without `saved_model.pb`. The next run removes that version's stale staging
directories and the torn directory, and copies the version again. A version committed in a target is
never touched, so a rerun with every target current copies nothing. Targets are independent: one that
fails (missing bucket, denied, unreachable) is reported on one line naming it and left for the rest of
the run, the others complete, and the command exits with status 1 so that the CronJob retries. Two runs
must not write one target at once (each would remove the other's staging): the CronJob forbids overlap.

No credentials are passed: each backend reads its own variables (see `storage`), so the source and the
targets can each be on a different cloud in this one process.
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
class _Target:
    """One `--target`, and whether it failed in this run (then nothing more is tried there)."""

    name: str
    base: storage.Location
    failed: bool = False


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
    source = storage.locate(cfg.source)
    targets = _targets(cfg, source)
    chosen = _newest(source, cfg.newest)
    if not chosen:
        print(
            f"No committed version with {versions.SUMS} under {source.uri}: nothing to replicate", flush=True
        )
        return
    tally = _Tally()
    for name in chosen:
        _replicate(source.child(name), [t for t in targets if not t.failed], tally)
    print(
        f"Replicated {source.uri}, version(s) {', '.join(chosen)}, to {len(targets)} target(s): "
        f"{tally.copied} copied, {tally.current} already there, {len(tally.failures)} failed",
        flush=True,
    )
    if tally.failures:
        raise PartialFailure(f"not replicated: {', '.join(tally.failures)} (see above); a rerun retries")


def _targets(cfg: ReplicateConfig, source: storage.Location) -> list[_Target]:
    """Locate every target, before anything is copied; a misconfigured one is a usage error."""
    targets: list[_Target] = []
    for target in cfg.targets:
        given = f"--target {target.name}={target.uri}"
        if any(t.name == target.name for t in targets):
            raise UsageError(f"{given}: the name {target.name!r} is given twice")
        try:
            base = storage.locate(target.uri)
        except UsageError as exc:
            raise UsageError(f"{given}: {exc}") from None
        if (base.fs.protocol, base.path) == (source.fs.protocol, source.path):
            raise UsageError(f"{given}: the same location as --source {source.uri}")
        targets.append(_Target(target.name, base))
    return targets


def _newest(source: storage.Location, count: int) -> list[str]:
    """The `count` newest versions of `source` that are committed and carry SHA256SUMS, newest first."""
    if not storage.exists(source):
        raise StorageError(f"cannot read {source.uri}: not found")
    chosen: list[str] = []
    for name in versions.listed(source):
        version = source.child(name)
        if not versions.is_committed(version):
            continue  # being exported, or torn: not a version yet
        if not storage.exists(version.child(versions.SUMS)):
            print(
                f"{_PREFIX}: warning: skipped {version.uri}: no {versions.SUMS} to verify a copy against",
                file=sys.stderr,
                flush=True,
            )
            continue
        chosen.append(name)
        if len(chosen) == count:
            break
    return chosen


def _replicate(version: storage.Location, targets: list[_Target], tally: _Tally) -> None:
    """Copy one source version to each of `targets` that does not hold it committed."""
    missing: list[_Target] = []
    for target in targets:
        try:
            if versions.is_committed(target.base.child(version.name)):
                tally.current += 1
            else:
                missing.append(target)
        except StorageError as exc:
            _fail(target, exc, tally)
    if not missing:
        return
    with tempfile.TemporaryDirectory(prefix="trainer-replicate-") as scratch:
        local = Path(scratch)
        try:
            expected = _download(version, local)
        except (StorageError, DataError) as exc:
            verb = "refused" if isinstance(exc, DataError) else "not read"
            tally.fail(f"version {version.name}", f"version {version.name} {verb}: {exc}; no target changed")
            return
        size = sum((local / rel).stat().st_size for rel in expected)
        for target in missing:
            dest = target.base.child(version.name)
            try:
                resumed = _copy(local, expected, dest)
            except (StorageError, DataError) as exc:
                _fail(target, exc, tally)
                continue
            tally.copied += 1
            note = "; the copy an earlier run left unfinished was removed" if resumed else ""
            print(
                f"Copied version {version.name} to {target.name}: {dest.uri} "
                f"({len(expected)} files, {size / 1e6:.1f} MB, verified){note}",
                flush=True,
            )


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


def _fail(target: _Target, exc: Exception, tally: _Tally) -> None:
    target.failed = True
    tally.fail(f"target {target.name}", f"target {target.name} ({target.base.uri}): {exc}")
