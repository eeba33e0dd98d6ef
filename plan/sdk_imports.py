"""Faster provider-SDK imports for the offline plan, which spends most of its cold time importing them.

Each subpackage of pulumi_aws, pulumi_gcp and pulumi_azure_native (`pulumi_gcp.compute`, say) imports all
of its resource modules in its `__init__`, hundreds of them, each evaluating typed signatures at class
creation: ~1 s per cloud, most of it for classes the program never uses. `install()` makes those
subpackages load a class's own module on first access instead (`gcp.compute.Network` loads
`pulumi_gcp/compute/network.py` and the package's shared `_inputs`, `outputs` and `_enums`). A name found
nowhere that way runs the real `__init__`, so a lookup can be slow but never wrong; the classes are the
SDK's own, so the program behaves exactly as under `pulumi up`, where none of this is installed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PACKAGES = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
SHARED = ("_enums", "_inputs", "outputs")
"""Modules of a subpackage that hold many names (enums, argument and output types)."""


def module_name(name: str) -> str:
    """The generated SDKs' file naming: `RouterNat` -> `router_nat`, `PublicIPAddress` ->
    `public_ip_address`, `CryptoKeyIAMMember` -> `crypto_key_iam_member`."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", snake).lower()


class LazyPackage(types.ModuleType):
    """A provider subpackage whose names load from their own module on first access."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        root = Path(self.__path__[0])
        if (root / f"{name}.py").exists() or (root / name / "__init__.py").exists():
            module = importlib.import_module(f"{self.__name__}.{name}")
            # A data source's function shadows its module (`get_roles` in `get_roles.py`), as the
            # package's `from .get_roles import *` makes it do.
            value = module.__dict__.get(name, module)
            setattr(self, name, value)
            return value
        for candidate in (module_name(name), name.removesuffix("_output"), *SHARED):
            if (root / f"{candidate}.py").exists():
                module = importlib.import_module(f"{self.__name__}.{candidate}")
                if name in module.__dict__:
                    value = module.__dict__[name]
                    setattr(self, name, value)
                    return value
        return self._load_all(name)

    def _load_all(self, name: str) -> Any:
        """Run the real `__init__` (every module of the package), then answer as it would."""
        self.__class__ = types.ModuleType  # type: ignore[assignment]  # back to a plain module for good
        source = Path(str(self.__file__)).read_text()
        exec(compile(source, str(self.__file__), "exec"), self.__dict__)
        if name not in self.__dict__:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return self.__dict__[name]


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        parts = fullname.split(".")
        if len(parts) != 2 or parts[0] not in PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations:
            return None
        spec.loader = self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return LazyPackage(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"{module.__name__} is not a package")
        module.__file__ = spec.origin
        module.__path__ = list(spec.submodule_search_locations)
        # The SDKs' own lazy_import turns the module back into a plain one before calling this.
        module.__class__ = LazyPackage


_FINDER = _Finder()


def install() -> None:
    """Idempotent; affects subpackages imported from now on."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
