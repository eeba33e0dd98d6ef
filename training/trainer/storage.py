"""Storage for every command: local paths, s3://, gs:// and az:// through fsspec.

One `Location` type, a few whole-file operations, and nothing else: TensorFlow reads and writes only
local files, and the commands stage data and artifacts between a local directory and a `Location`.
Credentials are never passed in: each backend finds them in the environment (workload identity in the
clusters, endpoint overrides for the emulators). Every call is retried on transient faults and
translated into a one-line `StorageError` otherwise (see `storage_errors`). As each backend reads its own
variables, one process can read one cloud and write another (`replicate` does).

A directory is committed in two steps, `stage_tree` (upload under a hidden name) then `publish_tree`
(make it visible, `saved_model.pb` last); `commit_tree` does both, and `replicate` reads the staged copy
back and verifies it in between.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import posixpath
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import fsspec
import fsspec.asyn
from fsspec.spec import AbstractFileSystem

from trainer.errors import StorageError, UsageError
from trainer.storage_errors import bucket_exists, call, io_options, is_denied

T = TypeVar("T")
TEMP_PREFIX = ".tmp-"
STAGING_PREFIX = ".staging-"
_READ_BLOCK = 8 << 20  # bytes per ranged read when hashing a stored file
AZURE_COPY_WAIT_SECONDS = 600
"""How long a server-side copy in Azure may stay pending before publishing gives up."""


def _s3_options() -> dict[str, Any]:
    # botocore itself reads AWS_ENDPOINT_URL (emulators) and the default credential chain (IRSA and EKS
    # Pod Identity), so nothing is passed; a region in client_kwargs would break moto's bucket creation.
    return {}


# gcsfs logs every call that runs out of its own retries with a traceback (logger.exception), which
# with no logging configured lands on stderr; the StorageError line already says what failed, and where.
logging.getLogger("gcsfs").addHandler(logging.NullHandler())


def _gcs_options() -> dict[str, Any]:
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        # gcsfs reads this flag at import; left on, every bucket call waits 60 s for an HNS probe the
        # emulator never answers. The emulator takes no credentials, hence the anonymous token.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        return {"token": "anon"}
    # google.auth's default credentials: GKE workload identity, or the replicator's external_account file
    # (GOOGLE_APPLICATION_CREDENTIALS). Named, because gcsfs otherwise falls back to anonymous access when
    # they fail, and a missing grant would read as a puzzling 401 instead of the credentials' own error.
    return {"token": "google_default"}


def _azure_options() -> dict[str, Any]:
    connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection:
        return {"connection_string": connection}
    account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not account:
        raise UsageError(
            "az:// needs AZURE_STORAGE_ACCOUNT_NAME (workload identity) or AZURE_STORAGE_CONNECTION_STRING"
        )
    # anon=False makes adlfs use DefaultAzureCredential, which picks up AKS workload identity.
    return {"account_name": account, "anon": False}


# URI scheme → (fsspec protocol, options from the environment). Adding a store is one line here.
_BACKENDS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "s3": ("s3", _s3_options),
    "gs": ("gcs", _gcs_options),
    "gcs": ("gcs", _gcs_options),
    "az": ("az", _azure_options),
    "abfs": ("az", _azure_options),
}
SCHEMES = tuple(_BACKENDS)


@dataclass(frozen=True)
class Location:
    """A file or directory: `uri` as shown to users, `path` as the filesystem `fs` names it."""

    uri: str
    fs: AbstractFileSystem
    path: str
    bucket: str | None  # None for local paths

    @property
    def is_local(self) -> bool:
        return self.bucket is None

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    def child(self, *parts: str) -> Location:
        suffix = "/".join(p.strip("/") for p in parts)
        return Location(f"{self.uri}/{suffix}", self.fs, f"{self.path}/{suffix}", self.bucket)

    @property
    def parent(self) -> Location:
        return Location(self.uri.rsplit("/", 1)[0], self.fs, posixpath.dirname(self.path), self.bucket)

    def sibling(self, name: str) -> Location:
        return self.parent.child(name)


def locate(uri: str) -> Location:
    """Parse a local path or an s3://, gs://, az:// URI; an unknown scheme is a usage error."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme == "file":
        path = os.path.abspath(rest if sep else uri)
        return Location(path, fsspec.filesystem("file"), path, None)
    if scheme not in _BACKENDS:
        allowed = ", ".join(f"{s}://" for s in _BACKENDS)
        raise UsageError(f"unsupported storage URI {uri!r}: use a local path or {allowed}")
    rest = rest.strip("/")
    bucket = rest.split("/", 1)[0]
    if not bucket:
        raise UsageError(f"storage URI {uri!r} names no bucket or container")
    protocol, options = _BACKENDS[scheme]
    settings = options()
    try:
        fs = fsspec.filesystem(protocol, **settings)
    except Exception as exc:  # each backend raises its own errors for missing or broken credentials
        raise StorageError(f"cannot use {scheme}://{rest}: {str(exc).splitlines()[0]}") from exc
    return Location(f"{scheme}://{rest}", fs, rest, bucket)


