"""The third-party images the workloads run, each pinned by version and digest.

None of them runs from its public registry: `image.ContainerImages` mirrors each one into the stack's own
registry on every cloud (WL-08: every image comes from the stack's registry, by digest), which also keeps
pulls off Docker Hub's rate limits and inside each cloud's network. Bump a version here, with the digest
of its multi-arch index (`docker buildx imagetools inspect IMAGE:TAG`), and `pulumi up` mirrors it.
"""

from __future__ import annotations

from dataclasses import dataclass

DIGEST_TO_PIN = "sha256:" + "0" * 64
"""A placeholder for a digest not yet looked up: a build that mirrors it fails at `FROM` (manifest
unknown), so an unpinned image can never reach a cluster. Set the stack's `serving.image` / `gpuImage`."""


@dataclass(frozen=True)
class Upstream:
    name: str
    """Tag prefix of the mirrored copy in the stack's repository."""
    repository: str
    version: str
    digest: str

    @property
    def ref(self) -> str:
        tag = f":{self.version}" if self.version else ""
        return f"{self.repository}{tag}@{self.digest}"

    @property
    def pinned(self) -> bool:
        return self.digest != DIGEST_TO_PIN

    @property
    def mirror_tag(self) -> str:
        """Unique per digest: the registries keep tags immutable, so a re-pinned version needs a new tag."""
        return f"{self.name}-{self.version or 'untagged'}-{self.digest.removeprefix('sha256:')[:12]}"


def from_ref(name: str, ref: str) -> Upstream:
    """An `Upstream` from a digest-pinned reference given in the stack config."""
    image, digest = ref.split("@", 1)
    repository, _, version = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    return Upstream(name, repository, version, digest)


TF_SERVING = Upstream("tf-serving", "docker.io/tensorflow/serving", "2.21.0", DIGEST_TO_PIN)
"""TensorFlow Serving, the release that matches the trainer's TensorFlow 2.21 (uv.lock): a SavedModel is
only guaranteed to load in a model server at least as new as the TensorFlow that exported it."""
TF_SERVING_GPU = Upstream("tf-serving", "docker.io/tensorflow/serving", "2.21.0-gpu", DIGEST_TO_PIN)
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
