"""The CustomResourceDefinitions the gateway needs, vendored from three pinned releases.

`crds/<release>/` holds each release's generated CRD files unchanged (`crds/SOURCE.md` gives the tag, the
commit and each file's sha256): the Gateway API's standard channel, Envoy Gateway's own kinds, and
cert-manager's. Nothing here declares a resource; this module only reads the files, and reads each once
per process: the three releases are 4.7 MB of YAML, Envoy Gateway's EnvoyProxy CRD alone 1.4 MB.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DIRECTORY = Path(__file__).parent / "crds"


@dataclass(frozen=True)
class Release:
    name: str
    """The folder under `crds/` that holds its files."""
    repository: str
    tag: str
    path: str
    """Where the files lie in the repository at `tag`."""
    groups: tuple[str, ...]
    """The API groups its CRDs define; every file is named `<group>_<plural>.yaml`."""

    def files(self) -> list[Path]:
        return sorted(DIRECTORY.joinpath(self.name).glob("*.yaml"))


GATEWAY_API = Release(
    "gateway-api",
    "https://github.com/kubernetes-sigs/gateway-api",
    "v1.6.1",
    "config/crd/standard",
    ("gateway.networking.k8s.io",),
)
"""The Gateway API's standard channel, the version Envoy Gateway v1.9.0 is built against (its go.mod)."""
ENVOY_GATEWAY = Release(
    "envoy-gateway",
    "https://github.com/envoyproxy/gateway",
    "v1.9.0",
    "charts/gateway-helm/charts/crds/crds/generated",
    ("gateway.envoyproxy.io",),
)
CERT_MANAGER = Release(
    "cert-manager",
    "https://github.com/cert-manager/cert-manager",
    "v1.21.1",
    "deploy/crds",
    ("cert-manager.io", "acme.cert-manager.io"),
)
RELEASES = (GATEWAY_API, ENVOY_GATEWAY, CERT_MANAGER)


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    # LibYAML's loader reads these files in a tenth of the time the pure-Python one takes.
    found: dict[str, Any] = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    return found


def vendored(release: Release) -> list[dict[str, Any]]:
    """The release's CRDs as parsed, in file order. They are parsed once and shared: read, never change
    them (copy first)."""
    return [_parsed(path) for path in release.files()]


def every() -> list[dict[str, Any]]:
    """The CRDs of all three releases, in `RELEASES` order."""
    return [crd for release in RELEASES for crd in vendored(release)]