def exists(loc: Location) -> bool:
    """Whether `loc` exists; a missing bucket is an error, not a plain False, so users see why.

    In a bucket it is looked up by listing, never by a HEAD request: a principal granted one prefix
    (serving, another cloud's replicator) may list under it, but S3 answers its HEAD of a missing key
    with 403, not 404, and no cloud lets it look at the bucket itself.
    """
    if loc.bucket is None:
        return bool(loc.fs.exists(loc.path))
    path = loc.path.rstrip("/")
    if path != loc.bucket and call(loc, "check", lambda: _listed(loc.fs, path, _io(loc))):
        return True
    if not bucket_exists(loc):
        raise StorageError(f"cannot read {loc.uri}: bucket or container {loc.bucket!r} does not exist")
    return path == loc.bucket


def _listed(fs: AbstractFileSystem, path: str, io: dict[str, Any]) -> bool:
    """Whether `path` is a directory with contents (its own listing) or a file (in its parent's), read
    afresh."""
    parent = posixpath.dirname(path)
    fs.invalidate_cache(path)
    fs.invalidate_cache(parent)
    if _visible(lambda: fs.ls(path, detail=False, **io)):
        return True
    return path in {name.rstrip("/") for name in _visible(lambda: fs.ls(parent, detail=False, **io))}


def _visible(listing: Callable[[], Iterable[Any]]) -> list[str]:
    """What `listing` returns, or nothing where this principal can see nothing: a path that does not
    exist, or one it is refused. A principal granted one prefix (another cloud's replicator) may not list
    that prefix's parent, nor the prefix itself while it is empty, and holds nothing of its own there."""
    try:
        return [str(name) for name in listing()]
    except FileNotFoundError:
        return []
    except Exception as exc:
        if is_denied(exc):
            return []
        raise


def read_bytes(loc: Location) -> bytes:
    return call(loc, "read", lambda: bytes(loc.fs.cat_file(loc.path, **_io(loc))))


