"""GCP checks: pure functions of `GcpFacts` and the stack config (docs/gcp.md says what each needs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from infra.catalog import Cloud, usable_zones
from infra.config import StackConfig
from infra.config.gcp import GcpConfig
from preflight.checks.common import name_row, quota_row, unreadable
from preflight.facts import GcpFacts, Quota, Unreadable
from preflight.pools import PoolMachine, gpu_machines
from preflight.report import Row, Status

CLOUD: Cloud = "gcp"
KEY = "gpu-platform:gcp"
GPU_QUOTA_METRICS = {
    "nvidia-tesla-t4": "NVIDIA_T4_GPUS",
    "nvidia-l4": "NVIDIA_L4_GPUS",
    "nvidia-tesla-a100": "NVIDIA_A100_GPUS",
    "nvidia-a100-80gb": "NVIDIA_A100_80GB_GPUS",
    "nvidia-h100-80gb": "NVIDIA_H100_GPUS",
}
"""Accelerator type -> its regional on-demand quota metric; Spot VMs draw on `PREEMPTIBLE_<metric>` where
the project has that quota, else on the on-demand one (docs/gcp.md)."""
ALL_REGIONS = "GPUS_ALL_REGIONS"
PREREQUISITE_APIS = ("serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com")
"""Enabling any other API needs these two, so the program cannot enable them itself."""
QUOTA_FIX = "request it under IAM & Admin > Quotas (compute.googleapis.com)"


def accelerator(machine: PoolMachine) -> str:
    if machine.offer.accelerator is None:
        raise ValueError(f"{machine.offer.machine_type} has no accelerator type in the catalog")
    return machine.offer.accelerator


def quota_metric(machine: PoolMachine, quotas: Mapping[str, Quota]) -> str:
    """The regional metric a pool's GPUs count against."""
    metric = GPU_QUOTA_METRICS[accelerator(machine)]
    preemptible = quotas.get(f"PREEMPTIBLE_{metric}")
    return f"PREEMPTIBLE_{metric}" if machine.pool.spot and preemptible and preemptible.limit > 0 else metric


def pool_zones(machine: PoolMachine, gcp: GcpConfig) -> tuple[str, ...]:
    """The zones the program puts the pool in: the cluster's zones that the catalog says carry the GPU."""
    return usable_zones(machine.offer, gcp.region, gcp.cluster_zones) or ()


def identity(facts: GcpFacts, gcp: GcpConfig) -> Row:
    project = facts.project
    who = f"ADC principal {facts.principal}"
    if isinstance(project, Unreadable):
        found = f"{who} cannot read project {gcp.project}: {project.error}"
        fix = f"check gcp:project, or grant the deployer's roles on it (docs/gcp.md; {project.permission})"
        return Row(CLOUD, "identity", Status.FAIL, found, fix)
    found = f"{who}; project {gcp.project} (number {project.number}) is {project.state}"
    if project.state != "ACTIVE":
        return Row(CLOUD, "identity", Status.FAIL, found, "set gcp:project to an active project")
    return Row(CLOUD, "identity", Status.PASS, found)


def versions(facts: GcpFacts, gcp: GcpConfig) -> Row:
    minor, channel = gcp.kubernetes_version, gcp.release_channel
    where = f"GKE's {channel} channel at {gcp.cluster_zone or gcp.region}"
    valid = facts.channel_versions
    if isinstance(valid, Unreadable):
        return unreadable(CLOUD, "versions", where, valid)
    matching = [v for v in valid if v.startswith(f"{minor}.")]
    if matching:
        return Row(CLOUD, "versions", Status.PASS, f"{where} offers {minor} ({matching[0]})")
    minors = sorted({".".join(v.split(".")[:2]) for v in valid})
    found = f"{where} does not offer {minor}; it offers {', '.join(minors) or 'nothing'}"
    fix = f"set {KEY}.kubernetesVersion to one of {', '.join(minors)}, or another releaseChannel"
    return Row(CLOUD, "versions", Status.FAIL, found, fix)


