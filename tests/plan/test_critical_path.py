"""The critical path: the longest wait chain on a hand-built graph, what counts as waiting (dependencies,
providers, a component's children), and the stacks' ratio to the slowest cloud's unavoidable chain."""

from __future__ import annotations

import graphlib

import pytest

from plan import critical_path
from plan.create_times import DEFAULT, NOT_AWAITED, TABLE, UNAVOIDABLE, create_time
from plan.runner import Plan, PlannedResource
from tests.plan import sdk
from tests.plans import planned

RATIO_GOAL = 1.1


def res(
    type_: str,
    name: str,
    deps: tuple[str, ...] = (),
    *,
    provider: str | None = None,
    parent: str | None = None,
    cloud: str = "aws",
    inputs: dict[str, object] | None = None,
) -> PlannedResource:
    custom = not type_.startswith("gpu-platform:")
    urns = [f"urn:{d}" for d in deps]
    return PlannedResource(
        type_, name, f"urn:{name}", parent and f"urn:{parent}", provider and f"urn:{provider}", cloud, custom,
        inputs or {}, urns, False, False,
    )  # fmt: skip


def hand_dag() -> list[PlannedResource]:
    """vpc 15 -> subnet 10 -> EKS 600 -> node group 240 -> k8s provider 0 -> Deployment 90; a KMS key
    (10) and a role (5) beside the network; a registry that waits only for its key; an LB Service (120)."""
    return [
        res("gpu-platform:aws:Network", "network"),
        res("aws:ec2/vpc:Vpc", "vpc", parent="network"),
        res("aws:ec2/subnet:Subnet", "subnet", ("vpc",), parent="network"),
        res("aws:kms/key:Key", "key"),
        res("aws:iam/role:Role", "role"),
        res("aws:eks/cluster:Cluster", "eks", ("subnet", "key", "role")),
        res("aws:eks/nodeGroup:NodeGroup", "nodes", ("eks",)),
        res("aws:ecr/repository:Repository", "repo", ("key",)),
        res("pulumi:providers:kubernetes", "k8s", ("eks", "nodes")),
        res("kubernetes:core/v1:Namespace", "ns", provider="k8s", cloud="aws"),
        res("kubernetes:apps/v1:Deployment", "serving", ("ns",), provider="k8s"),
        res(
            "kubernetes:core/v1:Service",
            "lb",
            ("ns",),
            provider="k8s",
            inputs={"spec": {"type": "LoadBalancer"}},
        ),
    ]


def test_longest_path_on_a_hand_built_graph() -> None:
    analysis = critical_path.analyse(Plan("p", "s", hand_dag(), {}, []))
    # vpc 15 + subnet 10 + EKS 600 + node group 240 + provider 0 + namespace 2 + LB Service 120
    assert analysis.total.seconds == 15 + 10 + 600 + 240 + 2 + 120
    assert [s.resource.name for s in analysis.total.chain] == ["vpc", "subnet", "eks", "nodes", "ns", "lb"]
    assert [s.finish for s in analysis.total.chain] == [15, 25, 625, 865, 867, 987]
    assert "urn:k8s" in analysis.total.urns
    # Every stage of that chain is unavoidable: the ratio is 1.
    assert analysis.unavoidable["aws"].seconds == analysis.total.seconds
    assert analysis.ratio == 1.0


def test_a_false_dependency_raises_the_ratio() -> None:
    """The cluster waiting for a NAT gateway (only nodes need one) lengthens the path, not the chain."""
    dag = [r for r in hand_dag() if r.name != "eks"]
    dag += [
        res("aws:ec2/natGateway:NatGateway", "nat", ("subnet",)),
        res("aws:eks/cluster:Cluster", "eks", ("subnet", "key", "role", "nat")),
    ]
    analysis = critical_path.analyse(Plan("p", "s", dag, {}, []))
    assert analysis.total.seconds == 987 + 120
    assert analysis.unavoidable["aws"].seconds == 987
    assert analysis.ratio is not None
    assert analysis.ratio == pytest.approx(1107 / 987)
    assert analysis.ratio > RATIO_GOAL


