"""The Kueue validator: objects shaped like ours pass, and each way of getting one wrong (a v1beta1
leftover, a bad enum, a broken CEL rule, the wrong version or scope) fails with the CRD's own words, the
object's name and the path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.kueue import schemas

RENDERED = (
    "ClusterQueue",
    "LocalQueue",
    "ResourceFlavor",
    "Cohort",
    "AdmissionCheck",
    "MultiKueueConfig",
    "MultiKueueCluster",
)
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def obj(kind: str, name: str, spec: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    metadata = {"name": name, "labels": {"app.kubernetes.io/part-of": "gpu-platform"}}
    return {
        "apiVersion": "kueue.x-k8s.io/v1beta2",
        "kind": kind,
        "metadata": {**metadata, "namespace": namespace} if namespace else metadata,
        "spec": spec,
    }


def resources(gpus: Any, **extra: Any) -> list[dict[str, Any]]:
    quota = {"cpu": "32", "memory": "256Gi", "nvidia.com/gpu": gpus}
    return [{"name": name, "nominalQuota": q, **extra} for name, q in quota.items()]


def group(*flavors: str) -> dict[str, Any]:
    return {
        "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
        "flavors": [{"name": f, "resources": resources(4)} for f in flavors],
    }


VALID = {
    "ClusterQueue": obj(
        "ClusterQueue",
        "research",
        {
            "cohortName": "gpu-platform",
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "research"}},
            "queueingStrategy": "BestEffortFIFO",
            "resourceGroups": [group("a100-spot", "a100")],
            "preemption": {
                "reclaimWithinCohort": "Any",
                "borrowWithinCohort": {"policy": "LowerPriority"},
                "withinClusterQueue": "LowerPriority",
            },
            "fairSharing": {"weight": "2"},
            "admissionChecksStrategy": {"admissionChecks": [{"name": "multikueue"}]},
        },
    ),
    "LocalQueue": obj("LocalQueue", "research", {"clusterQueue": "research"}, namespace="research"),
    "ResourceFlavor": obj(
        "ResourceFlavor",
        "a100-spot",
        {
            "nodeLabels": {"gpu-platform.io/pool": "a100-spot"},
            "tolerations": [
                GPU_TOLERATION,
                {
                    "key": "cloud.example.com/spot",
                    "operator": "Equal",
                    "value": "true",
                    "effect": "NoSchedule",
                },
            ],
        },
    ),
    "Cohort": obj(
        "Cohort", "gpu-platform", {"resourceGroups": [group("a100")], "fairSharing": {"weight": 1}}
    ),
    "AdmissionCheck": obj(
        "AdmissionCheck",
        "multikueue",
        {
            "controllerName": "kueue.x-k8s.io/multikueue",
            "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "MultiKueueConfig", "name": "workers"},
        },
    ),
    "MultiKueueConfig": obj("MultiKueueConfig", "workers", {"clusters": ["gcp", "azure"]}),
    "MultiKueueCluster": obj(
        "MultiKueueCluster", "gcp", {"clusterSource": {"kubeConfig": {"location": "worker-gcp"}}}
    ),
}


@pytest.mark.parametrize("kind", RENDERED)
def test_our_objects_validate(kind: str) -> None:
    assert schemas.validate(VALID[kind]) == []


def test_numbers_from_the_mock_engine_count_as_integers() -> None:
    queue = copy.deepcopy(VALID["ClusterQueue"])
    queue["spec"]["resourceGroups"] = [
        {**group(), "flavors": [{"name": "a100", "resources": resources(4.0)}]}
    ]
    assert schemas.validate(queue) == []


Mutation = Callable[[dict[str, Any]], None]


def spec_set(path: str, value: Any) -> Mutation:
    def mutate(o: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = o["spec"]
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return mutate


def spec_drop(key: str) -> Mutation:
    return lambda o: o["spec"].pop(key)


def toleration(**fields: Any) -> Mutation:
    return spec_set("tolerations", [GPU_TOLERATION, fields])


MISTAKES = {
    # The schema's shape, made strict.
    "v1beta1 cohort": (
        "ClusterQueue",
        spec_set("cohort", "gpu-platform"),
        "spec: Additional properties are not allowed ('cohort' was unexpected)",
    ),
    "v1beta1 admissionChecks": (
        "ClusterQueue",
        spec_set("admissionChecks", ["multikueue"]),
        "spec: Additional properties are not allowed ('admissionChecks' was unexpected)",
    ),
    "bad enum": (
        "ClusterQueue",
        spec_set("queueingStrategy", "FIFO"),
        "spec.queueingStrategy: 'FIFO' is not one of ['StrictFIFO', 'BestEffortFIFO']",
    ),
    "bad quantity": (
        "ClusterQueue",
        spec_set("resourceGroups.0.flavors.0.resources.0.nominalQuota", "lots"),
        "spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: 'lots' does not match",
    ),
    "v1beta1 kubeConfig": (
        "MultiKueueCluster",
        spec_set("kubeConfig", {"location": "worker-gcp", "locationType": "Secret"}),
        "spec: Additional properties are not allowed ('kubeConfig' was unexpected)",
    ),
    "missing field": (
        "AdmissionCheck",
        spec_drop("controllerName"),
        "spec: 'controllerName' is a required property",
    ),
    "parameters kind pattern": (
        "AdmissionCheck",
        spec_set("parameters.kind", "9-lives"),
        "spec.parameters.kind: '9-lives' does not match",
    ),
    # Lists the server keeps unique.
    "duplicate flavor": (
        "ClusterQueue",
        spec_set("resourceGroups", [group("a100", "a100")]),
        "spec.resourceGroups[0].flavors: Duplicate value: {'name': 'a100'}",
    ),
    # CEL rules.
    "fewer resources than covered": (
        "ClusterQueue",
        spec_set("resourceGroups.0.flavors.0.resources", resources(4)[:2]),
        "spec.resourceGroups[0]: flavors must have the same number of resources as the coveredResources",
    ),
    "fewer resources than covered in a cohort": (
        "Cohort",
        spec_set("resourceGroups.0.coveredResources", ["cpu"]),
        "spec.resourceGroups[0]: flavors must have the same number of resources as the coveredResources",
    ),
    "borrowing limit without a cohort": (
        "ClusterQueue",
        lambda o: (
            o["spec"].pop("cohortName"),
            spec_set(
                "resourceGroups",
                [{**group(), "flavors": [{"name": "a", "resources": resources(4, borrowingLimit=1)}]}],
            )(o),
        ),
        "spec: borrowingLimit must be nil when cohort is empty",
    ),
    "borrowing preemption but reclaim defaults to Never": (
        "ClusterQueue",
        spec_set("preemption", {"borrowWithinCohort": {"policy": "LowerPriority"}}),
        "spec.preemption: reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never",
    ),
    "preference with the default whenCanBorrow": (
        "ClusterQueue",
        spec_set(
            "flavorFungibility", {"whenCanPreempt": "TryNextFlavor", "preference": "BorrowingOverPreemption"}
        ),
        "spec.flavorFungibility: preference can only be set when both whenCanBorrow and "
        "whenCanPreempt are TryNextFlavor",
    ),
    "toleration without a key": (
        "ResourceFlavor",
        toleration(operator="Equal", value="x", effect="NoSchedule"),
        "spec.tolerations: operator must be Exists when 'key' is empty, which means "
        "'match all values and all keys'",
    ),
    "toleration seconds without NoExecute": (
        "ResourceFlavor",
        toleration(key="k", operator="Exists", effect="NoSchedule", tolerationSeconds=30),
        "spec.tolerations: effect must be 'NoExecute' when 'tolerationSeconds' is set",
    ),
    "toleration operator": (
        "ResourceFlavor",
        toleration(key="k", operator="In", value="x"),
        "spec.tolerations: supported toleration values: 'Equal'(default), 'Exists'",
    ),
    "toleration value with Exists": (
        "ResourceFlavor",
        toleration(key="k", operator="Exists", value="x"),
        "spec.tolerations: a value must be empty when 'operator' is 'Exists'",
    ),
    "toleration effect": (
        "ResourceFlavor",
        toleration(key="k", operator="Exists", effect="NoRun"),
        "spec.tolerations: supported taint effect values: 'NoSchedule', 'PreferNoSchedule', 'NoExecute'",
    ),
    "taint effect": (
        "ResourceFlavor",
        spec_set("nodeTaints", [{"key": "k", "effect": "NoRun"}]),
        "spec.nodeTaints: supported taint effect values: 'NoSchedule', 'PreferNoSchedule', 'NoExecute'",
    ),
    "topology without node labels": (
        "ResourceFlavor",
        lambda o: (spec_drop("nodeLabels")(o), spec_set("topologyName", "default")(o)),
        "spec: at least one nodeLabel is required when topology is set",
    ),
    "a cluster twice": (
        "MultiKueueConfig",
        spec_set("clusters", ["gcp", "azure", "gcp"]),
        "spec.clusters: must be unique",
    ),
    "two cluster sources": (
        "MultiKueueCluster",
        spec_set("clusterSource.clusterProfileRef", {"name": "gcp"}),
        "spec.clusterSource: exactly one of the fields in [kubeConfig clusterProfileRef] must be set",
    ),
    "no cluster source": (
        "MultiKueueCluster",
        spec_set("clusterSource", {}),
        "spec.clusterSource: exactly one of the fields in [kubeConfig clusterProfileRef] must be set",
    ),
}


@pytest.mark.parametrize(("kind", "mutate", "expected"), MISTAKES.values(), ids=list(MISTAKES))
def test_each_mistake_is_refused_in_the_crds_words(kind: str, mutate: Mutation, expected: str) -> None:
    wrong = copy.deepcopy(VALID[kind])
    mutate(wrong)
    errors = schemas.validate(wrong)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{kind} {wrong['metadata']['name']}: {expected}"), errors


def test_only_v1beta2_in_its_scope() -> None:
    assert schemas.validate({**VALID["ClusterQueue"], "apiVersion": "kueue.x-k8s.io/v1beta1"}) == [
        "ClusterQueue research: apiVersion: 'kueue.x-k8s.io/v1beta1': write kueue.x-k8s.io/v1beta2"
    ]
    local = copy.deepcopy(VALID["LocalQueue"])
    del local["metadata"]["namespace"]
    assert schemas.validate(local) == [
        "LocalQueue research: metadata.namespace: LocalQueue needs a namespace"
    ]
    assert schemas.validate({**VALID["Cohort"], "kind": "Queue"})[0].startswith(
        "Queue gpu-platform: kind: 'Queue'"
    )


def test_every_kind_is_served_at_the_version_we_write() -> None:
    found = schemas.kinds()
    assert len(found) == 11
    assert all(schemas.VERSION in k.served and k.storage == schemas.VERSION for k in found.values())
    assert {k.name for k in found.values() if k.namespaced} == {"LocalQueue", "Workload"}


def _rules(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for n in node for r in _rules(n)]
    if not isinstance(node, dict):
        return []
    own = [v["rule"] for v in node.get("x-kubernetes-validations", [])]
    return own + [r for v in node.values() for r in _rules(v)]


def test_the_rules_reimplemented_are_exactly_those_of_the_kinds_we_render() -> None:
    rules = {r for kind in RENDERED for r in _rules(schemas.schema(kind)["properties"]["spec"])}
    assert {schemas.normal(r) for r in rules if not schemas.transition(r)} == set(schemas.RULES)


def test_a_rule_not_reimplemented_is_reported() -> None:
    node = {"x-kubernetes-validations": [{"rule": "self.size() > 1", "message": "too short"}]}
    assert schemas.server_checks(node, "x") == [".: CEL rule not re-implemented here: self.size() > 1"]
