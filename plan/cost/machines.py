"""Node prices: GPU machines from `infra.catalog`, the CPU machines the system and general pools use
from the table here, and node disks. A machine type in neither is a `PriceError` naming the ones that
have a price, so a new system machine type gets a price before it gets a silent $0."""

from __future__ import annotations

from dataclasses import dataclass

from infra import catalog
from infra.catalog import Cloud, Price
from plan.cost.model import HOURS_PER_MONTH, Charge, PriceError, Rate
from plan.cost.prices import DATE, rate

_AWS = "aws.amazon.com/ec2/pricing/on-demand (us-east-1 and us-west-2, Linux)"
_GCP = "cloud.google.com/compute/vm-instance-pricing (us-central1)"
_AZ = "azure.microsoft.com/pricing/details/virtual-machines/linux (East US and East US 2, pay-as-you-go)"

CPU_MACHINES: dict[Cloud, dict[str, Price]] = {
    "aws": {
        "t3.medium": Price(0.0416, _AWS, DATE),
        "t3.large": Price(0.0832, _AWS, DATE),
        "t3.xlarge": Price(0.1664, _AWS, DATE),
        "m6i.large": Price(0.096, _AWS, DATE),
        "m6i.xlarge": Price(0.192, _AWS, DATE),
        "m6i.2xlarge": Price(0.384, _AWS, DATE),
        "m7i.large": Price(0.1008, _AWS, DATE),
        "m7i.xlarge": Price(0.2016, _AWS, DATE),
    },
    "gcp": {
        "e2-medium": Price(0.033503, _GCP, DATE),
        "e2-standard-2": Price(0.067006, _GCP, DATE),
        "e2-standard-4": Price(0.134012, _GCP, DATE),
        "e2-standard-8": Price(0.268024, _GCP, DATE),
        "n2-standard-2": Price(0.097118, _GCP, DATE),
        "n2-standard-4": Price(0.194236, _GCP, DATE),
    },
    "azure": {
        "Standard_B2s": Price(0.0416, _AZ, DATE),
        "Standard_B2ms": Price(0.0832, _AZ, DATE),
        "Standard_D2as_v5": Price(0.086, _AZ, DATE),
        "Standard_D4as_v5": Price(0.172, _AZ, DATE),
        "Standard_D2s_v5": Price(0.096, _AZ, DATE),
        "Standard_D4s_v5": Price(0.192, _AZ, DATE),
        "Standard_D8s_v5": Price(0.384, _AZ, DATE),
    },
}
"""On-demand prices of CPU machines for system and general pools. Spot is not offered for them here:
system pools stay on-demand so that add-ons survive preemption."""

_EBS = "aws.amazon.com/ebs/pricing"
_PD = "cloud.google.com/compute/disks-image-pricing (us-central1)"
_MD = "azure.microsoft.com/pricing/details/managed-disks (Premium SSD, LRS)"
DISK_GB_MONTH: dict[Cloud, dict[str, Rate]] = {
    "aws": {"gp3": rate(0.08, "GB-month", _EBS), "gp2": rate(0.10, "GB-month", _EBS)},
    "gcp": {
        "pd-balanced": rate(0.10, "GB-month", _PD),
        "pd-standard": rate(0.04, "GB-month", _PD),
        "pd-ssd": rate(0.17, "GB-month", _PD),
    },
}
AZURE_PREMIUM_SSD: tuple[tuple[int, str, float], ...] = (
    (32, "P4", 5.28),
    (64, "P6", 10.21),
    (128, "P10", 19.71),
    (256, "P15", 38.02),
    (512, "P20", 73.22),
    (1024, "P30", 135.17),
    (2048, "P40", 259.05),
)
"""Size ceiling (GiB), tier, USD per disk-month: a managed disk is billed at the tier that holds it."""


@dataclass(frozen=True)
class Pool:
    """What a node pool costs per node, and how many nodes it runs idle (min) and busy (max)."""

    cloud: Cloud
    machine_type: str
    spot: bool
    min_nodes: int
    max_nodes: int


def _gpu_price(cloud: Cloud, machine_type: str, spot: bool) -> Price | None:
    for gpu in catalog.GPU_TYPES:
        for offer in catalog.offers(gpu, cloud):
            if offer.machine_type == machine_type:
                return offer.spot if spot else offer.on_demand
    return None


def known_machines(cloud: Cloud) -> list[str]:
    gpu = {o.machine_type for g in catalog.GPU_TYPES for o in catalog.offers(g, cloud)}
    return sorted(gpu | set(CPU_MACHINES[cloud]))


def node_price(cloud: Cloud, machine_type: str, spot: bool) -> tuple[Rate, str]:
    """The hourly price of one node, and a note when spot was asked for a CPU machine."""
    price = _gpu_price(cloud, machine_type, spot)
    note = ""
    if price is None and machine_type in CPU_MACHINES[cloud]:
        price = CPU_MACHINES[cloud][machine_type]
        note = "spot CPU node priced on-demand (an upper bound)" if spot else ""
    if price is None:
        raise PriceError(
            f"no {cloud} price for machine type {machine_type!r}; priced machine types: "
            f"{', '.join(known_machines(cloud))} (add it to plan/cost/machines.py or infra/catalog.py)"
        )
    unit = "spot node-hour" if spot and not note else "node-hour"
    return Rate(price.usd_per_hour, unit, price.source, price.date), note


def pool_charges(pool: Pool, label: str) -> list[Charge]:
    rate_, note = node_price(pool.cloud, pool.machine_type, pool.spot)
    hours = HOURS_PER_MONTH
    item = f"{label}: {pool.machine_type}{' spot' if pool.spot else ''} x {pool.min_nodes}-{pool.max_nodes}"
    return [Charge(item, rate_, pool.min_nodes * hours, pool.max_nodes * hours, note)]


def disk_charges(pool: Pool, disk_type: str, size_gb: float) -> list[Charge]:
    """Boot disks of a pool's nodes, billed per GB-month while the node exists."""
    rates = DISK_GB_MONTH.get(pool.cloud, {})
    if disk_type not in rates:
        raise PriceError(f"no {pool.cloud} price for disk type {disk_type!r}; priced: {', '.join(rates)}")
    item = f"node disks: {size_gb:g} GB {disk_type}"
    return [Charge(item, rates[disk_type], pool.min_nodes * size_gb, pool.max_nodes * size_gb)]


def azure_os_disk_charges(pool: Pool, size_gb: int) -> list[Charge]:
    """A managed OS disk per node, at the Premium SSD tier that holds `size_gb`."""
    for ceiling, tier, usd in AZURE_PREMIUM_SSD:
        if size_gb <= ceiling:
            item = f"node OS disks: {size_gb} GiB managed ({tier})"
            return [Charge(item, rate(usd, "disk-month", _MD), pool.min_nodes, pool.max_nodes)]
    raise PriceError(f"no Premium SSD tier holds an OS disk of {size_gb} GiB (largest priced: 2048)")
