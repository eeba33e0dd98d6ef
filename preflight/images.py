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
import copy
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import config
from infra.config import StackConfig
from infra.naming import PROJECT
from infra.workloads import upstream
from plan import stackfile
from preflight import oci

EXIT_OK, EXIT_UNRESOLVED, EXIT_INVALID_CONFIG = 0, 1, 2
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
UPSTREAM_FILE = "infra/workloads/upstream.py"
VERSIONS_FILE = "infra/versions.py"


@dataclass(frozen=True)
class Target:
    """Where `--write` puts an image's pin: a field of a section of the stack's config."""

    section: str
    """The config key without the project prefix: `serving`, `aws`."""
    key: str
    """The field as the stack file spells it (camelCase)."""
    field: str
    """The same field in the config model (snake_case)."""

    def __str__(self) -> str:
        return f"{PROJECT}:{self.section}.{self.key}"


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


class WriteError(Exception):
    """The pins could not be placed in the stack file without touching anything else."""


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def edit_stack_text(
    text: str, pins: Mapping[Target, str], *, project: str, effective: Mapping[str, str]
) -> str:
    """`text` (a stack file) with each target's line set to its pin, and nothing else changed.

    An existing value is replaced in place (its quoting kept); a missing key is added after the last
    line of its section, at that section's indentation; a missing section is added at the end of
    `config` with the values it has now (`effective`, the loader's flat map: Pulumi.yaml's defaults)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise WriteError(f"the stack file is not YAML: {exc}") from None
    cfg_node = _entry(root, ("config",))
    if not isinstance(cfg_node, yaml.MappingNode) or cfg_node.flow_style:
        raise WriteError("the stack file has no block mapping `config:`")
    newline = "\r\n" if "\r\n" in text else "\n"
    edits = []
    for target, value in pins.items():
        section = _entry(cfg_node, (f"{project}:{target.section}", target.section))
        if section is None:
            current = json.loads(effective.get(f"{project}:{target.section}") or "{}")
            values = {**(current if isinstance(current, dict) else {}), target.key: value}
            block = yaml.safe_dump(
                {f"{project}:{target.section}": values}, default_flow_style=False, sort_keys=False, width=4096
            )
            indent = " " * _indent(cfg_node)
            lines = [indent + line for line in block.splitlines()]
            edits.append(_insert_after(text, cfg_node, newline + newline.join(lines)))
        elif isinstance(section, yaml.MappingNode):
            edits.append(_set(text, section, target, value, newline))
        else:
            raise WriteError(f"{project}:{target.section} is not a mapping: set {target.key} by hand")
    result = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        result = result[: edit.start] + edit.text + result[edit.end :]
    return result


def _entry(node: yaml.Node | None, keys: tuple[str, ...]) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value in keys), None)


def _set(text: str, section: yaml.MappingNode, target: Target, value: str, newline: str) -> _Edit:
    node = _entry(section, (target.key,))
    if node is None:
        if section.flow_style:
            close = text.rfind("}", 0, section.end_mark.index)
            separator = ", " if section.value else ""
            return _Edit(close, close, f"{separator}{target.key}: {value}")
        line = " " * _indent(section) + f"{target.key}: {value}"
        return _insert_after(text, section, newline + line)
    if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">"):
        raise WriteError(f"{target} is not a one-line value: set it to {value} by hand")
    quote = node.style if node.style in ('"', "'") else ""
    return _Edit(node.start_mark.index, node.end_mark.index, f"{quote}{value}{quote}")


def _indent(mapping: yaml.MappingNode) -> int:
    if not mapping.value:
        raise WriteError("an empty mapping has no indentation to follow: add the pin by hand")
    return int(mapping.value[0][0].start_mark.column)


def _insert_after(text: str, node: yaml.Node, addition: str) -> _Edit:
    """Insert `addition` (starting with a newline) at the end of the line that ends `node`'s content."""
    end = _content_end(node)
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    line_end = text.find("\n", end)
    at = len(text) if line_end < 0 else line_end - (1 if text[line_end - 1] == "\r" else 0)
    return _Edit(at, at, addition)


def _content_end(node: yaml.Node) -> int:
    """Where a node's own text ends: a block collection's end mark is the next token, past comments."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _content_end(last[1] if isinstance(last, tuple) else last)
    return int(node.end_mark.index)


def expected_doc(
    doc: dict[str, Any], pins: Mapping[Target, str], *, project: str, effective: Mapping[str, str]
) -> Any:
    """The stack document as `edit_stack_text` should leave it."""
    expected = copy.deepcopy(doc)
    values = expected["config"]
    for target, value in pins.items():
        key = next((k for k in (f"{project}:{target.section}", target.section) if k in values), None)
        if key is None:
            key = f"{project}:{target.section}"
            values[key] = json.loads(effective.get(key) or "{}")
        values[key][target.key] = value
    return expected


def check_document(
    raw: str, text: str, pins: Mapping[Target, str], *, project: str, effective: Mapping[str, str]
) -> None:
    """The edited text must load as the same YAML document, with only the pinned values set."""
    if yaml.safe_load(text) != expected_doc(yaml.safe_load(raw), pins, project=project, effective=effective):
        raise WriteError("the edit would change more than the pinned values")


def verify(
    root: Path,
    stack: str,
    new_text: str,
    *,
    old: stackfile.StackFiles,
    cfg: StackConfig,
    pins: Mapping[Target, str],
) -> None:
    """Load `new_text` with the plan's stack loader (beside the project's own Pulumi.yaml) and check it
    parses to `cfg` with exactly the pinned fields changed."""
    with tempfile.TemporaryDirectory(prefix="preflight-images-") as tmp:
        shutil.copyfile(root / "Pulumi.yaml", Path(tmp) / "Pulumi.yaml")
        (Path(tmp) / f"Pulumi.{stack}.yaml").write_text(new_text)
        try:
            files = stackfile.load(Path(tmp), stack)
            new_cfg = config.parse(config.read_raw(files.config.get), stack=stack)
        except (stackfile.StackFileError, config.ConfigError) as exc:
            raise WriteError(f"the edited file does not load: {exc}") from None
    touched = {f"{old.project}:{t.section}" for t in pins}
    others = {k for k in set(old.config) | set(files.config) if k not in touched}
    changed = sorted(k for k in others if old.config.get(k) != files.config.get(k))
    if changed:
        raise WriteError(f"the edit would change other keys too: {', '.join(changed)}")
    expected = cfg
    for section in {t.section for t in pins}:
        fields = {t.field: v for t, v in pins.items() if t.section == section}
        expected = expected.model_copy(update={section: getattr(cfg, section).model_copy(update=fields)})
    if new_cfg != expected:
        raise WriteError("the edited file does not parse to the same config plus the pins")


def write_pins(root: Path, stack: str, pins: Mapping[Target, str]) -> None:
    """Edit `Pulumi.<stack>.yaml`, check the result, and replace the file atomically."""
    path = root / f"Pulumi.{stack}.yaml"
    old = stackfile.load(root, stack)
    cfg = config.parse(config.read_raw(old.config.get), stack=stack)
    raw = path.read_bytes().decode()
    text = edit_stack_text(raw, pins, project=old.project, effective=old.config)
    check_document(raw, text, pins, project=old.project, effective=old.config)
    verify(root, stack, text, old=old, cfg=cfg, pins=pins)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
