"""Pricing rules for the GCP resources, from their captured inputs (wire names, camelCase)."""

from __future__ import annotations

import re
from typing import Any

from plan.cost import prices as p
from plan.cost.context import Context, Rule
from plan.cost.machines import Pool, disk_charges, pool_charges
from plan.cost.model import HOURS_PER_MONTH, Charge, PriceError, Rate
from plan.runner import PlannedResource

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
REGIONAL_DEFAULT_ZONES = 3
DEFAULT_LOG_COMPONENTS = 2
"""GKE logs SYSTEM_COMPONENTS and WORKLOADS when `loggingConfig` is unset."""
H = HOURS_PER_MONTH


def _zones(res: PlannedResource, ctx: Context) -> int:
    """Zones a pool's per-zone counts apply to: its own node locations, else its cluster's."""
    if res.inputs.get("nodeLocations"):
        return len(res.inputs["nodeLocations"])
    for cluster in ctx.dependencies(res, CLUSTER):
        if cluster.inputs.get("nodeLocations"):
            return len(cluster.inputs["nodeLocations"])
    return 1 if ZONE.match(str(res.inputs.get("location", ""))) else REGIONAL_DEFAULT_ZONES


def pool_nodes(res: PlannedResource, ctx: Context) -> tuple[int, int]:
    """Nodes at min and at max: GKE's total limits, else per-zone limits or a fixed count times zones."""
    scaling: dict[str, Any] = res.inputs.get("autoscaling") or {}
    if "totalMaxNodeCount" in scaling:
        return int(scaling.get("totalMinNodeCount", 0)), int(scaling["totalMaxNodeCount"])
    zones = _zones(res, ctx)
    if "maxNodeCount" in scaling:
        return int(scaling.get("minNodeCount", 0)) * zones, int(scaling["maxNodeCount"]) * zones
    count = res.inputs.get("nodeCount", res.inputs.get("initialNodeCount"))
    if count is None:
        raise PriceError("a node pool with neither autoscaling limits nor a node count")
    return int(count) * zones, int(count) * zones


def node_pool(res: PlannedResource, ctx: Context) -> list[Charge]:
    config: dict[str, Any] = res.inputs.get("nodeConfig") or {}
    low, high = pool_nodes(res, ctx)
    pool = Pool("gcp", str(config.get("machineType", "")), bool(config.get("spot")), low, high)
    label = "nodes"
    if config.get("guestAccelerators"):
        label = f"GPU nodes ({config['guestAccelerators'][0]['type']})"
    disk = disk_charges(
        pool, str(config.get("diskType", "pd-balanced")), float(config.get("diskSizeGb", 100))
    )
    return pool_charges(pool, label) + disk


def cluster(res: PlannedResource, ctx: Context) -> list[Charge]:
    charges = [Charge("GKE cluster management fee", p.GKE_FEE, H)]
    if ZONE.match(str(res.inputs.get("location", ""))):
        credit = Rate(-p.GKE_FEE.usd, p.GKE_FEE.unit, p.GKE_FEE.source, p.GKE_FEE.date)
        hours = min(H, p.GKE_FREE_TIER_USD / p.GKE_FEE.usd)
        note = (
            f"${p.GKE_FREE_TIER_USD:.2f}/month credit per billing account for one zonal or Autopilot "
            "cluster; assumes no other such cluster on this billing account uses it"
        )
        charges.append(Charge("GKE free tier credit (zonal cluster)", credit, hours, note=note))
    logging: dict[str, Any] = res.inputs.get("loggingConfig") or {}
    components = len(logging.get("enableComponents") or []) or DEFAULT_LOG_COMPONENTS
    gib = components * p.Assumed.GKE_LOG_GIB_PER_COMPONENT
    note = (
        f"assumed {gib:g} GiB/month ({components} logging components x "
        f"{p.Assumed.GKE_LOG_GIB_PER_COMPONENT:g} GiB); the first {p.GCP_LOGGING_FREE_GIB:g} GiB per project "
        "are free"
    )
    billable = max(0.0, gib - p.GCP_LOGGING_FREE_GIB)
    return [*charges, Charge("Cloud Logging ingestion", p.GCP_LOGGING_INGEST, billable, note=note)]


def router_nat(res: PlannedResource, ctx: Context) -> list[Charge]:
    idle = busy = 0
    for pool in ctx.of_cloud(res.cloud, NODE_POOL):
        low, high = pool_nodes(pool, ctx)
        idle, busy = idle + low, busy + high
    cap = p.GCP_NAT_MAX_VMS
    manual = res.inputs.get("natIpAllocateOption") == "MANUAL_ONLY"
    ips = len(res.inputs.get("natIps") or []) if manual else 1
    return [
        Charge(
            f"Cloud NAT: {idle}-{busy} VMs",
            p.GCP_NAT_VM_HOUR,
            min(idle, cap) * H,
            min(busy, cap) * H,
            "every node of the cluster's pools uses the gateway; billed up to 32 VMs",
        ),
        Charge(
            "Cloud NAT external IPs",
            p.GCP_NAT_IP_HOUR,
            ips * H,
            note="" if manual else "AUTO_ONLY: one address (64,512 ports) covers this cluster's nodes",
        ),
        Charge(
            "Cloud NAT data processing",
            p.GCP_NAT_GB,
            p.Assumed.NAT_GB,
            note=f"assumed {p.Assumed.NAT_GB:g} GiB/month",
        ),
    ]


def crypto_key(res: PlannedResource, ctx: Context) -> list[Charge]:
    template: dict[str, Any] = res.inputs.get("versionTemplate") or {}
    hsm = template.get("protectionLevel") == "HSM"
    rotation = str(res.inputs.get("rotationPeriod", ""))
    days = f"every {int(rotation.rstrip('s')) // 86_400} days" if rotation.endswith("s") else "on rotation"
    note = f"one active version; rotation ({days}) adds a billed version until old ones are destroyed"
    return [Charge("KMS key version", p.GCP_KMS_HSM_VERSION if hsm else p.GCP_KMS_VERSION, 1, note=note)]


def bucket(res: PlannedResource, ctx: Context) -> list[Charge]:
    storage_class = str(res.inputs.get("storageClass", "STANDARD"))
    if storage_class not in p.GCS_CLASSES:
        raise PriceError(f"no price for storage class {storage_class!r}; priced: {', '.join(p.GCS_CLASSES)}")
    gb = p.Assumed.OBJECT_STORE_GB
    note = f"assumed {gb:g} GB stored; operations and egress not included"
    return [Charge(f"GCS {storage_class.lower()} storage", p.GCS_CLASSES[storage_class], gb, note=note)]


def repository(res: PlannedResource, ctx: Context) -> list[Charge]:
    gb = p.Assumed.REGISTRY_GB
    note = f"assumed {gb:g} GB of images; the first {p.AR_FREE_GB:g} GB are free"
    return [Charge("Artifact Registry storage", p.AR_STORAGE, max(0.0, gb - p.AR_FREE_GB), note=note)]


RULES: dict[str, Rule] = {
    CLUSTER: cluster,
    NODE_POOL: node_pool,
    "gcp:compute/routerNat:RouterNat": router_nat,
    "gcp:kms/cryptoKey:CryptoKey": crypto_key,
    "gcp:storage/bucket:Bucket": bucket,
    "gcp:artifactregistry/repository:Repository": repository,
}
