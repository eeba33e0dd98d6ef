"""`python3 -m ci.tools --dest DIR`: install the kubeconfig exec plugins the runner images lack,
`gke-gcloud-auth-plugin` and `kubelogin`, each pinned by version and checked by SHA-256 before anything is
written to DIR (then put DIR on PATH). Linux x86_64 only, like the runners the workflows use.

A digest pinned here is checked first. Where none could be verified when the version was pinned
(`sha256=None`), the archive must match the checksum file published with the same release, and the step
prints a warning with the digest to pin.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
import tarfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    url: str
    member: str
    """The binary's path inside the archive."""
    sha256: str | None = None
    """Of the archive, when verified at pinning time."""
    binary_sha256: str | None = None
    """Of the extracted binary, when verified at pinning time."""
    published_sha256_url: str | None = None
    """The release's own checksum file, used when no archive digest is pinned."""


GCLOUD_COMPONENTS = "https://dl.google.com/dl/cloudsdk/channels/rapid/components"
KUBELOGIN_RELEASES = "https://github.com/Azure/kubelogin/releases/download"
TOOLS = (
    # Google Cloud CLI 528.0.0's component (plugin 0.5.10, build 20250620144631). The binary's digest is
    # that of the same build in the signed Debian package google-cloud-cli-gke-gcloud-auth-plugin
    # 528.0.0-0 (its dpkg md5sums matched); the tarball's own digest was not available to verify.
    Tool(
        name="gke-gcloud-auth-plugin",
        version="528.0.0",
        url=f"{GCLOUD_COMPONENTS}/google-cloud-sdk-gke-gcloud-auth-plugin-linux-x86_64-20250620144631.tar.gz",
        member="bin/gke-gcloud-auth-plugin",
        binary_sha256="ed3e12832d291fc8ac93aea4e14f28181ea9d9e5da4cc3d1d81d12c8497e46be",
    ),
    # Azure/kubelogin v0.2.19 (2026-06-23). Its releases publish `<asset>.sha256`; that file could not be
    # read when this was pinned, so the archive is checked against it at install time (see the warning).
    Tool(
        name="kubelogin",
        version="v0.2.19",
        url=f"{KUBELOGIN_RELEASES}/v0.2.19/kubelogin-linux-amd64.zip",
        member="bin/linux_amd64/kubelogin",
        published_sha256_url=f"{KUBELOGIN_RELEASES}/v0.2.19/kubelogin-linux-amd64.zip.sha256",
    ),
)


class ToolError(Exception):
    """A download failed or does not match its digest; nothing was installed."""


def download(url: str, attempts: int = 3) -> bytes:
    if not url.startswith("https://"):
        raise ToolError(f"refusing a download that is not HTTPS: {url}")
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data: bytes = response.read()
                return data
        except OSError as exc:
            if attempt == attempts:
                raise ToolError(f"cannot download {url}: {exc}") from exc
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_archive(tool: Tool, archive: bytes, fetch: Fetch) -> str | None:
    """Check the archive; a warning to print when it was checked against the published file only."""
    actual = _digest(archive)
    if tool.sha256:
        if actual != tool.sha256:
            raise ToolError(f"{tool.name} {tool.version}: archive sha256 {actual}, pinned {tool.sha256}")
        return None
    if tool.published_sha256_url:
        published = fetch(tool.published_sha256_url).decode().split()
        if not published or published[0].lower() != actual:
            raise ToolError(f"{tool.name} {tool.version}: archive sha256 {actual} is not the published one")
        return (
            f"{tool.name} {tool.version} matches its release's published checksum only; "
            f"pin sha256={actual} in ci/tools.py"
        )
    if not tool.binary_sha256:
        raise ToolError(f"{tool.name} {tool.version}: no digest to check against")
    return None


def extract(tool: Tool, archive: bytes) -> bytes:
    if tool.url.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            return bundle.read(tool.member)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as bundle:
        member = bundle.extractfile(tool.member)
        if member is None:
            raise ToolError(f"{tool.name}: {tool.member} is not a file in the archive")
        return member.read()


def install(tool: Tool, dest: Path, fetch: Fetch = download) -> str | None:
    """Download, verify and write `dest/<name>` (mode 755); the warning of `verify_archive`, if any."""
    archive = fetch(tool.url)
    warning = verify_archive(tool, archive, fetch)
    binary = extract(tool, archive)
    if tool.binary_sha256 and _digest(binary) != tool.binary_sha256:
        raise ToolError(
            f"{tool.name} {tool.version}: binary sha256 {_digest(binary)}, pinned {tool.binary_sha256}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / tool.name
    target.write_bytes(binary)
    target.chmod(0o755)
    return warning


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ci.tools", description=__doc__)
    parser.add_argument("--dest", type=Path, required=True, help="directory to install into")
    args = parser.parse_args(argv)
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        print(f"::error::ci.tools installs Linux x86_64 binaries, not {platform.machine()}", file=sys.stderr)
        return 1
    for tool in TOOLS:
        try:
            warning = install(tool, args.dest)
        except (ToolError, KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
            print(f"::error title=tool install failed::{exc}")
            return 1
        if warning:
            print(f"::warning title=checksum not pinned::{warning}")
        print(f"installed {tool.name} {tool.version} in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
