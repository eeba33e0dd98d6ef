"""Resource names, labels and tags: one place decides how gpu-platform names and marks what it creates."""

from __future__ import annotations

import hashlib
import re

PROJECT = "gpu-platform"
MANAGED_BY = "pulumi-gpu-platform"


def resource_name(stack: str, *parts: str) -> str:
    """`<stack>-<parts...>`, lowercase, the logical-name stem every component uses."""
    return "-".join([stack, *parts]).lower()


def labels(stack: str, cloud: str, component: str) -> dict[str, str]:
    """Labels valid on every cloud and in Kubernetes: lowercase `[a-z0-9_-]` keys and values, <= 63 chars."""
    return {
        "project": PROJECT,
        "stack": _label_value(stack),
        "cloud": cloud,
        "component": _label_value(component),
        "managed-by": MANAGED_BY,
    }


def tags(stack: str, cloud: str, component: str) -> dict[str, str]:
    """AWS and Azure tags: the same facts as labels, keys in the clouds' usual `Title` form."""
    return {
        "Project": PROJECT,
        "Stack": stack,
        "Cloud": cloud,
        "Component": component,
        "ManagedBy": MANAGED_BY,
    }


def short_hash(*parts: str, length: int = 8) -> str:
    """A stable short digest, for names that must change when their inputs do (a Job per image+config)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def _label_value(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63].strip("-_")
