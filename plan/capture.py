"""What the offline plan records: every resource registration the program makes, as the engine sees it.

`CaptureMonitor` wraps the SDK's `MockMonitor`: it keeps the whole registration request (parent, provider,
dependencies, resource options) that `Mocks.new_resource` alone never sees, and answers with the fakes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks, rpc

from plan import fakes

SECRET_MARK = "[secret]"
CLOUD_TOKENS = ("aws", "gcp", "azure")
_PROVIDER_CLOUDS = {"aws": "aws", "gcp": "gcp", "azure-native": "azure"}


@dataclass
class Captured:
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    depends_on: list[str]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    secret_paths: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Per input, the URNs its value came from (unlike `depends_on`, no `depends_on` option expansion)."""
    providers: list[str] = field(default_factory=list)
    """A component's `providers` option: the providers its children inherit (URNs)."""


def unwrap_secrets(value: Any, path: str = "", found: list[str] | None = None) -> tuple[Any, list[str]]:
    """Replace each secret in `value` by its plain content, noting where each one was."""
    found = [] if found is None else found
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        found.append(path or ".")
        return unwrap_secrets(value.get("value"), path, found)[0], found
    if isinstance(value, dict):
        return {k: unwrap_secrets(v, f"{path}.{k}" if path else k, found)[0] for k, v in value.items()}, found
    if isinstance(value, list):
        return [unwrap_secrets(v, f"{path}[{i}]", found)[0] for i, v in enumerate(value)], found
    return value, found


def redact(value: Any, paths: list[str], path: str = "", *, keep_keys: bool = False) -> Any:
    """A copy of `value` with the content at each secret path replaced by SECRET_MARK; with `keep_keys`, a
    secret map keeps its keys and each value is marked, so that the object keeps its schema's shape (a
    Kubernetes Secret's `stringData`, say)."""
    if (path or ".") in paths:
        if keep_keys and isinstance(value, dict):
            return dict.fromkeys(value, SECRET_MARK)
        return SECRET_MARK
    if isinstance(value, dict):
        return {
            k: redact(v, paths, f"{path}.{k}" if path else k, keep_keys=keep_keys) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, paths, f"{path}[{i}]", keep_keys=keep_keys) for i, v in enumerate(value)]
    return value


class CaptureMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: mocks.Mocks) -> None:
        super().__init__(mocks_)
        self.captured: dict[str, Captured] = {}
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs, secret_paths = unwrap_secrets(rpc.deserialize_properties(request.object))
        deps = set(request.dependencies)
        by_property = {key: sorted(value.urns) for key, value in request.propertyDependencies.items()}
        for urns in by_property.values():
            deps.update(urns)
        captured = Captured(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            custom=bool(request.custom),
            inputs=inputs,
            depends_on=sorted(deps),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=list(request.ignoreChanges),
            secret_paths=secret_paths,
            property_dependencies=by_property,
            providers=sorted(ref.rsplit("::", 1)[0] for ref in request.providers.values()),
        )
        with self._lock:
            self.captured[response.urn] = captured
        return response

    def cloud_of(self, urn: str | None, seen: frozenset[str] = frozenset()) -> str | None:
        """The cloud a resource belongs to: from its component tree, else from its provider's tree, else
        from the providers a cloud-agnostic component hands its children (the workloads get the cloud of
        the Kubernetes provider they were given)."""
        if urn is None or urn in seen or urn not in self.captured:
            return None
        res = self.captured[urn]
        parts = res.type.split(":")
        if parts[0] == "gpu-platform" and parts[1] in CLOUD_TOKENS:
            return parts[1]
        if parts[0] == "pulumi" and parts[1] == "providers" and parts[2] in _PROVIDER_CLOUDS:
            return _PROVIDER_CLOUDS[parts[2]]
        seen = seen | {urn}
        found = self.cloud_of(res.parent, seen) or self.cloud_of(res.provider, seen)
        return found or next(filter(None, (self.cloud_of(p, seen) for p in res.providers)), None)


class PlanMocks(mocks.Mocks):
    """Answers registrations and invokes with plausible cloud outputs (see `plan.fakes`)."""

    def __init__(self, stack: str) -> None:
        self.stack = stack

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs, _ = unwrap_secrets(args.inputs)
        return fakes.resource(args.typ, args.name, inputs, self.stack)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]]]:
        # An empty failure list, not None: the SDK's MockMonitor iterates it.
        return fakes.invoke(args.token, unwrap_secrets(args.args)[0]), []
