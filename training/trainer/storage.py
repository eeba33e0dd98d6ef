"""Storage for every command: local paths, s3://, gs:// and az:// through fsspec.

One `Location` type, a few whole-file operations, and nothing else: TensorFlow reads and writes only
local files, and the commands stage data and artifacts between a local directory and a `Location`.
Credentials are never passed in: each backend finds them in the environment (workload identity in the
clusters, endpoint overrides for the emulators). Every call is retried on transient faults and
translated into a one-line `StorageError` otherwise (see `storage_errors`).
"""

from __future__ import annotations

import functools
import logging
import os
import posixpath
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import fsspec
from fsspec.spec import AbstractFileSystem

from trainer.errors import StorageError, UsageError
from trainer.storage_errors import call, io_options

T = TypeVar("T")
TEMP_PREFIX = ".tmp-"
STAGING_PREFIX = ".staging-"


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
    return {}  # google.auth default credentials: GKE workload identity


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

    def sibling(self, name: str) -> Location:
        uri_parent, path_parent = self.uri.rsplit("/", 1)[0], posixpath.dirname(self.path)
        return Location(f"{uri_parent}/{name}", self.fs, f"{path_parent}/{name}", self.bucket)


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
    fs = fsspec.filesystem(protocol, **options())
    return Location(f"{scheme}://{rest}", fs, rest, bucket)


def exists(loc: Location) -> bool:
    """Whether `loc` exists; a missing bucket is an error, not a plain False, so users see why."""
    if call(loc, "check", lambda: bool(loc.fs.exists(loc.path, **_io(loc)))):
        return True
    if loc.bucket is not None and not call(loc, "check", lambda: bool(loc.fs.exists(loc.bucket, **_io(loc)))):
        raise StorageError(f"cannot read {loc.uri}: bucket or container {loc.bucket!r} does not exist")
    return False


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
    """Publish a whole directory so a poller of the parent never sees it half written.

    The files go under a hidden staging name first. Locally, one rename then makes them visible at once.
    Object stores have no rename: the staged objects are copied server-side with the `last` names copied
    at the very end, so a reader that waits for those (TF Serving waits for `saved_model.pb`) never
    loads a partial version, and staging names are never read as versions (they are not numbers).
    """
    if exists(loc):
        raise StorageError(f"cannot write {loc.uri}: it already exists and versions are immutable")
    staging = loc.sibling(f"{STAGING_PREFIX}{uuid.uuid4().hex}-{loc.name}")
    files = _local_files(local_dir)
    for rel in files:
        target = staging.child(rel)
        _makedirs(target)
        call(
            loc.child(rel),
            "write",
            functools.partial(loc.fs.put_file, str(local_dir / rel), target.path, **_io(loc)),
        )
    if loc.is_local:
        call(loc, "write", lambda: os.rename(staging.path, loc.path))
        return
    ordered = sorted(files, key=lambda rel: posixpath.basename(rel) in last)
    for rel in ordered:
        src, dst = staging.child(rel), loc.child(rel)
        call(dst, "write", functools.partial(loc.fs.copy, src.path, dst.path, **_io(loc)))
    call(loc, "write", lambda: loc.fs.rm(staging.path, recursive=True, **_io(loc)))


def _publish(temp: Location, final: Location) -> None:
    if final.is_local:
        call(final, "write", lambda: os.replace(temp.path, final.path))
        return
    # Server-side copy, not fs.mv: gcsfs's mv uses GCS moveTo, which the emulator answers with a 501
    # that gcsfs then retries for half a minute.
    call(final, "write", lambda: final.fs.copy(temp.path, final.path, **_io(final)))
    call(final, "write", lambda: final.fs.rm_file(temp.path, **_io(final)))


def _io(loc: Location) -> dict[str, Any]:
    return io_options(loc.fs)


def _makedirs(loc: Location) -> None:
    if loc.is_local:
        os.makedirs(posixpath.dirname(loc.path), exist_ok=True)


def _local_files(local_dir: Path) -> list[str]:
    return sorted(p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file())
