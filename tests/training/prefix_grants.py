"""Stand-ins for each cloud's authorization of a principal granted one prefix of a bucket (another cloud's
replicator: ID-09), over the real emulators, which evaluate no IAM policy, condition or role.

`grant_only(base, monkeypatch)` makes the emulator refuse, for `base`'s bucket, every call the grant
would refuse: any object outside `base/`, any listing of another prefix, and the bucket itself. Each
refusal is raised where the cloud's SDK would raise it, so the trainer's storage layer sees what it
would see in the cloud.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob._generated.aio.operations import (
    _blob_operations,
    _block_blob_operations,
    _container_operations,
)
from azure.storage.blob.aio import ContainerClient
from botocore.exceptions import ClientError
from s3fs.errors import translate_boto_error

from trainer import storage


def grant_only(base: storage.Location, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket, _, rest = base.path.partition("/")
    GRANTS[base.uri.split("://", 1)[0]](base, bucket, f"{rest}/", monkeypatch)


def _s3(base: storage.Location, bucket: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replica policy: objects and `s3:prefix` listings under `prefix`. S3 answers a HEAD of a
    missing key with 403, not 404, without an unconditioned `s3:ListBucket`."""
    original = base.fs._call_s3

    def refused(method: str) -> Exception:
        denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, method)
        translated: Exception = translate_boto_error(denied)
        return translated

    async def authorized(method: str, *args: Any, **kwargs: Any) -> Any:
        deleted = [o["Key"] for o in kwargs.get("Delete", {}).get("Objects", [])]
        keys = [*([kwargs["Key"]] if "Key" in kwargs else []), *deleted]
        listing = kwargs.get("Prefix") if method == "list_objects_v2" else None
        named = keys or ([listing] if listing is not None else [])
        if kwargs.get("Bucket", bucket) == bucket and not (
            named and all(k.startswith(prefix) for k in named)
        ):
            raise refused(method)
        try:
            return await original(method, *args, **kwargs)
        except FileNotFoundError:
            if method == "head_object":
                raise refused(method) from None
            raise

    monkeypatch.setattr(base.fs, "_call_s3", authorized)


def _gcs(base: storage.Location, bucket: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bucket grant's IAM condition: objects named under `prefix`, listings whose
    `objectListPrefix` starts with it; the bucket's own metadata is refused."""
    original = base.fs._call

    async def authorized(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if args[:1] == (bucket,) or path.endswith(f"b/{bucket}"):
            if path.endswith("b/{}/o") and method == "GET":  # a listing
                allowed = str(kwargs.get("prefix") or "").startswith(prefix)
            elif "b/{}/o/{}" in path:  # an object (a copy names two)
                allowed = len(args) > 1 and all(str(name).startswith(prefix) for name in args[1::2])
            else:
                allowed = False
            if not allowed:
                raise OSError(f"Forbidden: {method} {path} {args}")
        return await original(method, path, *args, **kwargs)

    monkeypatch.setattr(base.fs, "_call", authorized)


def _azure(base: storage.Location, bucket: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The role assignment's ABAC condition: blob reads, writes and deletes at paths under `prefix`,
    listings of prefixes under it; the container's properties are a management read the role lacks."""

    def refused(what: str) -> HttpResponseError:
        error = HttpResponseError(message=f"AuthorizationPermissionMismatch: {what}")
        error.status_code = 403
        return error

    def in_container(client: Any) -> tuple[bool, str]:
        """Whether an operation's URL is in the granted container, and the blob it names."""
        parts = urllib.parse.unquote(urllib.parse.urlparse(client._config.url).path).split("/", 3)
        return parts[2:3] == [bucket], parts[3] if len(parts) > 3 else ""

    def guard(cls: type, name: str, allowed: Callable[[str, dict[str, Any]], bool]) -> None:
        original = getattr(cls, name)

        async def authorized(self: Any, *args: Any, **kwargs: Any) -> Any:
            ours, blob = in_container(self)
            if ours and not allowed(blob, kwargs):
                raise refused(f"{name} {blob or kwargs.get('prefix')!r}")
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, authorized)

    containers, blobs = _container_operations.ContainerOperations, _blob_operations.BlobOperations
    for listing in ("list_blob_hierarchy_segment", "list_blob_flat_segment"):
        guard(containers, listing, lambda _, kw: str(kw.get("prefix") or "").startswith(prefix))
    guard(containers, "get_properties", lambda _, __: False)
    for name in ("download", "get_properties", "delete", "start_copy_from_url", "copy_from_url"):
        guard(blobs, name, lambda blob, _: blob.startswith(prefix))
    for name in ("upload", "stage_block", "commit_block_list", "put_blob_from_url"):
        guard(_block_blob_operations.BlockBlobOperations, name, lambda blob, _: blob.startswith(prefix))
    delete_blobs = ContainerClient.delete_blobs

    async def delete_under(self: ContainerClient, *names: Any, **kwargs: Any) -> Any:
        paths = [n if isinstance(n, str) else n["name"] for n in names]
        if self.container_name == bucket and not all(p.startswith(prefix) for p in paths):
            raise refused(f"delete {paths}")
        return await delete_blobs(self, *names, **kwargs)

    monkeypatch.setattr(ContainerClient, "delete_blobs", delete_under)


GRANTS: dict[str, Callable[[storage.Location, str, str, pytest.MonkeyPatch], None]] = {
    "s3": _s3,
    "gs": _gcs,
    "az": _azure,
}