def write_bytes(loc: Location, data: bytes) -> None:
    """Write all of `data` or nothing: to a temporary name first, then published under `loc`.

    Errors name `loc`, never the temporary name, which means nothing to the user.
    """
    temp = loc.sibling(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{loc.name}")
    _makedirs(loc)
    call(loc, "write", lambda: loc.fs.pipe_file(temp.path, data, **_io(loc)))
    _publish(temp, loc)


def upload_file(local: Path, loc: Location) -> None:
    """Copy a local file to `loc` atomically (temporary name, then rename or server-side copy)."""
    temp = loc.sibling(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{loc.name}")
    _makedirs(loc)
    call(loc, "write", lambda: loc.fs.put_file(str(local), temp.path, **_io(loc)))
    _publish(temp, loc)


def download_file(loc: Location, local: Path) -> None:
    local.parent.mkdir(parents=True, exist_ok=True)
    call(loc, "read", lambda: loc.fs.get_file(loc.path, str(local), **_io(loc)))


def list_files(loc: Location) -> list[str]:
    """Paths of the files under `loc`, relative to it and sorted; unpublished temporaries are skipped."""
    found: Iterable[str] = call(loc, "list", lambda: loc.fs.find(loc.path, **_io(loc)))
    names = [posixpath.relpath(f, loc.path) for f in found if f != loc.path]
    return sorted(
        n for n in names if not any(p.startswith((TEMP_PREFIX, STAGING_PREFIX)) for p in n.split("/"))
    )


def list_under(loc: Location) -> list[str]:
    """What `list_files` finds, or nothing where this principal can see nothing (see `_visible`): each
    backend asks about `loc` itself once its listing comes back empty, which a principal granted only
    `loc`'s prefix (another cloud's replicator) may not do. A missing bucket is an error, as in `exists`."""
    found = call(loc, "list", lambda: _visible(lambda: loc.fs.find(loc.path, **_io(loc))))
    if not found and loc.bucket is not None and not bucket_exists(loc):
        raise StorageError(f"cannot read {loc.uri}: bucket or container {loc.bucket!r} does not exist")
    names = [posixpath.relpath(f, loc.path) for f in found if f.startswith(f"{loc.path}/")]
    return sorted(
        n for n in names if not any(p.startswith((TEMP_PREFIX, STAGING_PREFIX)) for p in n.split("/"))
    )


def list_children(loc: Location) -> list[str]:
    """Names directly under the directory `loc` (files and directories alike)."""
    found: Iterable[str] = call(loc, "list", lambda: loc.fs.ls(loc.path, detail=False, **_io(loc)))
    return sorted(posixpath.basename(str(f).rstrip("/")) for f in found)


def upload_tree(local_dir: Path, loc: Location, skip: Callable[[str], bool] = lambda _: False) -> None:
    """Upload every file under `local_dir`, each one atomically."""
    for rel in _local_files(local_dir):
        if not skip(rel):
            upload_file(local_dir / rel, loc.child(rel))


def download_tree(loc: Location, local_dir: Path) -> list[str]:
    """Download every file under `loc` into `local_dir`; returns their relative paths."""
    names = list_files(loc)
    for rel in names:
        download_file(loc.child(rel), local_dir / rel)
    return names


def commit_tree(local_dir: Path, loc: Location, last: tuple[str, ...] = ()) -> None:
    """Publish a whole new directory so a poller of the parent never sees it half written.

    `stage_tree`, then `publish_tree`; `loc` must not exist yet (versions are immutable).
    """
    if exists(loc):
        raise StorageError(f"cannot write {loc.uri}: it already exists and versions are immutable")
    publish_tree(stage_tree(local_dir, loc), loc, last)


def stage_tree(local_dir: Path, loc: Location) -> Location:
    """Upload every file under `local_dir` to a new hidden staging directory beside `loc`; return it.

    Staging names start with `.staging-` and end with `-<name of loc>`: not numbers, so TF Serving never
    reads one as a version, and listings skip them. Errors name the file under `loc`, not the staging one.
    """
    staging = loc.sibling(f"{STAGING_PREFIX}{uuid.uuid4().hex}-{loc.name}")
    for rel in _local_files(local_dir):
        target = staging.child(rel)
        _makedirs(target)
        call(
            loc.child(rel),
            "write",
            functools.partial(loc.fs.put_file, str(local_dir / rel), target.path, **_io(loc)),
        )
    return staging


def publish_tree(staging: Location, loc: Location, last: tuple[str, ...] = ()) -> None:
    """Make the staged directory `staging` (from `stage_tree`) visible as `loc`, which must not exist.

    Locally, one rename makes every file visible at once. Object stores have no rename: the staged
    objects are copied server-side with the `last` names copied at the very end, so a reader that waits
    for those (TF Serving waits for `saved_model.pb`) never loads a partial version; then the staging
    objects are removed. A publish cut short leaves `loc` without the `last` files, and the staging
    directory behind: `staged_beside` finds it again.
    """
    if loc.is_local:
        call(loc, "write", lambda: os.rename(staging.path, loc.path))
        return
    ordered = sorted(list_files(staging), key=lambda rel: posixpath.basename(rel) in last)
    for rel in ordered:
        _server_copy(staging.child(rel), loc.child(rel))
    remove_tree(staging)


def staged_beside(loc: Location) -> list[Location]:
    """The staging directories `stage_tree` made for `loc` and no publish removed (runs cut short).

    Found by a listing of the staging names' prefix only: a principal granted `loc`'s parent (the
    replicator in another cloud's bucket) may not list the parent itself while it is still empty.
    """
    parent = loc.parent
    pattern = re.compile(rf"{re.escape(STAGING_PREFIX)}[0-9a-f]{{32}}-{re.escape(loc.name)}")
    names = call(parent, "list", lambda: _staging_names(parent.fs, parent.path, _io(parent)))
    return [loc.sibling(name) for name in sorted(names) if pattern.fullmatch(name)]


def _staging_names(fs: AbstractFileSystem, parent: str, io: dict[str, Any]) -> set[str]:
    """The names directly under `parent` of every file whose path there starts with STAGING_PREFIX."""
    paths = _visible(lambda: fs.find(parent, prefix=STAGING_PREFIX, **io))
    base = parent.rstrip("/") + "/"
    return {p.removeprefix(base).split("/", 1)[0] for p in paths if p.startswith(base)}


def remove_tree(loc: Location) -> None:
    """Delete the directory `loc` and everything under it."""
    call(loc, "delete", lambda: loc.fs.rm(loc.path, recursive=True, **_io(loc)))


def sha256(loc: Location) -> str:
    """The SHA-256 of the file at `loc`, read in ranges so that a large file never sits in memory whole."""
    size = call(loc, "read", lambda: int(loc.fs.size(loc.path, **_io(loc))))
    digest = hashlib.sha256()
    for start in range(0, size, _READ_BLOCK):
        end = min(start + _READ_BLOCK, size)
        read = functools.partial(loc.fs.cat_file, loc.path, start=start, end=end, **_io(loc))
        digest.update(call(loc, "read", read))
    return digest.hexdigest()


def _publish(temp: Location, final: Location) -> None:
    if final.is_local:
        call(final, "write", lambda: os.replace(temp.path, final.path))
        return
    # Server-side copy, not fs.mv: gcsfs's mv uses GCS moveTo, which the emulator answers with a 501
    # that gcsfs then retries for half a minute.
    _server_copy(temp, final)
    call(final, "write", lambda: final.fs.rm_file(temp.path, **_io(final)))


def _server_copy(src: Location, dst: Location) -> None:
    """Copy `src` to `dst` inside one bucket, and return only once `dst` holds all of it.

    S3 and GCS answer a copy when it is done. Azure may answer while it still runs (`x-ms-copy-status:
    pending`), and a copy whose source is deleted before it ends fails, so the copy's status is polled.
    """
    call(dst, "write", lambda: dst.fs.copy(src.path, dst.path, **_io(dst)))
    if "az" not in dst.fs.protocol:  # adlfs answers to ("abfs", "az", "abfss")
        return
    container, blob = dst.path.split("/", 1)
    client = dst.fs.service_client.get_blob_client(container, blob)
    deadline = time.monotonic() + AZURE_COPY_WAIT_SECONDS
    while True:
        copy = call(
            dst, "check", lambda: fsspec.asyn.sync(dst.fs.loop, client.get_blob_properties, **_io(dst))
        ).copy
        if copy.status in (None, "success"):
            return
        if copy.status != "pending":
            raise StorageError(
                f"cannot write {dst.uri}: Azure's copy ended {copy.status}: {copy.status_description}"
            )
        if time.monotonic() > deadline:
            raise StorageError(
                f"cannot write {dst.uri}: Azure's copy still pending after {AZURE_COPY_WAIT_SECONDS} s"
            )
        time.sleep(1)


def _io(loc: Location) -> dict[str, Any]:
    return io_options(loc.fs)


def _makedirs(loc: Location) -> None:
    if loc.is_local:
        os.makedirs(posixpath.dirname(loc.path), exist_ok=True)


def _local_files(local_dir: Path) -> list[str]:
    return sorted(p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file())
