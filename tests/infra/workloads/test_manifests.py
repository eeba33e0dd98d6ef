"""Every Kubernetes object the workloads declare, rendered to YAML from the captured inputs, validates
against the Kubernetes API schema of the cluster's version, strictly (no unknown fields): the same check
as `kubernetes-validate --strict -k <version> FILE`, through its Python API and with its schema files
read once rather than once per object. The home cloud's training Job and replicator CronJob included."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils

from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import Cluster

DOUBLE_VERSION = "1.35"


@pytest.fixture(scope="module", autouse=True)
def cached_schemas() -> Iterator[None]:
    original = utils.schema_contents
    utils.schema_contents = functools.cache(original)
    yield
    utils.schema_contents = original


def kubernetes_version(cluster: Cluster) -> str:
    section = getattr(cluster.cfg, str(cluster.cloud), None)
    version = section.kubernetes_version if section is not None else DOUBLE_VERSION
    return f"{version}.0"


def rendered(cluster: Cluster) -> list[dict[str, Any]]:
    """The objects as one multi-document YAML file and back, exactly what a validator would read."""
    text = yaml.safe_dump_all(cluster.manifests(), sort_keys=True)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def training_kinds(cluster: Cluster) -> set[str]:
    """What a cloud declares for training: nothing where it only serves, the trainer's ConfigMap on a
    MultiKueue worker; at home the Job and that ConfigMap, and the replicator's CronJob with its
    ConfigMap (but not on the doubles, built alone, with nothing to copy to)."""
    if not cluster.trains:
        return {"ConfigMap"} if cluster.runs_dispatched else set()
    return {"Job", "ConfigMap"} if doubles.is_double(cluster) else {"Job", "CronJob", "ConfigMap"}


def test_every_object_validates_strictly(any_cluster: Cluster) -> None:
    objects = rendered(any_cluster)
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "NetworkPolicy", "ServiceAccount", "Service", "Deployment"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    assert kinds & {"Job", "CronJob", "ConfigMap"} == training_kinds(any_cluster)
    version = kubernetes_version(any_cluster)
    failures = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not failures, "\n".join(failures)


def test_the_validator_does_reject_unknown_fields() -> None:
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": {"nonsense": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, f"{DOUBLE_VERSION}.0", strict=True)
