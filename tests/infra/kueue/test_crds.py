"""Kueue's CRDs: the vendored files are the release's, byte for byte, and the resources `crds.py` declares
are what the release manifest installs: the files plus its labels, and the conversion webhook on exactly
the five kinds Kueue converts, whose `caBundle` is left to Kueue's certificate manager."""

from __future__ import annotations

import functools
import hashlib
import re

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s

from infra.kueue import crds
from plan import runner, stackfile
from plan.manifests import manifest
from tests.plans import ROOT

SOURCE = crds.DIRECTORY / "SOURCE.md"
ROW = re.compile(r"^\| (kueue\.x-k8s\.io_\w+\.yaml) \| (\d+) \| ([0-9a-f]{40}) \| ([0-9a-f]{64}) \|$", re.M)
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def recorded() -> dict[str, tuple[int, str, str]]:
    """SOURCE.md's table: file -> (bytes, git blob, sha256)."""
    return {m[1]: (int(m[2]), m[3], m[4]) for m in ROW.finditer(SOURCE.read_text())}


def test_every_vendored_file_is_the_releases() -> None:
    table = recorded()
    assert sorted(table) == [p.name for p in crds.files()]
    assert len(table) == 11
    for path in crds.files():
        data = path.read_bytes()
        # The git object id, as `git ls-tree` lists it at the tag.
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        assert (len(data), blob, hashlib.sha256(data).hexdigest()) == table[path.name], path.name


def test_the_source_names_the_pinned_release() -> None:
    text = SOURCE.read_text()
    assert f"- Tag: `{crds.KUEUE_VERSION}`" in text
    assert "- Commit: `8eab68778fc1b52affe165fdf5af29d1e9b4f3cb`" in text


def test_every_kind_is_stored_and_served_at_v1beta2() -> None:
    for crd in crds.vendored():
        versions = {v["name"]: v for v in crd["spec"]["versions"]}
        assert versions["v1beta2"]["served"], crd["metadata"]["name"]
        assert versions["v1beta2"]["storage"], crd["metadata"]["name"]


@functools.cache
def declared() -> list[runner.PlannedResource]:
    def program() -> None:
        provider = k8s.Provider("cluster-k8s", kubeconfig="{}")
        crds.definitions("kueue-crd", pulumi.ResourceOptions(provider=provider))

    return [
        r for r in runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program).resources if r.type == CRD
    ]


def test_every_crd_is_declared_as_the_release_manifest_has_it() -> None:
    vendored = {c["metadata"]["name"]: c for c in crds.vendored()}
    assert len(declared()) == 11
    for res in declared():
        crd = vendored[res.inputs["metadata"]["name"]]
        assert res.name == f"kueue-crd-{crd['spec']['names']['plural']}"
        assert "cluster-k8s" in str(res.provider)
        assert res.inputs["metadata"] == {**crd["metadata"], "labels": crds.LABELS}
        assert {k: v for k, v in res.inputs["spec"].items() if k != "conversion"} == crd["spec"]


def test_the_five_converted_kinds_and_no_other_convert_through_kueues_webhook() -> None:
    converted = {
        r.inputs["spec"]["names"]["plural"]: r for r in declared() if "conversion" in r.inputs["spec"]
    }
    assert sorted(converted) == ["clusterqueues", "cohorts", "localqueues", "multikueueclusters", "workloads"]
    for res in converted.values():
        assert res.inputs["spec"]["conversion"] == {
            "strategy": "Webhook",
            "webhook": {
                "clientConfig": {
                    "service": {
                        "name": "kueue-webhook-service",
                        "namespace": "kueue-system",
                        "path": "/convert",
                    }
                },
                "conversionReviewVersions": ["v1"],
            },
        }
    ignoring = {r.inputs["spec"]["names"]["plural"] for r in declared() if r.ignore_changes}
    assert ignoring == set(converted)
    assert all(
        r.ignore_changes == ["spec.conversion.webhook.clientConfig.caBundle"] for r in converted.values()
    )


def test_every_declared_crd_validates_strictly_as_kubernetes_reads_it() -> None:
    """Once here, for the stacks' plans too (tests/plan/test_manifests.py leaves these out: validating
    1.5 MB of schemas per stack would cost most of that test's time)."""
    for res in declared():
        kubernetes_validate.validate(manifest(res), "1.35.0", strict=True)
