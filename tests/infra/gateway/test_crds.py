"""The gateway's vendored CRDs: every file is its release's, byte for byte, each release is the one
`crds.py` pins, and every CRD is one Kubernetes accepts."""

from __future__ import annotations

import hashlib
import re

import kubernetes_validate
import pytest

from infra.gateway import crds

SOURCE = crds.DIRECTORY / "SOURCE.md"
ROW = re.compile(r"^\| ([\w-]+/[\w.-]+\.yaml) \| (\d+) \| ([0-9a-f]{40}) \| ([0-9a-f]{64}) \|$", re.M)
COMMITS = {
    "gateway-api": "8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3",
    "envoy-gateway": "39763b1c07ec30a5526fe70434a2cfe4181de642",
    "cert-manager": "24e33194fb39488eff2bbf10c6dc640f407cad44",
}
COUNTS = {"gateway-api": 10, "envoy-gateway": 8, "cert-manager": 6}


def recorded() -> dict[str, tuple[int, str, str]]:
    """SOURCE.md's tables: release/file -> (bytes, git blob, sha256)."""
    return {m[1]: (int(m[2]), m[3], m[4]) for m in ROW.finditer(SOURCE.read_text())}


def test_every_vendored_file_is_its_releases() -> None:
    table = recorded()
    files = [path for release in crds.RELEASES for path in release.files()]
    assert sorted(table) == sorted(f"{p.parent.name}/{p.name}" for p in files)
    assert {r.name: len(r.files()) for r in crds.RELEASES} == COUNTS
    for path in files:
        data = path.read_bytes()
        # The git object id, as `git ls-tree` lists it at the tag.
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        name = f"{path.parent.name}/{path.name}"
        assert (len(data), blob, hashlib.sha256(data).hexdigest()) == table[name], name


@pytest.mark.parametrize("release", crds.RELEASES, ids=lambda r: r.name)
def test_the_source_names_the_pinned_release(release: crds.Release) -> None:
    text = SOURCE.read_text()
    assert f"- Repository: {release.repository}\n- Tag: `{release.tag}`" in text
    assert f"- Commit: `{COMMITS[release.name]}`" in text
    assert f"- Path: `{release.path}/`" in text


@pytest.mark.parametrize("release", crds.RELEASES, ids=lambda r: r.name)
def test_every_file_holds_the_crd_it_is_named_for(release: crds.Release) -> None:
    for path, crd in zip(release.files(), crds.vendored(release), strict=True):
        spec = crd["spec"]
        assert spec["group"] in release.groups
        assert path.name == f"{spec['group']}_{spec['names']['plural']}.yaml"
        assert crd["metadata"]["name"] == f"{spec['names']['plural']}.{spec['group']}"


def test_the_gateway_api_crds_are_the_standard_channel_of_the_pinned_bundle() -> None:
    for crd in crds.vendored(crds.GATEWAY_API):
        annotations = crd["metadata"]["annotations"]
        assert annotations["gateway.networking.k8s.io/bundle-version"] == crds.GATEWAY_API.tag
        assert annotations["gateway.networking.k8s.io/channel"] == "standard"


def test_every_crd_validates_strictly_as_kubernetes_reads_it() -> None:
    for crd in crds.every():
        kubernetes_validate.validate(crd, "1.35.0", strict=True)
