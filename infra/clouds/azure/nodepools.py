"""AKS node pools: the system pool (inline in the cluster, as AKS requires one at creation), the general
CPU pool and one GPU pool per configured pool (separate `AgentPool` resources, so adding a pool never
touches the cluster).

AKS taints its system pool `CriticalAddonsOnly`, so CPU workloads (serving on `general`) get a user pool
of their own. GPU pools keep AKS's driver install (`gpuProfile.driver: Install`): AKS installs the NVIDIA
driver but not the device plugin, which the workloads deploy (see `Capability.GPU_DEVICE_PLUGIN`).

Zones: the system and general pools spread over `availabilityZones`; a GPU pool only over the zones
`gpuPoolZones` names for it, because which zones offer a GPU size differs per subscription, and a zone
without the size fails the whole pool. A pool with no zones is regional.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerservice as cs

from infra import catalog
from infra.clouds.azure.context import CLOUD, AzureContext
from infra.clouds.base import (
    GENERAL_POOL,
    GPU_LABEL,
    GPU_PRESENT_LABEL,
    GPU_RESOURCE,
    GPU_TAINT_VALUE,
    POOL_LABEL,
)
from infra.config.azure import AzureConfig
from infra.config.types import GpuPool

GPU_TAINT = f"{GPU_RESOURCE}={GPU_TAINT_VALUE}:NoSchedule"
"""The shared GPU taint in AKS's `nodeTaints` syntax."""
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
"""AKS puts this taint on every Spot pool itself; declaring it keeps the plan equal to what AKS runs."""
SPOT_TOLERATION = {
    "key": "kubernetes.azure.com/scalesetpriority",
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
SYSTEM_POOL = "system"
CPU_OS_SKU = "AzureLinux"
GPU_OS_SKU = "Ubuntu"
"""Ubuntu is the image every AKS GPU size and driver branch supports first."""


def system_profile(c: AzureConfig, subnet_id: pulumi.Input[str]) -> cs.ManagedClusterAgentPoolProfileArgs:
    """The System-mode pool: on-demand, tainted so that only critical add-ons run on it."""
    pool = c.system_pool
    return cs.ManagedClusterAgentPoolProfileArgs(
        name=SYSTEM_POOL,
        mode="System",
        vm_size=pool.machine_type,
        count=pool.min_nodes,
        enable_auto_scaling=True,
        min_count=pool.min_nodes,
        max_count=pool.max_nodes,
        os_type="Linux",
        os_sku=CPU_OS_SKU,
        os_disk_size_gb=pool.disk_gb,
        type="VirtualMachineScaleSets",
        scale_set_priority="Regular",
        node_taints=[SYSTEM_TAINT],
        node_labels={POOL_LABEL: SYSTEM_POOL},
        enable_encryption_at_host=True,
        enable_node_public_ip=False,
        vnet_subnet_id=subnet_id,
        availability_zones=list(c.availability_zones) or None,
    )


@dataclass(frozen=True)
class PoolTarget:
    """The cluster a separate `AgentPool` joins."""

    context: AzureContext
    cluster: cs.ManagedCluster
    parent: pulumi.Resource


def general_pool(name: str, c: AzureConfig, subnet_id: pulumi.Input[str], target: PoolTarget) -> cs.AgentPool:
    pool = c.general_pool
    return _agent_pool(
        f"{name}-{GENERAL_POOL}",
        target,
        _PoolSpec(
            pool_name=GENERAL_POOL,
            vm_size=pool.machine_type,
            min_nodes=pool.min_nodes,
            max_nodes=pool.max_nodes,
            disk_gb=pool.disk_gb,
            os_sku=CPU_OS_SKU,
            labels={POOL_LABEL: GENERAL_POOL},
            taints=[],
            zones=c.availability_zones,
        ),
        subnet_id,
    )


def gpu_pool(
    name: str,
    pool: GpuPool,
    c: AzureConfig,
    subnet_id: pulumi.Input[str],
    target: PoolTarget,
    *,
    after: pulumi.Resource,
) -> cs.AgentPool:
    gpu = pool.gpu_for(CLOUD)
    offer = catalog.pick(gpu, CLOUD, target.context.location, pool.gpus_per_node)
    if offer is None:  # config validation rules this out; a bare None here would be a confusing KeyError
        raise ValueError(f"no Azure VM carries {pool.gpus_per_node} x {gpu} in {target.context.location}")
    spec = _PoolSpec(
        pool_name=pool.name,
        vm_size=offer.machine_type,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        disk_gb=pool.disk_gb,
        os_sku=GPU_OS_SKU,
        labels={POOL_LABEL: pool.name, GPU_PRESENT_LABEL: "true", GPU_LABEL: gpu},
        taints=[GPU_TAINT, SPOT_TAINT] if pool.spot else [GPU_TAINT],
        spot=pool.spot,
        gpu=True,
        zones=c.gpu_pool_zones.get(pool.name, ()),
    )
    return _agent_pool(f"{name}-gpu-{pool.name}", target, spec, subnet_id, after)


@dataclass(frozen=True)
class _PoolSpec:
    pool_name: str
    vm_size: str
    min_nodes: int
    max_nodes: int
    disk_gb: int
    os_sku: str
    labels: dict[str, str]
    taints: list[str]
    spot: bool = False
    gpu: bool = False
    zones: tuple[str, ...] = ()


def _agent_pool(
    resource_name: str,
    target: PoolTarget,
    spec: _PoolSpec,
    subnet_id: pulumi.Input[str],
    after: pulumi.Resource | None = None,
) -> cs.AgentPool:
    return cs.AgentPool(
        resource_name,
        agent_pool_name=spec.pool_name,
        resource_group_name=target.context.resource_group_name,
        resource_name_=target.cluster.name,
        mode="User",
        vm_size=spec.vm_size,
        count=spec.min_nodes,
        enable_auto_scaling=True,
        min_count=spec.min_nodes,
        max_count=spec.max_nodes,
        os_type="Linux",
        os_sku=spec.os_sku,
        os_disk_size_gb=spec.disk_gb,
        type="VirtualMachineScaleSets",
        node_labels=spec.labels,
        node_taints=spec.taints,
        enable_encryption_at_host=True,
        enable_node_public_ip=False,
        vnet_subnet_id=subnet_id,
        # Spot: evicted nodes are deleted (not deallocated, which would keep paying for disks), and the
        # price cap -1 means "up to the on-demand price", so eviction happens only for capacity.
        scale_set_priority="Spot" if spec.spot else "Regular",
        scale_set_eviction_policy="Delete" if spec.spot else None,
        spot_max_price=-1 if spec.spot else None,
        gpu_profile=cs.GPUProfileArgs(driver="Install") if spec.gpu else None,
        availability_zones=list(spec.zones) or None,
        tags=target.context.tags("nodepool"),
        # The autoscaler owns the node count after creation; re-applying `count` would fight it.
        opts=pulumi.ResourceOptions(
            parent=target.parent, ignore_changes=["count"], depends_on=[after] if after else []
        ),
    )
