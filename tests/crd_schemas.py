"""Objects of vendored CRDs checked as the API server would check them on create.

A `Schemas` holds the CRDs of one or more releases. Each kind's schema, that of the served version
Kubernetes prefers (the one we write), is made strict first: `additionalProperties: false` wherever an
object schema lists its `properties` and says nothing of other keys, because the API server drops an
unknown field with at most a warning, so a misspelt or outdated field would vanish silently. jsonschema
then checks the object. The server's further checks follow on the object with the schema's defaults
applied: list-type uniqueness, and the CEL rules (`x-kubernetes-validations`), reported with the CRD's
own message. A rule is checked by its re-implementation in `rules` (keyed by its text, whitespace
collapsed) where there is one; otherwise, given `cel=True`, it is evaluated by cel-python with the
functions of Kubernetes' CEL library that the rules call (`KUBERNETES_FUNCTIONS`); otherwise it is
reported, so that a new release cannot add one unnoticed. A rule cel-python cannot evaluate is reported
with its error, as the server reports one. Transition rules (those that read `oldSelf`, such as immutable
fields) need the object's previous state and are not checked.

It lives in the tests, not in `infra/`, because jsonschema and cel-python are test dependencies only.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import celpy
import jsonschema
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from plan.manifests import integral

Obj = dict[str, Any]
Rule = Callable[[Any], bool]


@dataclass(frozen=True)
class Kind:
    name: str
    group: str
    plural: str
    namespaced: bool
    served: tuple[str, ...]
    storage: str
    written: str
    """The served version Kubernetes prefers, which we write and validate against."""


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' ordering of API versions, highest first when sorted in reverse: GA before beta before
    alpha, then the larger number (v1 > v1beta2 > v1beta1 > v1alpha1)."""
    found = _VERSION.match(version)
    if found is None:
        return (-1, 0, 0)
    major, level, minor = found.groups()
    return ({None: 2, "beta": 1, "alpha": 0}[level], int(major), int(minor or 0))


def _kind(spec: Obj) -> Kind:
    served = tuple(v["name"] for v in spec["versions"] if v["served"])
    return Kind(
        name=spec["names"]["kind"],
        group=spec["group"],
        plural=spec["names"]["plural"],
        namespaced=spec["scope"] == "Namespaced",
        served=served,
        storage=next(v["name"] for v in spec["versions"] if v.get("storage")),
        written=max(served, key=priority),
    )


def normal(rule: str) -> str:
    """A CEL rule with its whitespace collapsed: the key of a `Schemas`' `rules`."""
    return " ".join(rule.split())


def transition(rule: str) -> bool:
    return "oldSelf" in rule


def strict(node: Any) -> Any:
    """A copy of a schema that refuses unknown keys (see the module). Go's regular expressions take an
    inline flag anywhere (`^(?i)[a-z]...`), Python's only first."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    open_ended = "additionalProperties" in out or out.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and not open_ended:
        out["additionalProperties"] = False
    if isinstance(out.get("pattern"), str) and "(?i)" in out["pattern"]:
        out["pattern"] = "(?i)" + out["pattern"].replace("(?i)", "")
    return out


def _child(node: Obj, key: str) -> Obj | None:
    if key in node.get("properties", {}):
        found: Obj = node["properties"][key]
        return found
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def defaulted(node: Obj, value: Any) -> Any:
    """`value` with the schema's defaults filled in where a field is absent, as the API server does
    before it evaluates CEL rules."""
    if isinstance(value, dict):
        out = {k: defaulted(c, v) if (c := _child(node, k)) else v for k, v in value.items()}
        for key, prop in node.get("properties", {}).items():
            if key not in out and "default" in prop:
                out[key] = defaulted(prop, copy.deepcopy(prop["default"]))
        return out
    if isinstance(value, list) and "items" in node:
        return [defaulted(node["items"], v) for v in value]
    return value


def dotted(parts: Iterable[str | int]) -> str:
    """A path as `spec.resourceGroups[0].flavors`; `.` for the object itself."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text.lstrip(".") or "."


def _duplicates(node: Obj, items: list[Any]) -> list[str]:
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "set":
        keys: list[Any] = [repr(i) for i in items]
    elif list_type == "map":
        keys = [repr({k: i.get(k) for k in node["x-kubernetes-list-map-keys"]}) for i in items]
    else:
        return []
    return [f"Duplicate value: {k}" for n, k in enumerate(keys) if k in keys[:n]]


def _is_ip(text: Any) -> celtypes.BoolType:
    # Kubernetes' isIP refuses IPv4-mapped IPv6 and zones, as Python's parser does not.
    try:
        address = ipaddress.ip_address(str(text))
    except ValueError:
        return celtypes.BoolType(False)
    mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
    return celtypes.BoolType(not mapped and "%" not in str(text))


def _split(text: Any, separator: Any) -> celtypes.ListType:
    return celtypes.ListType([celtypes.StringType(s) for s in str(text).split(str(separator))])


