"""Our Kueue objects checked as the API server would check them on create, against the vendored CRDs.

The check is `tests/crd_schemas.py`'s, strict about unknown fields (a v1beta1 leftover such as
`spec.cohort` would otherwise vanish silently), with Kueue's CEL rules re-implemented in `RULES` and no
CEL evaluator behind them: a rule not in `RULES` is reported, so that a new Kueue release cannot add one
unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.kueue import crds
from tests import crd_schemas
from tests.crd_schemas import Kind, Obj, Rule, normal, transition

VERSION = "v1beta2"
"""The version we write: Kueue 0.19 still serves v1beta1, deprecated; 0.20 no longer does."""
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

__all__ = ["RULES", "VERSION", "kinds", "normal", "schema", "server_checks", "transition", "validate"]


def _no_borrowing_without_cohort(spec: Obj) -> bool:
    if "cohortName" in spec or "resourceGroups" not in spec:
        return True
    groups = spec["resourceGroups"]
    return all("borrowingLimit" not in r for g in groups for f in g["flavors"] for r in f["resources"])


RULES: dict[str, Rule] = {
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

KUEUE = crd_schemas.Schemas("Kueue", crds.vendored, RULES, cel=False)


def kinds() -> dict[str, Kind]:
    """Every kind the vendored CRDs define, by name; whether it is served at `VERSION` is in `served`."""
    return KUEUE.kinds


def schema(kind: str) -> Obj:
    """The kind's `VERSION` schema as the CRD gives it."""
    return KUEUE.schema(kind)


def server_checks(node: Obj, value: Any) -> list[str]:
    return KUEUE.server_checks(node, value)


def validate(obj: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse in a Kueue object, each as `<Kind> <namespace/>name: <path>:
    <message>`; empty when it would accept it."""
    return KUEUE.validate(obj)
