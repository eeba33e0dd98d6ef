"""`--write`: pin digests into `Pulumi.<stack>.yaml` by editing its text, so comments, quoting and layout
stay as they were, then prove the edit changed exactly the pinned values before replacing the file
atomically."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import config
from infra.config import StackConfig
from infra.naming import PROJECT
from plan import stackfile


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
