"""Node pools: hardened node config on every pool (ND-02..ND-07), GPU pools from the catalog with managed
drivers and GKE's own taint (ND-08, ND-09), Spot only where configured (ND-10), and pool changes."""

from __future__ import annotations

from typing import Any

import pytest

from infra import catalog
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.gcp.helpers import (
    ACCOUNT,
    NODE_POOL,
    PROJECT_IAM,
    gcp,
    gcp_config,
    key,
    key_id,
    named,
    node_account_email,
    pools,
    stack_config,
)
from tests.infra.workloads.helpers import CLUSTER_QUEUE
from tests.plans import plan_with, stack_values

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
BASIC_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}


def all_pools(plan: Plan) -> list[dict[str, Any]]:
    return [r.inputs for r in gcp(plan, NODE_POOL)]


def test_one_system_pool_plus_one_per_gpu_pool(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    assert set(pools(stack_plan)) == {"general"} | {p.name for p in cfg.pools_on("gcp")}


def test_nd02_gke_metadata_server(stack_plan: Plan) -> None:
    for pool in all_pools(stack_plan):
        assert pool["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_nd03_shielded_instances(stack_plan: Plan) -> None:
    for pool in all_pools(stack_plan):
        shielded = pool["nodeConfig"]["shieldedInstanceConfig"]
        assert shielded == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}


def test_nd04_dedicated_least_privilege_node_account(stack_plan: Plan) -> None:
    email = node_account_email(stack_plan)
    assert not email.endswith("-compute@developer.gserviceaccount.com")
    for pool in all_pools(stack_plan):
        assert pool["nodeConfig"]["serviceAccount"] == email
        assert pool["nodeConfig"]["oauthScopes"] == [CLOUD_PLATFORM]
    account = named(stack_plan, ACCOUNT, "-gke-nodes")
    grants = [r for r in gcp(stack_plan, PROJECT_IAM) if account.urn in r.depends_on]
    assert [g.inputs["role"] for g in grants] == ["roles/container.defaultNodeServiceAccount"]


def test_id04_no_basic_roles_in_project_iam(stack_plan: Plan) -> None:
    roles = {r.inputs["role"] for r in gcp(stack_plan, PROJECT_IAM)}
    assert roles
    assert not roles & BASIC_ROLES


def test_nd05_cos_with_auto_repair_and_upgrade(stack_plan: Plan) -> None:
    for pool in all_pools(stack_plan):
        assert pool["nodeConfig"]["imageType"] == "COS_CONTAINERD"
        assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}


def test_nd07_boot_disks_use_the_disk_key(stack_plan: Plan) -> None:
    disk_key = key_id(stack_plan, "disk")
    grant = named(stack_plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "-keys-disk-agent")
    assert grant.inputs["member"].endswith("@compute-system.iam.gserviceaccount.com")
    for pool in gcp(stack_plan, NODE_POOL):
        assert pool.inputs["nodeConfig"]["bootDiskKmsKey"] == disk_key
        assert {grant.urn, key(stack_plan, "disk").urn} <= set(pool.depends_on)


def test_nd08_gpu_pools_get_gkes_taint_and_declare_no_other(stack_plan: Plan) -> None:
    """GKE taints nodes with accelerators `nvidia.com/gpu=present:NoSchedule` when the cluster also has a
    non-GPU pool; a declared taint on the same key with another value or effect would fight it."""
    by_name = pools(stack_plan)
    system = by_name.pop("general").inputs["nodeConfig"]
    assert "guestAccelerators" not in system
    assert "taints" not in system
    for pool in by_name.values():
        node = pool.inputs["nodeConfig"]
        assert node["guestAccelerators"][0]["count"] >= 1
        for taint in node.get("taints", []):
            if taint["key"] == "nvidia.com/gpu":
                assert (taint["value"], taint["effect"]) == ("present", "NO_SCHEDULE")


