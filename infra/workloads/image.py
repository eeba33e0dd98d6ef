"""Container images in the stack's own registry: the training image, built from `training/`, and mirrored
copies of the third-party images (`upstream.py`), each referenced as `repository@digest`.

Tags are immutable in every registry this project creates, so each tag names its content: the trainer's
is a hash of the build context, a mirror's carries the upstream digest. Builds target linux/amd64 (the
node pools' architecture), whatever machine runs `pulumi up`, and are skipped on preview: the training
image holds several GB of CUDA wheels, and its Dockerfile is linted and its install path tested in CI.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from infra.clouds.base import BUILD_TAG_PREFIX, Registry
from infra.workloads.upstream import Upstream

ROOT = Path(__file__).resolve().parents[2]
TRAINING_CONTEXT = ROOT / "training"
MIRROR_CONTEXT = Path(__file__).resolve().parent / "mirror"
"""A near-empty directory: a mirror's Dockerfile is inline, and the default context (the working
directory) would make the builder hash the whole checkout."""
SKIPPED = {"__pycache__", "build", "dist"}


def context_digest(directory: Path) -> str:
    """A stable hash of a build context's files (names and bytes), caches and hidden directories left out."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if not path.is_file() or path.suffix == ".pyc":
            continue
        if any(
            p in SKIPPED or p.endswith(".egg-info") or (p.startswith(".") and p != rel.name)
            for p in rel.parts
        ):
            continue
        digest.update(rel.as_posix().encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def relative(path: Path) -> str:
    """`path` relative to the working directory: the builder resolves paths from there, and a relative
    input stays equal across machines, so moving the checkout does not rebuild the image."""
    return os.path.relpath(path, Path.cwd())


@dataclass(frozen=True, kw_only=True)
class ContainerImagesArgs:
    registry: Registry
    trainer: bool
    """Whether this cluster runs the trainer image (the home cloud: training and replication)."""
    prebuilt_trainer: str | None
    """A digest-pinned training image built elsewhere (a CI); None builds `training/`."""
    mirrors: Mapping[str, Upstream]


class ContainerImages(pulumi.ComponentResource):
    trainer: pulumi.Output[str] | None
    mirrored: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ContainerImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:ContainerImages", name, None, opts)
        provider = docker_build.Provider(f"{name}-builder", opts=pulumi.ResourceOptions(parent=self))
        # A push waits for the registry (through its repository input) and for the pusher's grant, if any.
        self._opts = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=list(args.registry.push_after)
        )
        self._registry = args.registry
        if not args.trainer:
            self.trainer = None
        elif args.prebuilt_trainer:
            self.trainer = pulumi.Output.from_input(args.prebuilt_trainer)
        else:
            self.trainer = self._build(
                f"{name}-trainer",
                tag=f"{BUILD_TAG_PREFIX}{context_digest(TRAINING_CONTEXT)[:16]}",
                context=TRAINING_CONTEXT,
                dockerfile={"location": relative(TRAINING_CONTEXT / "Dockerfile")},
            )
        self.mirrored = {
            key: self._build(
                f"{name}-{key}",
                tag=upstream.mirror_tag,
                context=MIRROR_CONTEXT,
                dockerfile={"inline": f"FROM {upstream.ref}\n"},
            )
            for key, upstream in args.mirrors.items()
        }
        self.register_outputs({"trainer": self.trainer, **self.mirrored} if self.trainer else self.mirrored)

    def _build(
        self, name: str, *, tag: str, context: Path, dockerfile: docker_build.DockerfileArgsDict
    ) -> pulumi.Output[str]:
        """Build and push one image; its reference is the repository pinned to the pushed digest."""
        auth = self._registry.auth
        image = docker_build.Image(
            name,
            context={"location": relative(context)},
            dockerfile=dockerfile,
            platforms=[docker_build.Platform.LINUX_AMD64],
            push=True,
            build_on_preview=False,
            tags=[pulumi.Output.concat(self._registry.repository, ":", tag)],
            registries=[{"address": auth.address, "username": auth.username, "password": auth.password}],
            opts=self._opts,
        )
        return pulumi.Output.concat(self._registry.repository, "@", image.digest)
