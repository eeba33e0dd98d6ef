"""`--render-k8s DIR`: every Kubernetes object of the plan as a YAML manifest, one file each, from its
captured inputs: apiVersion and kind from the type token (`kubernetes:apps/v1:Deployment`, the core group
as plain `v1`), the rest as declared. Secrets stay redacted, in place of each value of a secret map."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from plan.capture import redact
from plan.runner import Plan, PlannedResource
from policy.model.k8s import is_object

SAFE = re.compile(r"[^a-z0-9.-]+")


def api_version(type_: str) -> tuple[str, str]:
    """(apiVersion, kind) of a `kubernetes:<group>/<version>:<Kind>` type token."""
    _, group_version, kind = type_.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def integral(value: Any) -> Any:
    """The mock engine passes numbers as floats; Kubernetes schemas want integers (replicas: 2)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def manifest(res: PlannedResource) -> dict[str, Any]:
    version, kind = api_version(res.type)
    body = integral(redact(res.inputs, res.secret_paths, keep_keys=True))
    body.pop("apiVersion", None)
    body.pop("kind", None)
    metadata = dict(body.pop("metadata", None) or {})
    # Pulumi auto-names objects without a name (logical name plus a random suffix); the logical name
    # stands in for it here.
    metadata.setdefault("name", res.name)
    return {"apiVersion": version, "kind": kind, "metadata": metadata, **body}


def objects(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.custom and is_object(r.type)]


def file_name(res: PlannedResource, doc: dict[str, Any]) -> str:
    meta = doc["metadata"]
    parts = [doc["kind"], meta.get("namespace") or "cluster", meta["name"]]
    return SAFE.sub("-", "_".join(str(p).lower() for p in parts)).strip("-") + ".yaml"


def write(plan: Plan, out: Path) -> list[Path]:
    """Write each object under `out/<cloud>/`; returns the files written."""
    written = []
    for res in objects(plan):
        doc = manifest(res)
        path = out / (res.cloud or "any") / file_name(res, doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        written.append(path)
    return written