def test_nd09_gpu_machine_and_driver_from_catalog_and_config(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    section = gcp_config(stack_plan)
    by_name = pools(stack_plan)
    for pool in cfg.pools_on("gcp"):
        offer = catalog.pick(pool.gpu_for("gcp"), "gcp", section.region, pool.gpus_per_node)
        assert offer is not None
        node = by_name[pool.name].inputs["nodeConfig"]
        assert node["machineType"] == offer.machine_type
        (accelerator,) = node["guestAccelerators"]
        assert accelerator["type"] == offer.accelerator
        assert accelerator["count"] == pool.gpus_per_node
        driver = accelerator["gpuDriverInstallationConfig"]["gpuDriverVersion"]
        assert driver == section.gpu_driver_version
        assert driver in {"DEFAULT", "LATEST"}


def test_nd10_spot_only_on_the_pools_configured_spot(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    by_name = pools(stack_plan)
    assert by_name["general"].inputs["nodeConfig"]["spot"] is False
    for pool in cfg.pools_on("gcp"):
        assert by_name[pool.name].inputs["nodeConfig"]["spot"] is pool.spot
    # dev trains on spot; prod serves on demand and trains on spot first, on demand as the fallback.
    spot = {p.name for p in cfg.gpu_pools if p.spot}
    assert spot == {"dev": {"train"}, "prod": {"trainspot"}}[stack_plan.stack]


def test_labels_and_autoscaling_totals(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan)
    section = gcp_config(stack_plan)
    by_name = pools(stack_plan)
    system = by_name["general"].inputs
    assert system["nodeConfig"]["machineType"] == section.system_pool.machine_type
    assert _totals(system) == (section.system_pool.min_nodes, section.system_pool.max_nodes)
    for pool in cfg.pools_on("gcp"):
        inputs = by_name[pool.name].inputs
        assert inputs["nodeConfig"]["labels"] == {
            "gpu-platform/pool": pool.name,
            "nvidia.com/gpu.present": "true",
            "gpu-platform/gpu": pool.gpu_for("gcp"),
        }
        assert _totals(inputs) == (pool.min_nodes, pool.max_nodes)
        assert inputs["nodeConfig"]["resourceLabels"]["stack"] == stack_plan.stack


def _totals(pool: dict[str, Any]) -> tuple[int, int]:
    """Total limits only: per-zone limits would multiply by the zone count in a regional cluster."""
    scaling = pool["autoscaling"]
    assert "minNodeCount" not in scaling
    assert "maxNodeCount" not in scaling
    return scaling["totalMinNodeCount"], scaling["totalMaxNodeCount"]


@pytest.fixture(scope="module")
def changed_pools_plan() -> Plan:
    """dev with its pool changed (type, counts, Spot) and a second pool added: one program run."""
    (train,) = stack_values("dev")["gpu-platform:gpuPools"]
    gpu = {"aws": "t4", "gcp": "l4", "azure": "t4"}
    changed = {**train, "gpu": gpu, "minNodes": 1, "maxNodes": 5, "spot": False}
    extra = {"name": "extra", "gpu": "t4", "minNodes": 0, "maxNodes": 1}
    return plan_with({"gpu-platform:gpuPools": [changed, extra]})


def test_a_second_gpu_pool_adds_exactly_one_node_pool(dev_plan: Plan, changed_pools_plan: Plan) -> None:
    before, after = pools(dev_plan), pools(changed_pools_plan)
    assert set(after) - set(before) == {"extra"}
    assert len(gcp(changed_pools_plan, NODE_POOL)) == len(gcp(dev_plan, NODE_POOL)) + 1
    assert after["extra"].inputs["nodeConfig"]["machineType"] == "n1-standard-4"


def test_changing_a_pool_changes_only_its_gpu_counts_and_spot(
    dev_plan: Plan, changed_pools_plan: Plan
) -> None:
    before, after = pools(dev_plan)["train"].inputs, pools(changed_pools_plan)["train"].inputs
    assert _diff(before, after) == {
        "autoscaling.locationPolicy": ("ANY", "BALANCED"),
        "autoscaling.totalMinNodeCount": (0, 1),
        "autoscaling.totalMaxNodeCount": (2, 5),
        "initialNodeCount": (None, 1),
        "nodeConfig.guestAccelerators[0].type": ("nvidia-tesla-t4", "nvidia-l4"),
        "nodeConfig.labels.gpu-platform/gpu": ("t4", "l4"),
        "nodeConfig.machineType": ("n1-standard-4", "g2-standard-8"),
        "nodeConfig.spot": (True, False),
    }
    others = _by_name(dev_plan), _by_name(changed_pools_plan)
    for name, resource in others[0].items():
        # A team's quota defaults to its pools' capacity (tests/infra/kueue): its ClusterQueue follows.
        if resource.type not in (NODE_POOL, CLUSTER_QUEUE):
            assert others[1][name].inputs == resource.inputs, name


def _by_name(plan: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in plan.resources if r.cloud == "gcp"}


def _diff(a: Any, b: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for k in sorted(set(a) | set(b)):
            out |= _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out |= _diff(x, y, f"{path}[{i}]")
        return out
    return {} if a == b else {path: (a, b)}


def test_gpu_pools_run_only_in_zones_that_offer_their_gpu(stack_plan: Plan) -> None:
    """Each GPU pool names its zones: the cluster's zones that offer the GPU (all of them here)."""
    section = gcp_config(stack_plan)
    for pool in stack_config(stack_plan).pools_on("gcp"):
        offer = catalog.pick(pool.gpu_for("gcp"), "gcp", section.region, pool.gpus_per_node)
        assert offer is not None
        zones = pools(stack_plan)[pool.name].inputs["nodeLocations"]
        assert zones == list(section.cluster_zones)
        assert set(zones) <= set(offer.zones_in(section.region) or ())


def test_a_gpu_pool_leaves_out_cluster_zones_without_its_gpu() -> None:
    """prod's zones a, b and c with an A100 80GB pool (zones a and c): the pool gets a and c, and its
    initial size is counted per zone it has."""
    pools_cfg = [
        *stack_values("prod")["gpu-platform:gpuPools"],
        {"name": "big", "gpu": "a100-80gb", "minNodes": 2, "maxNodes": 4, "clouds": ["gcp"]},
    ]
    plan = plan_with({"gpu-platform:gpuPools": pools_cfg}, base="prod")
    big = pools(plan)["big"].inputs
    assert big["nodeLocations"] == ["us-central1-a", "us-central1-c"]
    assert big["initialNodeCount"] == 1


def test_gpu_pools_upgrade_without_surge_quota(stack_plan: Plan) -> None:
    """A surge node needs GPU quota beyond maxNodes: GPU pools take one node down first instead, while
    the system pool surges (no add-on goes down)."""
    for name, pool in pools(stack_plan).items():
        settings = pool.inputs["upgradeSettings"]
        expected = (1, 0) if name == "general" else (0, 1)
        assert (settings["maxSurge"], settings["maxUnavailable"]) == expected
        assert settings["strategy"] == "SURGE"