def _substring(text: Any, start: Any, end: Any = None) -> celtypes.StringType:
    return celtypes.StringType(str(text)[int(start) : None if end is None else int(end)])


KUBERNETES_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "isIP": _is_ip,
    "lowerAscii": lambda s: celtypes.StringType(str(s).lower()),
    "upperAscii": lambda s: celtypes.StringType(str(s).upper()),
    "split": _split,
    "substring": _substring,
}
"""The functions of Kubernetes' CEL library (cel-go's strings extension and its own) that the vendored
rules call and cel-python lacks."""


@functools.cache
def program(rule: str) -> celpy.Runner:
    """The compiled CEL `rule`, with `KUBERNETES_FUNCTIONS`; compiled once per rule."""
    env = celpy.Environment()
    return env.program(env.compile(rule), functions=KUBERNETES_FUNCTIONS)


class Schemas:
    """The kinds of a set of CRDs, and a strict check of their objects (see the module)."""

    def __init__(
        self, name: str, crds: Callable[[], Iterable[Obj]], rules: Mapping[str, Rule], *, cel: bool
    ) -> None:
        self.name = name
        self.rules = rules
        self.cel = cel
        self._crds = crds

    @functools.cached_property
    def _by_kind(self) -> dict[str, Obj]:
        return {crd["spec"]["names"]["kind"]: crd for crd in self._crds()}

    @functools.cached_property
    def kinds(self) -> dict[str, Kind]:
        """Every kind the CRDs define, by name."""
        return {name: _kind(crd["spec"]) for name, crd in self._by_kind.items()}

    def schema(self, kind: str) -> Obj:
        """The schema of the version we write of `kind`, as the CRD gives it."""
        written = self.kinds[kind].written
        (version,) = (v for v in self._by_kind[kind]["spec"]["versions"] if v["name"] == written)
        found: Obj = version["schema"]["openAPIV3Schema"]
        return found

    @functools.cache  # noqa: B019 - a Schemas lives as long as the test session that made it.
    def _validator(self, kind: str) -> jsonschema.Draft4Validator:
        # OpenAPI v3.0's schemas are JSON Schema draft 4 with extensions.
        return jsonschema.Draft4Validator(strict(self.schema(kind)))

    def _rule(self, validation: Obj, value: Any) -> str | None:
        rule = validation["rule"]
        check = self.rules.get(normal(rule))
        if check is not None:
            return None if check(value) else validation["message"]
        if not self.cel:
            return f"CEL rule not re-implemented here: {rule}"
        try:
            passed = program(rule).evaluate({"self": json_to_cel(value)})
        except CELEvalError as error:
            return f"CEL rule failed to evaluate ({error.args[0]}): {rule}"
        return None if passed else validation.get("message", f"failed rule: {rule}")

    def server_checks(self, node: Obj, value: Any, path: tuple[str | int, ...] = ()) -> list[str]:
        """What the server checks beyond the schema's shape, as `path: message` (see the module)."""
        found = [f"{dotted(path)}: {m}" for m in _duplicates(node, value)] if isinstance(value, list) else []
        for validation in node.get("x-kubernetes-validations", []):
            if not transition(validation["rule"]) and (error := self._rule(validation, value)) is not None:
                found.append(f"{dotted(path)}: {error}")
        if isinstance(value, dict):
            for key, item in value.items():
                if (child := _child(node, key)) is not None:
                    found += self.server_checks(child, item, (*path, key))
        elif isinstance(value, list) and "items" in node:
            for n, item in enumerate(value):
                found += self.server_checks(node["items"], item, (*path, n))
        return found

    def _header(self, obj: Mapping[str, Any]) -> list[str]:
        """The object's apiVersion, kind and scope."""
        kind = self.kinds.get(str(obj.get("kind")))
        if kind is None:
            return [f"kind: {obj.get('kind')!r} is not one of {self.name}'s: {sorted(self.kinds)}"]
        errors = []
        if obj.get("apiVersion") != f"{kind.group}/{kind.written}":
            errors.append(f"apiVersion: {obj.get('apiVersion')!r}: write {kind.group}/{kind.written}")
        if kind.namespaced != bool(obj.get("metadata", {}).get("namespace")):
            where = "needs a namespace" if kind.namespaced else "is cluster-scoped: no namespace"
            errors.append(f"metadata.namespace: {kind.name} {where}")
        return errors

    def validate(self, obj: Mapping[str, Any]) -> list[str]:
        """What the API server would refuse in an object (apiVersion, kind, metadata, spec), each as
        `<Kind> <namespace/>name: <path>: <message>`; empty when it would accept it."""
        meta = obj.get("metadata", {})
        name = "/".join(str(n) for n in (meta.get("namespace"), meta.get("name")) if n)
        errors = self._header(obj)
        if not errors:
            kind, body = str(obj["kind"]), integral(dict(obj))
            validator = self._validator(kind)
            errors = sorted(f"{dotted(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body))
            if not errors:
                schema = self.schema(kind)
                errors = self.server_checks(schema, defaulted(schema, body))
        return [f"{obj.get('kind')} {name or '?'}: {e}" for e in errors]
