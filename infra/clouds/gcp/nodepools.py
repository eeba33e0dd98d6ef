"""GKE node pools: the on-demand system pool (which also runs the general CPU workloads) and one pool per
configured GPU pool, all with the same hardened node config.

Autoscaling uses GKE's *total* limits, never the per-zone ones: in a regional cluster `minNodeCount` and
`maxNodeCount` apply to each zone, so a pool of 0-4 would become 0-12 across three zones, and the config's
numbers would mean different things on GCP than on AWS and Azure. Total limits hold on zonal clusters too.

A GPU pool runs only in the cluster's zones that offer its GPU (the catalog's zones; config validation
refuses a pool left with none), never in every cluster zone, where GKE would fail to create its nodes.

Upgrades: the system pool surges one node (CPU quota is plentiful, and no add-on goes down). A GPU pool
instead takes one node down before it adds one (`maxSurge: 0, maxUnavailable: 1`): a surge node needs
GPU quota beyond `maxNodes x gpusPerNode`, which is what a project is usually granted, and without it
GKE retries the upgrade forever. Training resumes from its checkpoints, and serving keeps a replica by
its PodDisruptionBudget. Both happen only in the cluster's maintenance window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import catalog
from infra.clouds.base import GENERAL_POOL, GPU_LABEL, GPU_PRESENT_LABEL, POOL_LABEL
from infra.clouds.gcp.context import CLOUD, CLOUD_PLATFORM_SCOPE
from infra.config.types import GpuPool, SystemPool

DISK_TYPE = "pd-balanced"
"""Supported by every machine family in the catalog (N1, E2, G2, A2, A3); pd-standard is not on G2."""
SYSTEM_UPGRADE = {"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0}
GPU_UPGRADE = {"strategy": "SURGE", "max_surge": 0, "max_unavailable": 1}


@dataclass(frozen=True, kw_only=True)
class NodeDefaults:
    """What every pool of the cluster shares."""

    cluster: pulumi.Input[str]
    location: str
    zones: int
    """Zones a pool spreads over by default: its initial node count is per zone."""
    cluster_zones: tuple[str, ...]
    """The zones named in config (the zonal cluster's, or a regional one's `nodeZones`); empty where GKE
    picks them."""
    service_account: pulumi.Input[str]
    boot_disk_key: pulumi.Input[str]
    node_tag: str
    resource_labels: Mapping[str, str]
    driver_version: str


def node_config(
    d: NodeDefaults,
    *,
    machine_type: str,
    disk_gb: int,
    spot: bool,
    labels: Mapping[str, str],
    accelerators: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "machine_type": machine_type,
        "disk_size_gb": disk_gb,
        "disk_type": DISK_TYPE,
        "boot_disk_kms_key": d.boot_disk_key,
        "image_type": "COS_CONTAINERD",
        "spot": spot,
        "service_account": d.service_account,
        # Scopes are all-or-nothing on GKE; the node service account's roles are what limit the nodes.
        "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        "metadata": {"disable-legacy-endpoints": "true"},
        "labels": dict(labels),
        "resource_labels": dict(d.resource_labels),
        "tags": [d.node_tag],
        "guest_accelerators": list(accelerators) or None,
    }


def _pool(
    name: str,
    d: NodeDefaults,
    *,
    min_nodes: int,
    max_nodes: int,
    spot: bool,
    config: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
    zones: Sequence[str] = (),
    upgrade: Mapping[str, Any] = SYSTEM_UPGRADE,
) -> gcp.container.NodePool:
    # Unnamed: Pulumi's auto-name lets a replacement (a new machine type, say) come up before the old pool
    # goes, instead of failing on a taken name.
    return gcp.container.NodePool(
        name,
        cluster=d.cluster,
        location=d.location,
        node_locations=list(zones) or None,
        initial_node_count=math.ceil(min_nodes / (len(zones) or d.zones)) or None,
        autoscaling={
            "total_min_node_count": min_nodes,
            "total_max_node_count": max_nodes,
            # ANY lets the autoscaler take whichever zone has Spot capacity (fewer preemptions).
            "location_policy": "ANY" if spot else "BALANCED",
        },
        management={"auto_repair": True, "auto_upgrade": True},
        upgrade_settings=dict(upgrade),
        node_config=config,
        opts=opts,
    )


def system_pool(
    name: str, d: NodeDefaults, sp: SystemPool, opts: pulumi.ResourceOptions
) -> gcp.container.NodePool:
    """On-demand CPU nodes for add-ons and the general workloads (serving when `serving.pool` is general)."""
    labels = {POOL_LABEL: GENERAL_POOL}
    config = node_config(d, machine_type=sp.machine_type, disk_gb=sp.disk_gb, spot=False, labels=labels)
    return _pool(
        name, d, min_nodes=sp.min_nodes, max_nodes=sp.max_nodes, spot=False, config=config, opts=opts
    )


def gpu_pool(
    name: str, d: NodeDefaults, pool: GpuPool, region: str, opts: pulumi.ResourceOptions
) -> gcp.container.NodePool:
    """GKE taints these nodes `nvidia.com/gpu=present:NoSchedule` itself (the cluster has a non-GPU pool)
    and installs the driver and device plugin, so the pool declares neither a taint nor a driver DaemonSet."""
    gpu = pool.gpu_for(CLOUD)
    offer = catalog.pick(gpu, CLOUD, region, pool.gpus_per_node)
    zones = catalog.usable_zones(offer, region, d.cluster_zones) if offer else None
    if offer is None or offer.accelerator is None or zones == ():
        raise ValueError(f"no GCP zone with {pool.gpus_per_node} x {gpu} in {region} (config validation)")
    accelerator = {
        "type": offer.accelerator,
        "count": offer.gpus_per_node,
        "gpu_driver_installation_config": {"gpu_driver_version": d.driver_version},
    }
    labels = {POOL_LABEL: pool.name, GPU_PRESENT_LABEL: "true", GPU_LABEL: gpu}
    config = node_config(
        d,
        machine_type=offer.machine_type,
        disk_gb=pool.disk_gb,
        spot=pool.spot,
        labels=labels,
        accelerators=[accelerator],
    )
    return _pool(
        name,
        d,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        spot=pool.spot,
        config=config,
        opts=opts,
        zones=zones or (),
        upgrade=GPU_UPGRADE,
    )
