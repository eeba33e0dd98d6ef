"""Our Kueue objects checked as the API server would check them on create, against the vendored CRDs.

Each kind's v1beta2 `openAPIV3Schema` is made strict first: `additionalProperties: false` wherever an
object schema lists its `properties` and says nothing of other keys, because the API server drops an
unknown field with at most a warning, so a v1beta1 leftover such as `spec.cohort` would vanish silently.
jsonschema then checks the object. The server's further checks follow on the object with the schema's
defaults applied: list-type uniqueness, and the CEL rules (`x-kubernetes-validations`), re-implemented
in `RULES` under their text (whitespace collapsed) and reported with the CRD's own message. A rule not
in `RULES` is reported too, so that a new Kueue release cannot add one unnoticed; transition rules (those
that read `oldSelf`, such as immutable fields) need the object's previous state and are not checked.

It lives in the tests, not in `infra/kueue`, because jsonschema is a test dependency only.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from infra.kueue import crds
from plan.manifests import integral

VERSION = "v1beta2"
"""The version we write: Kueue 0.19 still serves v1beta1, deprecated; 0.20 no longer does."""
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    name: str
    group: str
    plural: str
    namespaced: bool
    served: tuple[str, ...]
    storage: str


@functools.cache
def _crds() -> dict[str, Obj]:
    return {crd["spec"]["names"]["kind"]: crd for crd in crds.vendored()}


def _kind(spec: Obj) -> Kind:
    return Kind(
        name=spec["names"]["kind"],
        group=spec["group"],
        plural=spec["names"]["plural"],
        namespaced=spec["scope"] == "Namespaced",
        served=tuple(v["name"] for v in spec["versions"] if v["served"]),
        storage=next(v["name"] for v in spec["versions"] if v.get("storage")),
    )


@functools.cache
def kinds() -> dict[str, Kind]:
    """Every kind the vendored CRDs define, by name; whether it is served at `VERSION` is in `served`."""
    return {name: _kind(crd["spec"]) for name, crd in _crds().items()}


def _no_borrowing_without_cohort(spec: Obj) -> bool:
    if "cohortName" in spec or "resourceGroups" not in spec:
        return True
    groups = spec["resourceGroups"]
    return all("borrowingLimit" not in r for g in groups for f in g["flavors"] for r in f["resources"])


RULES: dict[str, Callable[[Any], bool]] = {
    # ClusterQueue and Cohort
    "self.flavors.all(x, size(x.resources) == size(self.coveredResources))": lambda group: all(
        len(f["resources"]) == len(group["coveredResources"]) for f in group["flavors"]
    ),
    "!has(self.cohortName) && has(self.resourceGroups) ? self.resourceGroups.all(rg, rg.flavors.all(f, "
    "f.resources.all(r, !has(r.borrowingLimit)))) : true": _no_borrowing_without_cohort,
    "!(self.reclaimWithinCohort == 'Never' && has(self.borrowWithinCohort) && "
    "self.borrowWithinCohort.policy != 'Never')": lambda p: (
        not (
            p.get("reclaimWithinCohort") == "Never"
            and "borrowWithinCohort" in p
            and p["borrowWithinCohort"].get("policy") != "Never"
        )
    ),
    "!has(self.preference) || (self.whenCanBorrow == 'TryNextFlavor' && "
    "self.whenCanPreempt == 'TryNextFlavor')": lambda f: (
        "preference" not in f or f.get("whenCanBorrow") == f.get("whenCanPreempt") == "TryNextFlavor"
    ),
    # ResourceFlavor
    "!has(self.topologyName) || self.nodeLabels.size() >= 1": lambda s: (
        "topologyName" not in s or len(s.get("nodeLabels", {})) >= 1
    ),
    "self.all(x, x.effect in ['NoSchedule', 'PreferNoSchedule', 'NoExecute'])": lambda taints: all(
        t.get("effect") in EFFECTS for t in taints
    ),
    "self.all(x, !has(x.key) ? x.operator == 'Exists' : true)": lambda ts: all(
        "key" in t or t.get("operator") == "Exists" for t in ts
    ),
    "self.all(x, has(x.tolerationSeconds) ? x.effect == 'NoExecute' : true)": lambda ts: all(
        "tolerationSeconds" not in t or t.get("effect") == "NoExecute" for t in ts
    ),
    "self.all(x, !has(x.operator) || x.operator in ['Equal', 'Exists'])": lambda ts: all(
        t.get("operator", "Equal") in ("Equal", "Exists") for t in ts
    ),
    "self.all(x, has(x.operator) && x.operator == 'Exists' ? !has(x.value) : true)": lambda ts: all(
        t.get("operator") != "Exists" or "value" not in t for t in ts
    ),
    "self.all(x, !has(x.effect) || x.effect in ['NoSchedule', 'PreferNoSchedule', 'NoExecute'])": lambda ts: (
        all(t.get("effect", "NoSchedule") in EFFECTS for t in ts)
    ),
    # MultiKueueConfig
    "size(self.filter(i, size(self.filter(j, j == i)) > 1)) == 0": lambda items: (
        len(set(items)) == len(items)
    ),
    # MultiKueueCluster
    "[has(self.kubeConfig),has(self.clusterProfileRef)].filter(x,x==true).size() == 1": lambda source: (
        sum(key in source for key in ("kubeConfig", "clusterProfileRef")) == 1
    ),
}


def normal(rule: str) -> str:
    """A CEL rule with its whitespace collapsed: the key of `RULES`."""
    return " ".join(rule.split())


def transition(rule: str) -> bool:
    return "oldSelf" in rule


def schema(kind: str) -> Obj:
    """The kind's `VERSION` schema as the CRD gives it."""
    (version,) = (v for v in _crds()[kind]["spec"]["versions"] if v["name"] == VERSION)
    found: Obj = version["schema"]["openAPIV3Schema"]
    return found


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


