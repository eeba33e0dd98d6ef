"""The Workloads component per cloud: its name and type, every child under it and named after it, every
Kubernetes object sent to that cloud's cluster through the contract's provider, and all that the issue
asks for present on each cloud: serving everywhere, training and the replicator on the home cloud only."""

from __future__ import annotations

from infra.workloads import trainer_env
from tests.infra.workloads.helpers import (
    CONFIG_MAP,
    CRON_JOB,
    DEPLOYMENT,
    HPA,
    IMAGE,
    JOB,
    NAMESPACE,
    PDB,
    POLICY,
    REPLICATOR,
    SERVICE,
    WORKLOADS,
    Cluster,
    is_apart,
)
from tests.plans import planned


def test_one_workloads_component_per_cloud(cluster: Cluster) -> None:
    (component,) = [r for r in cluster.resources if r.type == WORKLOADS]
    assert component.name == f"{cluster.stack}-{cluster.cloud}-workloads"


def test_every_child_is_named_after_the_component(cluster: Cluster) -> None:
    (root,) = [r for r in cluster.resources if r.type == WORKLOADS]
    for resource in cluster.resources:
        assert resource.name.startswith(root.name), resource.name
    cloud = [r for r in planned(cluster.stack).resources if r.cloud == cluster.cloud]
    named = [r for r in cloud if r.name.startswith(f"{root.name}-") and not is_apart(r)]
    assert {r.urn for r in named} <= {r.urn for r in cluster.resources}


def test_kubernetes_objects_go_through_the_clusters_provider(cluster: Cluster) -> None:
    by_urn = planned(cluster.stack).by_urn()
    objects = [r for r in cluster.resources if r.type.startswith("kubernetes:")]
    assert objects
    (provider,) = {r.provider for r in objects}
    assert provider is not None
    assert by_urn[provider].type == "pulumi:providers:kubernetes"
    assert by_urn[provider].cloud == cluster.cloud


def test_images_go_through_an_explicit_builder(cluster: Cluster) -> None:
    builders = {r.urn for r in cluster.resources if r.type == "pulumi:providers:docker-build"}
    images = [r for r in cluster.resources if r.type == IMAGE]
    assert images
    assert {r.provider for r in images} <= builders


def test_everything_the_issue_asks_for_is_there(cluster: Cluster) -> None:
    for type_ in (NAMESPACE, POLICY, IMAGE, DEPLOYMENT, SERVICE, HPA, PDB):
        assert cluster.of(type_), type_
    if cluster.trains:
        assert cluster.one(JOB)["spec"]["completionMode"] == "Indexed"
        assert cluster.one(CRON_JOB)["spec"]["schedule"]
    else:
        assert not cluster.of(JOB)
        assert not cluster.of(CRON_JOB)


def test_the_home_workloads_hold_the_replicator(planned_home: Cluster) -> None:
    """infra/replication.py builds the replicator under the home cloud's Workloads, so that it is named
    after them and goes to the home cluster through the same provider."""
    (root,) = [r for r in planned_home.resources if r.type == WORKLOADS]
    (component,) = [r for r in planned_home.resources if r.type == REPLICATOR]
    assert component.name == f"{root.name}-replicator"
    assert component.parent == root.urn
    children = {r.type for r in planned_home.resources if r.parent == component.urn}
    assert children == {CRON_JOB, CONFIG_MAP}
    name = planned_home.one(CRON_JOB)["metadata"]["name"]
    assert name == "replicator"
    assert planned(planned_home.stack).outputs["clouds"][planned_home.cloud]["training"]["replicator"] == name


def test_other_clouds_hold_no_replicator(serving_only: Cluster) -> None:
    assert not [r for r in serving_only.resources if r.type in (REPLICATOR, CRON_JOB)]
    names = {m["metadata"]["name"] for m in serving_only.of(CONFIG_MAP)}
    assert names == ({trainer_env.CONFIG_MAP} if serving_only.runs_dispatched else set())