def test_a_dependency_on_a_component_waits_for_its_children() -> None:
    dag = [*hand_dag(), res("aws:s3/bucket:Bucket", "bucket", ("network",))]
    nodes = {r.urn: r for r in dag}
    preds = critical_path.predecessors(dag)
    assert preds["urn:network"] == {"urn:vpc", "urn:subnet"}
    assert preds["urn:bucket"] == {"urn:network"}
    network = [nodes[u] for u in ("urn:network", "urn:vpc", "urn:subnet", "urn:bucket")]
    path = critical_path.longest_path(network, lambda r: create_time(r).seconds)
    assert path.seconds == 15 + 10 + 5  # vpc, subnet, then the bucket


def test_a_resource_waits_for_its_provider() -> None:
    dag = hand_dag()
    preds = critical_path.predecessors(dag)
    assert "urn:k8s" in preds["urn:ns"]
    assert preds["urn:k8s"] == {"urn:eks", "urn:nodes"}


def test_per_cloud_paths_ignore_other_clouds() -> None:
    dag = [*hand_dag(), res("gcp:storage/bucket:Bucket", "gcs", cloud="gcp")]
    analysis = critical_path.analyse(Plan("p", "s", dag, {}, []))
    assert analysis.clouds["gcp"].seconds == TABLE["gcp:storage/bucket:Bucket"].seconds
    assert analysis.slowest_cloud == "aws"


def test_a_cycle_is_an_error() -> None:
    dag = [res("aws:ec2/vpc:Vpc", "a", ("b",)), res("aws:ec2/vpc:Vpc", "b", ("a",))]
    with pytest.raises(graphlib.CycleError):
        critical_path.analyse(Plan("p", "s", dag, {}, []))


def test_create_times() -> None:
    assert create_time(res("gpu-platform:gcp:Network", "n")).seconds == 0
    assert create_time(res("pulumi:providers:aws", "p")).seconds == 0
    assert create_time(res("aws:ec2/vpcEndpoint:VpcEndpoint", "e")) is DEFAULT
    lb = res("kubernetes:core/v1:Service", "s", inputs={"spec": {"type": "LoadBalancer"}})
    assert create_time(lb).seconds > create_time(res("kubernetes:core/v1:Service", "c")).seconds
    assert create_time(res("kubernetes:rbac.authorization.k8s.io/v1:Role", "r")).stage == "workload"
    skipped: dict[str, object] = {"metadata": {"annotations": {"pulumi.com/skipAwait": "true"}}}
    assert create_time(res("kubernetes:apps/v1:Deployment", "d", inputs=skipped)) is NOT_AWAITED
    assert create_time(res("kubernetes:apps/v1:Deployment", "d")).seconds > NOT_AWAITED.seconds


@pytest.mark.parametrize("token", sorted(TABLE))
def test_table_tokens_exist_in_the_sdks(token: str) -> None:
    sdk.source(token)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ratio_within_goal(stack: str) -> None:
    analysis = critical_path.analyse(planned(stack))
    assert set(analysis.clouds) == {"aws", "gcp", "azure"}
    assert analysis.ratio is not None
    assert analysis.ratio <= RATIO_GOAL
    chain = analysis.unavoidable["gcp"].chain
    names = [s.resource.name for s in chain[:3]]
    assert names == [f"{stack}-gcp-{n}" for n in ("network-vpc", "network-subnet", "gke-cluster")]
    assert chain[3].resource.type == "gcp:container/nodePool:NodePool"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_cloud_chains_network_cluster_and_nodes(stack: str) -> None:
    """Each cloud's unavoidable chain runs network, then cluster, then node pool (then workloads, where
    they wait for the pool that ends the chain: AKS's GPU pools come after its system pool's workloads)."""
    analysis = critical_path.analyse(planned(stack))
    for cloud, path in analysis.unavoidable.items():
        stages = list(dict.fromkeys(create_time(s.resource).stage for s in path.chain))
        assert stages[:3] == ["network", "cluster", "nodepool"], (cloud, stages)
        assert stages == list(UNAVOIDABLE[: len(stages)]), (cloud, stages)