@functools.cache
def _validator(kind: str) -> jsonschema.Draft4Validator:
    # OpenAPI v3.0's schemas are JSON Schema draft 4 with extensions.
    return jsonschema.Draft4Validator(strict(schema(kind)))


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


def server_checks(node: Obj, value: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """What the server checks beyond the schema's shape, as `path: message` (see the module)."""
    found = [f"{dotted(path)}: {m}" for m in _duplicates(node, value)] if isinstance(value, list) else []
    for validation in node.get("x-kubernetes-validations", []):
        rule = validation["rule"]
        if transition(rule):
            continue
        check = RULES.get(normal(rule))
        if check is None:
            found.append(f"{dotted(path)}: CEL rule not re-implemented here: {rule}")
        elif not check(value):
            found.append(f"{dotted(path)}: {validation['message']}")
    if isinstance(value, dict):
        for key, item in value.items():
            if (child := _child(node, key)) is not None:
                found += server_checks(child, item, (*path, key))
    elif isinstance(value, list) and "items" in node:
        for n, item in enumerate(value):
            found += server_checks(node["items"], item, (*path, n))
    return found


def _header(obj: Mapping[str, Any]) -> list[str]:
    """The object's apiVersion, kind and scope."""
    kind = kinds().get(str(obj.get("kind")))
    if kind is None:
        return [f"kind: {obj.get('kind')!r} is not one of Kueue's: {sorted(kinds())}"]
    errors = []
    if VERSION not in kind.served or obj.get("apiVersion") != f"{kind.group}/{VERSION}":
        errors.append(f"apiVersion: {obj.get('apiVersion')!r}: write {kind.group}/{VERSION}")
    if kind.namespaced != bool(obj.get("metadata", {}).get("namespace")):
        where = "needs a namespace" if kind.namespaced else "is cluster-scoped: no namespace"
        errors.append(f"metadata.namespace: {kind.name} {where}")
    return errors


def validate(obj: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse in a Kueue object (apiVersion, kind, metadata, spec), each as
    `<Kind> <namespace/>name: <path>: <message>`; empty when it would accept it."""
    meta = obj.get("metadata", {})
    name = "/".join(str(n) for n in (meta.get("namespace"), meta.get("name")) if n)
    errors = _header(obj)
    if not errors:
        kind, body = str(obj["kind"]), integral(dict(obj))
        errors = sorted(f"{dotted(e.absolute_path)}: {e.message}" for e in _validator(kind).iter_errors(body))
        if not errors:
            errors = server_checks(schema(kind), defaulted(schema(kind), body))
    return [f"{obj.get('kind')} {name or '?'}: {e}" for e in errors]
