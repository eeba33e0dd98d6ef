"""ci.tools: every tool is pinned by version and checked by a digest; a download that does not match
installs nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import tarfile
import zipfile
from pathlib import Path

import pytest

from ci import tools

BINARY = b"#!/bin/sh\necho plugin\n"


def _zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(member, data)
    return buffer.getvalue()


def _tar(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_tool_has_a_version_in_its_url_and_a_digest_to_check() -> None:
    assert {t.name for t in tools.TOOLS} == {"gke-gcloud-auth-plugin", "kubelogin"}
    for tool in tools.TOOLS:
        assert tool.url.startswith("https://")
        assert tool.version.lstrip("v") in tool.url or tool.name == "gke-gcloud-auth-plugin"
        pins = [d for d in (tool.sha256, tool.binary_sha256) if d]
        assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in pins), tool.name
        assert pins or tool.published_sha256_url == f"{tool.url}.sha256", tool.name


def test_a_pinned_binary_digest_is_checked(tmp_path: Path) -> None:
    archive = _tar("bin/plugin", BINARY)
    tool = tools.Tool("plugin", "1.0", "https://x/p.tar.gz", "bin/plugin", binary_sha256=sha(BINARY))
    assert tools.install(tool, tmp_path, {tool.url: archive}.__getitem__) is None
    assert (tmp_path / "plugin").read_bytes() == BINARY
    assert (tmp_path / "plugin").stat().st_mode & 0o777 == 0o755
    other = dataclasses.replace(tool, binary_sha256="f" * 64)
    with pytest.raises(tools.ToolError, match="binary sha256"):
        tools.install(other, tmp_path / "other", {tool.url: archive}.__getitem__)
    assert not (tmp_path / "other").exists()


def test_a_pinned_archive_digest_is_checked(tmp_path: Path) -> None:
    archive = _zip("bin/tool", BINARY)
    tool = tools.Tool("tool", "v1", "https://x/t.zip", "bin/tool", sha256=sha(archive))
    tools.install(tool, tmp_path, {tool.url: archive}.__getitem__)
    with pytest.raises(tools.ToolError, match="archive sha256"):
        tools.install(tool, tmp_path, {tool.url: archive + b"x"}.__getitem__)


def test_without_a_pin_the_published_checksum_must_match_and_warns(tmp_path: Path) -> None:
    archive = _zip("bin/linux_amd64/kubelogin", BINARY)
    tool = tools.Tool(
        "kubelogin",
        "v9",
        "https://x/k.zip",
        "bin/linux_amd64/kubelogin",
        published_sha256_url="https://x/k.sha",
    )
    published = {tool.url: archive, "https://x/k.sha": f"{sha(archive)}  k.zip\n".encode()}
    warning = tools.install(tool, tmp_path, published.__getitem__)
    assert warning is not None
    assert f"pin sha256={sha(archive)}" in warning
    published["https://x/k.sha"] = b"f" * 64
    with pytest.raises(tools.ToolError, match="not the published one"):
        tools.install(tool, tmp_path / "bad", published.__getitem__)
    assert not (tmp_path / "bad").exists()


def test_downloads_are_https_only() -> None:
    with pytest.raises(tools.ToolError, match="not HTTPS"):
        tools.download("http://example.invalid/tool")
