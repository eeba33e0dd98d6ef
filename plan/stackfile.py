"""Read a stack's config the way the Pulumi CLI does: `Pulumi.yaml` declarations and defaults, then
`Pulumi.<stack>.yaml` values, checked against the declarations.

The result is the flat `{"namespace:key": "string"}` map that the language host hands a Python program
(objects, arrays, numbers and booleans JSON-encoded). `secure:` values become placeholders: the plan
never decrypts anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "plan-placeholder-secret"
_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


class StackFileError(Exception):
    """The project or stack file is unreadable or breaks its declarations (as `pulumi` would refuse it)."""


@dataclass(frozen=True)
class StackFiles:
    project: str
    program_dir: Path
    config: dict[str, str]
    secret_keys: tuple[str, ...]


def load(root: Path, stack: str, overrides: dict[str, Any] | None = None) -> StackFiles:
    """Merge `Pulumi.yaml` defaults with `Pulumi.<stack>.yaml` (and `overrides`, for tests)."""
    project_doc = _read(root / "Pulumi.yaml")
    project = str(project_doc.get("name") or "")
    if not project:
        raise StackFileError(f"{root / 'Pulumi.yaml'}: missing `name`")
    stack_path = root / f"Pulumi.{stack}.yaml"
    if not stack_path.exists() and overrides is None:
        raise StackFileError(f"{stack_path}: no such stack file")
    values = dict((_read(stack_path) if stack_path.exists() else {}).get("config") or {})
    values.update(overrides or {})
    declared = project_doc.get("config") or {}
    config, secrets = _merge(project, declared, values)
    main = str(project_doc.get("main") or ".")
    return StackFiles(project, (root / main).resolve(), config, secrets)


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise StackFileError(f"{path}: {exc}") from exc
    return doc if isinstance(doc, dict) else {}


def _merge(
    project: str, declared: dict[str, Any], values: dict[str, Any]
) -> tuple[dict[str, str], tuple[str, ...]]:
    config: dict[str, str] = {}
    secrets: list[str] = []
    for raw_key, value in values.items():
        key = raw_key if ":" in raw_key else f"{project}:{raw_key}"
        namespace, name = key.split(":", 1)
        decl = declared.get(name) if namespace == project else None
        if namespace == project and name not in declared:
            raise StackFileError(f"stack config key '{key}' is not declared in Pulumi.yaml `config`")
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secrets.append(key)
            continue
        if decl and "type" in decl and not _TYPE_CHECKS[decl["type"]](value):
            raise StackFileError(f"stack config key '{key}' must be of type '{decl['type']}'")
        config[key] = _encode(value)
    for name, decl in declared.items():
        key = name if ":" in name else f"{project}:{name}"
        if key in config:
            continue
        if isinstance(decl, dict) and "default" in decl:
            config[key] = _encode(decl["default"])
        elif isinstance(decl, dict) and "value" in decl:
            config[key] = _encode(decl["value"])
        elif not isinstance(decl, dict):
            config[key] = _encode(decl)
        elif namespace_of(key) == project:
            raise StackFileError(f"stack is missing configuration value '{name}' (declared in Pulumi.yaml)")
    return config, tuple(secrets)


def namespace_of(key: str) -> str:
    return key.split(":", 1)[0]


def _encode(value: Any) -> str:
    """Pulumi passes strings as-is and every other value JSON-encoded."""
    return value if isinstance(value, str) else json.dumps(value)
