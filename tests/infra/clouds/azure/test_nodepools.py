"""AKS user pools: the general CPU pool and one GPU AgentPool per configured pool (ND-06/07/08/10)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import catalog
from infra.clouds.azure.nodepools import GPU_TAINT, SPOT_TAINT
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import AGENT_POOL, azure, gpu_pools, named
from tests.infra.workloads.helpers import FLAVOR
from tests.plans import plan_with, platform_resources, stack_values

POOLS = "gpu-platform:gpuPools"


@pytest.fixture(scope="module")
def changed_plan() -> Plan:
    """dev with its `train` pool changed (on-demand A100, 1-3 nodes) and a second GPU pool, in one run."""
    gpu = {"aws": "t4", "gcp": "t4", "azure": "a100-80gb"}
    train = {**stack_values("dev")[POOLS][0], "gpu": gpu, "minNodes": 1, "maxNodes": 3, "spot": False}
    extra = {"name": "infer", "gpu": "t4", "minNodes": 0, "maxNodes": 2, "spot": True}
    return plan_with({POOLS: [train, extra]})


def test_one_gpu_agent_pool_per_configured_pool(stack_plan: Plan) -> None:
    configured = [p["name"] for p in stack_values(stack_plan.stack)[POOLS]]
    assert sorted(gpu_pools(stack_plan)) == sorted(configured)


def test_nd08_gpu_pools_tainted_and_labelled(stack_plan: Plan) -> None:
    for name, pool in gpu_pools(stack_plan).items():
        assert GPU_TAINT in pool["nodeTaints"]
        assert pool["nodeLabels"]["gpu-platform/pool"] == name
        assert pool["nodeLabels"]["nvidia.com/gpu.present"] == "true"
        assert pool["nodeLabels"]["gpu-platform/gpu"] in catalog.GPU_TYPES
        assert pool["mode"] == "User"


def test_nd06_nd07_no_public_ips_and_encryption_at_host(stack_plan: Plan) -> None:
    for pool in azure(stack_plan, AGENT_POOL):
        assert pool.inputs["enableNodePublicIP"] is False
        assert pool.inputs["enableEncryptionAtHost"] is True


def test_gpu_pools_autoscale_from_config_and_keep_the_aks_driver(stack_plan: Plan) -> None:
    location = stack_values(stack_plan.stack)["azure-native:location"]
    for spec in stack_values(stack_plan.stack)[POOLS]:
        pool = gpu_pools(stack_plan)[spec["name"]]
        gpu = spec["gpu"]["azure"] if isinstance(spec["gpu"], dict) else spec["gpu"]
        offer = catalog.pick(gpu, "azure", location, spec.get("gpusPerNode", 1))
        assert offer is not None
        assert pool["vmSize"] == offer.machine_type
        assert (pool["enableAutoScaling"], pool["minCount"], pool["maxCount"]) == (
            True,
            spec["minNodes"],
            spec["maxNodes"],
        )
        assert pool["gpuProfile"] == {"driver": "Install"}
        assert pool["vnetSubnetID"].endswith("/subnets/gpu")


def test_nd10_spot_in_dev_on_demand_in_prod(dev_plan: Plan, prod_plan: Plan) -> None:
    train = gpu_pools(dev_plan)["train"]
    assert train["scaleSetPriority"] == "Spot"
    assert train["scaleSetEvictionPolicy"] == "Delete"
    assert train["spotMaxPrice"] == -1
    assert SPOT_TAINT in train["nodeTaints"]
    prod = gpu_pools(prod_plan)
    # prod's one spot pool is training's first choice; the queue falls back to on-demand `train`.
    assert prod.pop("trainspot")["scaleSetPriority"] == "Spot"
    for pool in prod.values():
        assert pool["scaleSetPriority"] == "Regular"
        assert "scaleSetEvictionPolicy" not in pool
        assert pool["nodeTaints"] == [GPU_TAINT]


def test_general_pool_runs_cpu_workloads(stack_plan: Plan) -> None:
    general = named(stack_plan, AGENT_POOL, "-general").inputs
    spec = stack_values(stack_plan.stack)["gpu-platform:azure"]["generalPool"]
    assert general["nodeLabels"] == {"gpu-platform/pool": "general"}
    assert general["nodeTaints"] == []
    assert general["mode"] == "User"
    assert (general["vmSize"], general["minCount"], general["maxCount"]) == (
        spec["machineType"],
        spec["minNodes"],
        spec["maxNodes"],
    )
    assert general["scaleSetPriority"] == "Regular"


def test_a_second_gpu_pool_adds_exactly_one_agent_pool(dev_plan: Plan, changed_plan: Plan) -> None:
    before = {r.name for r in dev_plan.resources if r.cloud == "azure"}
    after = {r.name: r for r in changed_plan.resources if r.cloud == "azure"}
    added = [after[n] for n in sorted(set(after) - before)]
    # The pool is also a Kueue flavor (tests/infra/kueue).
    flavors = [r for r in added if r.type == FLAVOR]
    assert [r.inputs["metadata"]["name"] for r in flavors] == ["infer"]
    pools = [r for r in added if r.type != FLAVOR]
    assert [(r.type, r.inputs["agentPoolName"]) for r in pools] == [(AGENT_POOL, "infer")]


def test_changing_a_pool_changes_exactly_its_inputs(dev_plan: Plan, changed_plan: Plan) -> None:
    old, new = gpu_pools(dev_plan)["train"], gpu_pools(changed_plan)["train"]
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    assert changed == {
        "vmSize",
        "count",
        "minCount",
        "maxCount",
        "scaleSetPriority",
        "scaleSetEvictionPolicy",
        "spotMaxPrice",
        "nodeTaints",
        "nodeLabels",
    }
    assert new["vmSize"] == "Standard_NC24ads_A100_v4"
    assert new["nodeLabels"]["gpu-platform/gpu"] == "a100-80gb"


def _without_pools(plan: Plan) -> dict[str, Any]:
    return {r.name: r.inputs for r in platform_resources(plan, "azure") if r.type != AGENT_POOL}


def test_pool_changes_leave_the_rest_alone(dev_plan: Plan, changed_plan: Plan) -> None:
    assert _without_pools(dev_plan) == _without_pools(changed_plan)