def capacity(facts: GcpFacts, cfg: StackConfig, gcp: GcpConfig) -> list[Row]:
    machines = gpu_machines(cfg, CLOUD)
    zones = [_zones(facts, m, gcp) for m in machines]
    return [*_regional_quotas(facts, machines, gcp), _all_regions(facts, machines), *zones]


def _regional_quotas(facts: GcpFacts, machines: list[PoolMachine], gcp: GcpConfig) -> list[Row]:
    quotas = facts.quotas
    if isinstance(quotas, Unreadable):
        return [unreadable(CLOUD, "capacity", f"the GPU quotas of {gcp.region}", quotas)]
    needs: dict[str, list[PoolMachine]] = defaultdict(list)
    for m in machines:
        needs[quota_metric(m, quotas)].append(m)
    rows = []
    for metric, users in needs.items():
        need = sum(m.gpus for m in users)
        label = f"{metric} in {gcp.region} for {', '.join(m.describe() for m in users)}"
        fix = f"{QUOTA_FIX}: {metric} in {gcp.region} >= {need}"
        rows.append(quota_row(CLOUD, label, quotas.get(metric, Quota(0)), need, unit="GPUs", fix=fix))
    return rows


def _all_regions(facts: GcpFacts, machines: list[PoolMachine]) -> Row:
    quotas = facts.project_quotas
    if isinstance(quotas, Unreadable):
        return unreadable(CLOUD, "capacity", f"the project's {ALL_REGIONS} quota", quotas)
    need = sum(m.gpus for m in machines)
    fix = f"{QUOTA_FIX}: {ALL_REGIONS} >= {need}"
    quota = quotas.get(ALL_REGIONS, Quota(0))
    return quota_row(CLOUD, f"{ALL_REGIONS} (all pools)", quota, need, unit="GPUs", fix=fix)


def _zones(facts: GcpFacts, machine: PoolMachine, gcp: GcpConfig) -> Row:
    gpu, zones = accelerator(machine), pool_zones(machine, gcp)
    missing = []
    for zone in zones:
        offered = facts.accelerators[zone]
        if isinstance(offered, Unreadable):
            return unreadable(CLOUD, "capacity", f"the accelerator types of {zone}", offered)
        if gpu not in offered:
            missing.append(zone)
    pool = machine.pool.name
    if not missing:
        return Row(CLOUD, "capacity", Status.PASS, f"{pool}: {gpu} is offered in {', '.join(zones)}")
    found = (
        f"{pool}: {', '.join(missing)} do not offer {gpu} to this project (pool zones: {', '.join(zones)})"
    )
    fix = (
        f"set {KEY}.clusterZone or nodeZones to zones offering {gpu} (gcloud compute accelerator-types list)"
    )
    return Row(CLOUD, "capacity", Status.FAIL, found, fix)


def names(facts: GcpFacts, gcp: GcpConfig) -> Row:
    if isinstance(facts.bucket, Unreadable):
        return unreadable(CLOUD, "names", f"GCS bucket {gcp.bucket_name}", facts.bucket)
    return name_row(CLOUD, "GCS bucket", f"{KEY}.bucketName", gcp.bucket_name, facts.bucket)


def prerequisites(facts: GcpFacts, gcp: GcpConfig) -> Row:
    disabled = []
    for api in PREREQUISITE_APIS:
        enabled = facts.services[api]
        if isinstance(enabled, Unreadable):
            return unreadable(CLOUD, "prerequisites", f"whether {api} is enabled", enabled)
        if not enabled:
            disabled.append(api)
    if not disabled:
        return Row(CLOUD, "prerequisites", Status.PASS, f"{' and '.join(PREREQUISITE_APIS)} are enabled")
    found = f"not enabled on {gcp.project}: {', '.join(disabled)} (the program enables every other API)"
    fix = f"gcloud services enable {' '.join(disabled)} --project {gcp.project}"
    return Row(CLOUD, "prerequisites", Status.FAIL, found, fix)


def check(facts: GcpFacts, cfg: StackConfig) -> list[Row]:
    gcp = cfg.gcp
    if gcp is None:
        raise ValueError("the stack does not enable gcp")
    return [
        identity(facts, gcp),
        versions(facts, gcp),
        *capacity(facts, cfg, gcp),
        names(facts, gcp),
        prerequisites(facts, gcp),
    ]
