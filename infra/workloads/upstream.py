"""The third-party images the workloads run, each by version and, where it could be verified, digest.

None of them runs from its public registry: `image.ContainerImages` mirrors each one into the stack's own
registry on every cloud (WL-08: every image comes from the stack's registry, by digest), which also keeps
pulls off Docker Hub's rate limits and inside each cloud's network. An image whose upstream digest is
known is mirrored by digest. One whose digest could not be verified is mirrored by tag: `pulumi up`
copies what the tag points at then, and the pods still run the digest of that copy in the stack's
registry, so a running cluster never changes under them; the offline plan lists such images, and
`python -m preflight.images --stack NAME --write` pins them in the stack file. Bump a version here, with
the digest of its multi-arch index where known, and `pulumi up` mirrors it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    name: str
    """Tag prefix of the mirrored copy in the stack's repository."""
    repository: str
    version: str
    digest: str | None = None
    """The multi-arch index digest; None mirrors the tag."""

    @property
    def ref(self) -> str:
        tag = f":{self.version}" if self.version else ""
        return f"{self.repository}{tag}@{self.digest}" if self.digest else f"{self.repository}{tag}"

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def mirror_tag(self) -> str:
        """Unique per content: the registries keep tags immutable, so a re-pinned version needs a new tag
        (a copy by tag is made once, and keeps its tag)."""
        suffix = f"-{self.digest.removeprefix('sha256:')[:12]}" if self.digest else ""
        return f"{self.name}-{self.version or 'untagged'}{suffix}"


def from_ref(name: str, ref: str) -> Upstream:
    """An `Upstream` from a digest-pinned reference given in the stack config."""
    image, digest = ref.split("@", 1)
    repository, _, version = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return Upstream(name, repository, version, digest)


TF_SERVING = Upstream("tf-serving", "docker.io/tensorflow/serving", "2.21.0")
"""TensorFlow Serving 2.21.0, the release built on the trainer's TensorFlow 2.21 (uv.lock): TensorFlow
guarantees forward compatibility within a patch line only, so a SavedModel exported by 2.21 can fail to
load in 2.20 ("Op type not registered"). 2.21.0 is released (tensorflow-serving-api 2.21.0 on PyPI, and
the 2.22.0-rc0 notes list it); no public record of its image digest was found offline, so it is mirrored
by tag until a stack pins it."""
TF_SERVING_GPU = Upstream("tf-serving", "docker.io/tensorflow/serving", "2.21.0-gpu")
RCLONE = Upstream(
    "rclone",
    "docker.io/rclone/rclone",
    "1.75.1",
    "sha256:45401ad7410db1d67ffdb58e19059ad20b0d8e0285a60e38bbec55cc1019c7a5",
)
"""rclone, the model-sync sidecar: one maintained binary that reads S3, GCS and Azure Blob through each
cloud's workload identity (`env_auth`)."""
DEVICE_PLUGIN = Upstream(
    "nvidia-device-plugin",
    "nvcr.io/nvidia/k8s-device-plugin",
    "v0.17.0",
    "sha256:7089559ce6153018806857f5049085bae15b3bf6f1c8bd19d8b12f707d087dea",
)
"""NVIDIA's device plugin, the digest minikube's nvidia-device-plugin addon pins for v0.17.0."""
KUEUE = Upstream("kueue", "registry.k8s.io/kueue/kueue", "v0.19.2", None)
"""Kueue's controller manager (`infra/kueue/controller.py`). v0.19.2 is the newest release whose CRDs and
manifests could be read offline, and the controller must match the CRDs it serves (`infra/kueue/crds`,
from the same tag): bump them together. Its image digest could not be verified offline (public records
were found only for v0.19.3 to v0.19.5), so, like TF Serving, it is mirrored by tag until pinned:
`python -m preflight.images --stack NAME` resolves the tag to its digest and, the pin of this image living
in this file rather than in a stack file, says to record it here (`--write` edits only stack files)."""
ENVOY_GATEWAY = Upstream("envoy-gateway", "docker.io/envoyproxy/gateway", "v1.9.0")
"""Envoy Gateway's controller, certgen and the proxies' shutdown manager (`infra/gateway/envoy.py`), with
`serving.domain`. It must match the vendored CRDs (`infra/gateway/crds`): bump them together. Its digest
could not be verified offline, so it is mirrored by tag until pinned, as Kueue is."""
ENVOY = Upstream("envoy", "docker.io/envoyproxy/envoy", "distroless-v1.39.0")
"""The proxy Envoy Gateway v1.9.0 runs by default (its `DefaultEnvoyProxyImage`); mirrored by tag."""
CERT_MANAGER = {
    part: Upstream(f"cert-manager-{part}", f"quay.io/jetstack/cert-manager-{part}", "v1.21.1")
    for part in ("controller", "webhook", "cainjector")
}
"""cert-manager's three images (`infra/gateway/cert_manager.py`), with `serving.domain`; they must match its
vendored CRDs. Mirrored by tag until pinned, as Kueue is."""
