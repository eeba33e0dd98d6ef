"""Look up a Pulumi type token in the installed provider SDKs: the class that registers it, and whether a
wire (camelCase) property name exists on it or its input types."""

from __future__ import annotations

import functools
import importlib
import inspect
from pathlib import Path

PACKAGES = {
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure-native": "pulumi_azure_native",
    "kubernetes": "pulumi_kubernetes",
    "docker-build": "pulumi_docker_build",
}


def _module(package: str, module: str) -> str:
    if package == "kubernetes":
        # `apps/v1` -> apps.v1, `networking.k8s.io/v1` -> networking.v1, `helm.sh/v3` -> helm.v3
        group, version = module.split("/")
        return f"{PACKAGES[package]}.{group.split('.')[0]}.{version}"
    if module == "index":
        return PACKAGES[package]
    return f"{PACKAGES[package]}.{module.split('/', maxsplit=1)[0]}"


@functools.cache
def source(token: str) -> str:
    """The source of the SDK class registering `token`, plus its package's input types."""
    package, module, name = token.split(":")
    cls = getattr(importlib.import_module(_module(package, module)), name)
    path = Path(str(inspect.getsourcefile(cls)))
    text = path.read_text()
    if f'"{token}"' not in text and f"'{token}'" not in text:
        raise AssertionError(f"{cls.__module__}.{name} does not register {token}")
    inputs = [path.parent / "_inputs.py", path.parent / "_enums.py"]
    if package == "kubernetes":
        inputs.append(path.parents[2] / "meta" / "v1" / "_inputs.py")
    return text + "".join(p.read_text() for p in inputs if p.exists())


def has_property(token: str, prop: str) -> bool:
    text = source(token)
    return f'name="{prop}"' in text or f"def {prop}(self)" in text


def has_value(token: str, value: str) -> bool:
    """An enum value (Azure's `Spot`, `Ephemeral`...) in the SDK's enums or docstrings."""
    return f'"{value}"' in source(token) or f"`{value}`" in source(token)
