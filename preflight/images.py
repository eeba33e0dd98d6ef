"""`python -m preflight.images --stack NAME [--write] [--cwd DIR]`: the upstream images a stack runs, each
tag resolved online to the digest a pull would use today, compared with the digest pinned for it.

The images: TF Serving for the serving pool (`serving.image` on CPU nodes, `serving.gpuImage` on a GPU
pool, else the release in `infra/workloads/upstream.py`), the Cluster Autoscaler when AWS is enabled
(`aws.clusterAutoscalerImage`), and rclone and the NVIDIA device plugin (`upstream.py`). An image whose
digest is missing is not pinned: `pulumi up` mirrors it by tag.

`--write` pins the stack file's two image keys, `gpu-platform:serving.image` (or `.gpuImage`) as
`REPO:TAG@sha256:...` and the digest of `gpu-platform:aws.clusterAutoscalerImage`, with a targeted edit
of those lines: comments, order and formatting stay as they are. The edited file is re-read with the
plan's stack loader and must parse to the same config apart from those values before it replaces the
old one (atomically). rclone and the device plugin are pinned in `upstream.py`, which is code to review:
the command says what to change there and edits nothing.

Exit codes: 0 every digest resolved (and, with --write, pinned); 1 a digest could not be resolved, or the
pins could not be written; 2 the stack file or its config is invalid.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra import config
from infra.config import StackConfig
from infra.workloads import upstream
from plan import stackfile
from preflight import oci
from preflight.pins import Target, WriteError, write_pins

EXIT_OK, EXIT_UNRESOLVED, EXIT_INVALID_CONFIG = 0, 1, 2
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
UPSTREAM_FILE = "infra/workloads/upstream.py"
VERSIONS_FILE = "infra/versions.py"


@dataclass(frozen=True)
class Image:
    name: str
    repository: str
    tag: str
    pinned: str | None
    """The digest pinned for it now; None when it is not pinned (mirrored by tag)."""
    source: str
    """Where that pin lives: a stack config key or `upstream.py`."""
    target: Target | None
    """Where `--write` pins it; None for the images pinned only in `upstream.py`."""

    @property
    def tagged(self) -> str:
        return f"{self.repository}:{self.tag}" if self.tag else self.repository

    def pin(self, digest: str) -> str:
        return f"{self.tagged}@{digest}"


@dataclass(frozen=True)
class Resolved:
    image: Image
    digest: str | None
    error: str | None = None

    @property
    def matches(self) -> bool:
        return self.digest is not None and self.digest == self.image.pinned


def pinned_digest(image: upstream.Upstream) -> str | None:
    """The digest an `Upstream` pins: None for a tag-only one."""
    digest: str | None = image.digest
    return digest if digest and DIGEST.match(digest) else None


def split_ref(ref: str) -> tuple[str, str, str | None]:
    """`REPO[:TAG][@DIGEST]` as (repository, tag, digest); a registry's `:port` is not a tag."""
    name, _, digest = ref.partition("@")
    repository, tag = name, ""
    if ":" in name.rsplit("/", 1)[-1]:
        repository, tag = name.rsplit(":", 1)
    return repository, tag, (digest if DIGEST.match(digest) else None)


def from_upstream(name: str, image: upstream.Upstream, target: Target | None) -> Image:
    return Image(name, image.repository, image.version, pinned_digest(image), UPSTREAM_FILE, target)


def from_config(name: str, ref: str, target: Target, source: str | None = None) -> Image:
    repository, tag, digest = split_ref(ref)
    return Image(name, repository, tag, digest, source or str(target), target)


def stack_images(cfg: StackConfig) -> list[Image]:
    """The upstream images the stack runs, the way `infra.workloads.mirrors` picks them, plus the
    autoscaler; the device plugin is listed whichever clouds need it (only some lack their own)."""
    on_gpu = cfg.pool(cfg.serving.pool) is not None
    serving = Target("serving", "gpuImage", "gpu_image") if on_gpu else Target("serving", "image", "image")
    configured: str | None = getattr(cfg.serving, serving.field)
    default = upstream.TF_SERVING_GPU if on_gpu else upstream.TF_SERVING
    images = [
        from_config("serving", configured, serving)
        if configured
        else from_upstream("serving", default, serving)
    ]
    if "aws" in cfg.clouds and cfg.aws is not None:
        autoscaler = Target("aws", "clusterAutoscalerImage", "cluster_autoscaler_image")
        # Unset in the stack, it is the release infra/versions.py records for the stack's minor.
        source = None if cfg.aws.cluster_autoscaler_image else VERSIONS_FILE
        images.append(from_config("cluster-autoscaler", cfg.aws.autoscaler_image(), autoscaler, source))
    images.append(from_upstream("model-sync", upstream.RCLONE, None))
    images.append(from_upstream("device-plugin", upstream.DEVICE_PLUGIN, None))
    return images


def resolve_all(images: Sequence[Image], resolve: Callable[[str], str]) -> list[Resolved]:
    results = []
    for image in images:
        if not image.tag:
            results.append(Resolved(image, None, f"{image.repository}: no tag to resolve"))
            continue
        try:
            results.append(Resolved(image, resolve(image.tagged)))
        except oci.RegistryError as exc:
            results.append(Resolved(image, None, str(exc)))
    return results


def status(result: Resolved) -> str:
    image = result.image
    if result.digest is None:
        return f"UNRESOLVED: {result.error}"
    if result.matches:
        return "matches"
    where = f"pin it in {image.target}" if image.target else f"update the digest in {UPSTREAM_FILE}"
    if image.pinned is None:
        return f"NOT PINNED (mirrored by tag): {where}"
    return f"DIFFERS (the tag has moved, or the pin names another build): {where}"


def report(results: Sequence[Resolved]) -> str:
    lines = []
    for result in results:
        image = result.image
        lines += [
            f"{image.name}: {image.tagged}",
            f"  found   {result.digest or '-'}",
            f"  pinned  {image.pinned or 'not pinned'} ({image.source})",
            f"  status  {status(result)}",
        ]
    return "\n".join(lines)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m preflight.images",
        description=__doc__,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--write", action="store_true", help="pin the resolved digests in the stack file")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (default: .)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, resolve: Callable[[str], str] | None = None) -> int:
    args = _args(argv)
    try:
        files = stackfile.load(args.cwd, args.stack)
        cfg = config.parse(config.read_raw(files.config.get), stack=args.stack)
    except (stackfile.StackFileError, config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    results = resolve_all(stack_images(cfg), resolve or oci.resolve)
    pins = {
        r.image.target: r.image.pin(r.digest)
        for r in results
        if r.digest is not None and r.image.target is not None and not r.matches
    }
    print(f"stack {args.stack}: {len(results)} upstream images")
    print(report(results))
    failed = [r for r in results if r.digest is None]
    if args.write and pins:
        try:
            write_pins(args.cwd, args.stack, pins)
        except (WriteError, OSError, stackfile.StackFileError, config.ConfigError) as exc:
            print(f"error: nothing written to Pulumi.{args.stack}.yaml: {exc}", file=sys.stderr)
            return EXIT_UNRESOLVED
        print(f"wrote Pulumi.{args.stack}.yaml:")
        print("\n".join(f"  {target}: {ref}" for target, ref in pins.items()))
    elif pins:
        print(f"run with --write to pin {', '.join(str(t) for t in pins)} in Pulumi.{args.stack}.yaml")
    if failed:
        print(f"error: {len(failed)} digest(s) could not be resolved", file=sys.stderr)
        return EXIT_UNRESOLVED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
