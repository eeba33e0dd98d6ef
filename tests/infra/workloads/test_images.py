"""Images: the training image built from `training/` on the home cloud only and pushed with the registry's
short-lived token, third-party images mirrored from pinned digests on every cloud, each tag naming its
content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.gateway.cluster import IMAGES as GATEWAY_IMAGES
from infra.workloads import image, upstream
from plan.runner import Plan
from tests.infra.workloads.helpers import IMAGE, Cluster
from tests.plans import planned


def images(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {r.name.rsplit("-images-", 1)[1]: r.inputs for r in cluster.resources if r.type == IMAGE}


def test_images_push_to_the_stack_registry(cluster: Cluster) -> None:
    repository = str(planned(cluster.stack).outputs["clouds"][cluster.cloud]["registry"])
    built = images(cluster)
    assert {"serving", "model-sync"} <= set(built)
    assert ("trainer" in built) == cluster.trains
    for inputs in built.values():
        assert inputs["push"] is True
        assert inputs["platforms"] == ["linux/amd64"]
        (tag,) = inputs["tags"]
        assert tag.startswith(f"{repository}:")
        assert inputs["buildOnPreview"] is False


def test_registry_password_is_a_secret(cluster: Cluster) -> None:
    for resource in (r for r in cluster.resources if r.type == IMAGE):
        assert "registries" in resource.secret_paths
        (registry,) = resource.inputs["registries"]
        assert registry["password"]
        assert "/" not in registry["address"]


def test_training_image_from_the_training_context(home_cluster: Cluster) -> None:
    trainer = images(home_cluster)["trainer"]
    assert trainer["context"] == {"location": "training"}
    assert trainer["dockerfile"] == {"location": "training/Dockerfile"}
    assert trainer["tags"][0].endswith(f":build-{image.context_digest(image.TRAINING_CONTEXT)[:16]}")


def test_mirrors_build_from_upstream_digests_or_tags(cluster: Cluster) -> None:
    """A pinned upstream is mirrored by digest, into a tag that carries it; TF Serving, Kueue and the
    gateway's images (with a domain), whose digests could not be verified offline, by their tags, into a
    tag of that version alone."""
    for key, inputs in images(cluster).items():
        if key == "trainer":
            continue
        assert inputs["context"] == {"location": "infra/workloads/mirror"}
        line = inputs["dockerfile"]["inline"].strip()
        assert line.startswith("FROM ")
        tag = inputs["tags"][0].rsplit(":", 1)[1]
        if key in {"serving", "kueue", *GATEWAY_IMAGES}:
            assert "@sha256:" not in line
            name = "tf-serving" if key == "serving" else key
            assert tag == f"{name}-{line.rsplit(':', 1)[1]}"
        else:
            assert "@sha256:" in line
            assert tag.endswith(line.split("@sha256:")[1][:12])


def test_training_image_output_is_digest_pinned(stack_plan: Plan) -> None:
    """Only the home cloud outputs a training image, from its own registry."""
    (out,) = [out for out in stack_plan.outputs["clouds"].values() if out["training"] is not None]
    assert out["training"]["image"].startswith(out["registry"] + "@sha256:")


def test_context_digest_follows_content(tmp_path: Path) -> None:
    (tmp_path / "trainer").mkdir()
    (tmp_path / "trainer" / "a.py").write_text("x = 1\n")
    (tmp_path / ".dockerignore").write_text("*\n")
    first = image.context_digest(tmp_path)
    (tmp_path / "trainer" / "__pycache__").mkdir()
    (tmp_path / "trainer" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    (tmp_path / ".pytest_cache").mkdir()
    (tmp_path / ".pytest_cache" / "x").write_text("y")
    assert image.context_digest(tmp_path) == first
    (tmp_path / "trainer" / "a.py").write_text("x = 2\n")
    assert image.context_digest(tmp_path) != first


@pytest.mark.parametrize(
    ("ref", "repository", "version"),
    [
        (
            "docker.io/tensorflow/serving:2.21.0-gpu@sha256:" + "c" * 64,
            "docker.io/tensorflow/serving",
            "2.21.0-gpu",
        ),
        ("localhost:5000/serving@sha256:" + "c" * 64, "localhost:5000/serving", ""),
    ],
)
def test_configured_upstream_refs(ref: str, repository: str, version: str) -> None:
    parsed = upstream.from_ref("tf-serving", ref)
    assert (parsed.repository, parsed.version, parsed.digest) == (repository, version, "sha256:" + "c" * 64)
    assert parsed.ref == ref
    assert parsed.mirror_tag == f"tf-serving-{version or 'untagged'}-cccccccccccc"


def test_unpinned_upstreams_are_named_as_such() -> None:
    assert not upstream.TF_SERVING.pinned
    assert upstream.RCLONE.pinned
    assert upstream.DEVICE_PLUGIN.pinned
