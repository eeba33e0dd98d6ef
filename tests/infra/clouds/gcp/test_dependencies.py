"""Each GCP resource waits for what it needs and nothing else: its own APIs, its key grant, and the cluster
only where the cluster's workload identity pool must exist. False waits lengthen a fresh `pulumi up`."""

from __future__ import annotations

from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import (
    BUCKET,
    CLUSTER,
    KEY_GRANT,
    NODE_POOL,
    REPOSITORY,
    SERVICE,
    gcp,
    named,
    one,
    pools,
)


def _api_names(plan: Plan, urns: list[str]) -> set[str]:
    by_urn = plan.by_urn()
    return {by_urn[u].inputs["service"].split(".")[0] for u in urns if by_urn[u].type == SERVICE}


def test_data_services_wait_for_their_own_api_only(stack_plan: Plan) -> None:
    assert _api_names(stack_plan, one(stack_plan, BUCKET).depends_on) == {"storage"}
    assert _api_names(stack_plan, one(stack_plan, REPOSITORY).depends_on) == {"artifactregistry"}
    assert _api_names(stack_plan, one(stack_plan, "gcp:compute/network:Network").depends_on) == {"compute"}


def test_key_grants_wait_for_the_api_that_creates_their_agent(stack_plan: Plan) -> None:
    expected = {"gke": "container", "disk": "compute", "gcs": "storage", "registry": "artifactregistry"}
    for use, api in expected.items():
        grant = named(stack_plan, KEY_GRANT, f"-keys-{use}-agent")
        assert _api_names(stack_plan, grant.depends_on) == {"cloudkms", api}


def test_only_what_needs_the_cluster_waits_for_it(stack_plan: Plan) -> None:
    cluster = one(stack_plan, CLUSTER).urn
    # Where GCP trains (prod), the other clouds' trust of its issuer waits for it too (test_federation).
    waiting = {r.type for r in stack_plan.resources if r.cloud == "gcp" and cluster in r.depends_on}
    assert waiting == {NODE_POOL, "gcp:serviceaccount/iAMMember:IAMMember", "pulumi:providers:kubernetes"}
    assert all(cluster not in r.depends_on for r in gcp(stack_plan, BUCKET) + gcp(stack_plan, REPOSITORY))


def test_the_cluster_waits_for_its_key_grants(stack_plan: Plan) -> None:
    """The secrets key, and the disk key its transient default pool boots with: under an org policy that
    requires CMEK for Compute Engine, a default pool without it fails the cluster's creation."""
    cluster = one(stack_plan, CLUSTER)
    assert named(stack_plan, KEY_GRANT, "-keys-gke-agent").urn in cluster.depends_on
    assert named(stack_plan, KEY_GRANT, "-keys-disk-agent").urn in cluster.depends_on
    disk_key = named(stack_plan, "gcp:kms/cryptoKey:CryptoKey", "-keys-disk")
    assert disk_key.urn in cluster.property_dependencies["nodeConfig"]
    assert cluster.inputs["nodeConfig"]["bootDiskKmsKey"].split("/cryptoKeys/")[1].startswith(disk_key.name)


def test_kubernetes_objects_wait_for_the_system_pool_only(stack_plan: Plan) -> None:
    """Not for GPU pools (min 0 in dev): what runs there is created without awaiting its pods."""
    (provider,) = [r for r in stack_plan.of_type("pulumi:providers:kubernetes") if r.cloud == "gcp"]
    by_pool = pools(stack_plan)
    assert {p for p, pool in by_pool.items() if pool.urn in provider.depends_on} == {"general"}


def test_grants_to_agents_google_creates_later_wait_for_them(stack_plan: Plan) -> None:
    """GKE's and Compute Engine's agents appear a little after their API is enabled: their key grants
    wait a minute after the APIs, once; the agents created explicitly (GCS, Artifact Registry) do not."""
    (pause,) = [r for r in gcp(stack_plan, "time:index/sleep:Sleep") if r.name.endswith("-agents-settle")]
    assert pause.inputs["createDuration"] == "1m"
    assert _api_names(stack_plan, pause.depends_on) == {"container", "compute"}
    for use in ("gke", "disk"):
        assert pause.urn in named(stack_plan, KEY_GRANT, f"-keys-{use}-agent").depends_on
    for use in ("gcs", "registry"):
        assert pause.urn not in named(stack_plan, KEY_GRANT, f"-keys-{use}-agent").depends_on


def test_node_pools_wait_for_the_node_accounts_role(stack_plan: Plan) -> None:
    role = named(stack_plan, "gcp:projects/iAMMember:IAMMember", "-gke-nodes-defaultnodeserviceaccount")
    for pool in pools(stack_plan).values():
        assert role.urn in pool.depends_on
