"""GPU catalog: abstract GPU types mapped to each cloud's machine types, regions and list prices.

Config validation reads it (a GPU type must exist in the configured region), the cloud components read
the machine type from it, and the cost estimate reads the prices. Prices are list prices in USD per node
hour for the named region; spot prices move daily, so each spot figure is a typical recent value and says
so in its source. A type that a cloud does not offer is recorded with the reason, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Cloud = Literal["aws", "gcp", "azure"]
CLOUDS: tuple[Cloud, ...] = ("aws", "gcp", "azure")
GpuType = Literal["t4", "l4", "a10g", "a100-40gb", "a100-80gb", "h100-80gb"]
GPU_TYPES: tuple[GpuType, ...] = ("t4", "l4", "a10g", "a100-40gb", "a100-80gb", "h100-80gb")

PRICE_DATE = "2026-11-02"
_AWS_SRC = "aws.amazon.com/ec2/pricing/on-demand (us-east-1, Linux)"
_AWS_SPOT_SRC = "aws.amazon.com/ec2/spot/pricing (us-east-1, typical over 30 days)"
_GCP_SRC = "cloud.google.com/compute/gpus-pricing + vm-instance-pricing (us-central1)"
_GCP_SPOT_SRC = "cloud.google.com/spot-vms/pricing (us-central1, typical)"
_AZ_SRC = "azure.microsoft.com/pricing/details/virtual-machines/linux (East US, pay-as-you-go)"
_AZ_SPOT_SRC = "azure.microsoft.com/pricing/details/virtual-machines/linux (East US, Spot, typical)"


@dataclass(frozen=True)
class Price:
    usd_per_hour: float
    source: str
    date: str = PRICE_DATE


@dataclass(frozen=True)
class MachineOffer:
    """One machine type that carries a GPU type on one cloud."""

    machine_type: str
    gpus_per_node: int
    gpu_memory_gb: int
    vcpus: int
    memory_gb: int
    regions: tuple[str, ...]
    on_demand: Price
    spot: Price
    accelerator: str | None = None
    """GCP's accelerator type: attached to N1 machines, bundled with A2/A3/G2, and named in the node pool's
    guest accelerator either way (GKE installs the driver from it). None on clouds that bundle the GPU."""
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    """Region -> the zones that offer this machine, where the cloud publishes one list for everybody (GCP).
    Empty where zones are per account (AWS zone names, Azure logical zones): the program asks EC2 at
    deploy time, and `preflight` asks each cloud for the deployer's own account."""

    def zones_in(self, region: str) -> tuple[str, ...] | None:
        """The zones of `region` that offer this machine; None where the catalog does not record them."""
        return self.zones.get(region) if self.zones else None


@dataclass(frozen=True)
class Unavailable:
    reason: str


Entry = MachineOffer | Unavailable

_AWS_T4_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")
_AWS_G5_G6_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")
_AWS_P_REGIONS = ("us-east-1", "us-east-2", "us-west-2")


def _gcp_zones(letters: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    return {region: tuple(f"{region}-{z}" for z in zs) for region, zs in letters.items()}


# Zones per region that offer each GPU (`gcloud compute accelerator-types list`, as compiled in the
# SkyPilot catalog from the Compute Engine API, cross-checked against the "Regions and zones" machine
# series table, 2026). Where the two disagreed (L4 in us-west1-c, A100 40GB in asia-southeast1-b) the zone
# is left out.
_GCP_T4_ZONES = _gcp_zones(
    {"us-central1": "abcf", "us-east1": "bcd", "us-east4": "abc", "us-west1": "ab", "europe-west4": "abc",
     "asia-east1": "ac"}
)  # fmt: skip
_GCP_L4_ZONES = _gcp_zones(
    {"us-central1": "abc", "us-east1": "bcd", "us-east4": "ac", "us-west1": "ab", "europe-west4": "abc",
     "asia-southeast1": "abc"}
)  # fmt: skip
_GCP_A100_40_ZONES = _gcp_zones({"us-central1": "abcf", "europe-west4": "ab", "asia-southeast1": "ac"})
_GCP_A100_80_ZONES = _gcp_zones(
    {"us-central1": "ac", "us-east4": "c", "europe-west4": "a", "asia-southeast1": "c"}
)
_GCP_H100_ZONES = _gcp_zones({"us-central1": "abc", "us-east4": "abc", "us-east5": "a", "europe-west4": "bc"})
_AZ_T4_REGIONS = ("eastus", "eastus2", "southcentralus", "westus2", "westeurope", "northeurope")
_AZ_A100_REGIONS = ("eastus", "eastus2", "southcentralus", "westus3", "westeurope")
_AZ_H100_REGIONS = ("eastus", "eastus2", "southcentralus", "westus3", "swedencentral")


_SOURCES: dict[Cloud, tuple[str, str]] = {
    "aws": (_AWS_SRC, _AWS_SPOT_SRC),
    "gcp": (_GCP_SRC, _GCP_SPOT_SRC),
    "azure": (_AZ_SRC, _AZ_SPOT_SRC),
}


def _row(  # noqa: PLR0917 - one row of the table below, read by position like its neighbours
    cloud: Cloud,
    machine: str,
    gpus: int,
    gpu_gb: int,
    vcpus: int,
    ram_gb: int,
    where: tuple[str, ...] | Mapping[str, tuple[str, ...]],
    on_demand: float,
    spot: float,
    accelerator: str | None = None,
) -> MachineOffer:
    """`where` is the regions, or (GCP) each region's zones."""
    on_demand_src, spot_src = _SOURCES[cloud]
    zones = dict(where) if isinstance(where, Mapping) else {}
    regions = tuple(zones) if zones else tuple(where)
    return MachineOffer(
        machine, gpus, gpu_gb, vcpus, ram_gb, regions, Price(on_demand, on_demand_src), Price(spot, spot_src),
        accelerator, zones,
    )  # fmt: skip


# Columns: cloud, machine type, GPUs per node, GPU memory (GB), vCPUs, RAM (GB), regions, on-demand and
# spot $/h.
CATALOG: dict[GpuType, dict[Cloud, tuple[Entry, ...]]] = {
    "t4": {
        "aws": (
            _row("aws", "g4dn.xlarge", 1, 16, 4, 16, _AWS_T4_REGIONS, 0.526, 0.2104),
            _row("aws", "g4dn.12xlarge", 4, 64, 48, 192, _AWS_T4_REGIONS, 3.912, 1.5648),
        ),
        "gcp": (_row("gcp", "n1-standard-4", 1, 16, 4, 15, _GCP_T4_ZONES, 0.54, 0.18, "nvidia-tesla-t4"),),
        "azure": (
            _row("azure", "Standard_NC4as_T4_v3", 1, 16, 4, 28, _AZ_T4_REGIONS, 0.526, 0.0526),
            _row("azure", "Standard_NC64as_T4_v3", 4, 64, 64, 440, _AZ_T4_REGIONS, 4.352, 0.4352),
        ),
    },
    "l4": {
        "aws": (_row("aws", "g6.xlarge", 1, 24, 4, 16, _AWS_G5_G6_REGIONS, 0.8048, 0.3219),),
        "gcp": (_row("gcp", "g2-standard-8", 1, 24, 8, 32, _GCP_L4_ZONES, 0.8536, 0.3414, "nvidia-l4"),),
        "azure": (Unavailable("Azure has no VM size with an NVIDIA L4; use t4 or a100-80gb there."),),
    },
    "a10g": {
        "aws": (_row("aws", "g5.xlarge", 1, 24, 4, 16, _AWS_G5_G6_REGIONS, 1.006, 0.4024),),
        "gcp": (Unavailable("The A10G is an AWS-only part (EC2 G5); GCP's nearest is the l4."),),
        "azure": (
            Unavailable(
                "The A10G is an AWS-only part; Azure's NVads A10 v5 sizes are a different, "
                "partitioned A10 meant for graphics."
            ),
        ),
    },
    "a100-40gb": {
        "aws": (_row("aws", "p4d.24xlarge", 8, 320, 96, 1152, _AWS_P_REGIONS, 21.9576, 8.783),),
        "gcp": (
            _row(
                "gcp", "a2-highgpu-1g", 1, 40, 12, 85, _GCP_A100_40_ZONES, 3.6731, 1.4692, "nvidia-tesla-a100"
            ),
        ),
        "azure": (_row("azure", "Standard_ND96asr_v4", 8, 320, 96, 900, _AZ_A100_REGIONS, 27.197, 5.4394),),
    },
    "a100-80gb": {
        "aws": (
            _row("aws", "p4de.24xlarge", 8, 640, 96, 1152, ("us-east-1", "us-west-2"), 27.4471, 10.9788),
        ),
        "gcp": (
            _row(
                "gcp",
                "a2-ultragpu-1g",
                1,
                80,
                12,
                170,
                _GCP_A100_80_ZONES,
                5.0688,
                2.0275,
                "nvidia-a100-80gb",
            ),
        ),
        "azure": (
            _row("azure", "Standard_NC24ads_A100_v4", 1, 80, 24, 220, _AZ_A100_REGIONS, 3.673, 0.7346),
        ),
    },
    "h100-80gb": {
        "aws": (_row("aws", "p5.48xlarge", 8, 640, 192, 2048, _AWS_P_REGIONS, 55.04, 22.016),),
        # a3-highgpu-1g/2g/4g exist only as Spot or flex-start VMs; the 8-GPU shape is the one an
        # on-demand pool can rely on.
        "gcp": (
            _row(
                "gcp",
                "a3-highgpu-8g",
                8,
                640,
                208,
                1872,
                _GCP_H100_ZONES,
                88.2494,
                35.2998,
                "nvidia-h100-80gb",
            ),
        ),
        "azure": (
            _row("azure", "Standard_ND96isr_H100_v5", 8, 640, 96, 1900, _AZ_H100_REGIONS, 98.32, 19.664),
        ),
    },
}


def offers(gpu: GpuType, cloud: Cloud) -> tuple[MachineOffer, ...]:
    return tuple(e for e in CATALOG[gpu][cloud] if isinstance(e, MachineOffer))


def unavailable_reason(gpu: GpuType, cloud: Cloud) -> str | None:
    return next((e.reason for e in CATALOG[gpu][cloud] if isinstance(e, Unavailable)), None)


def types_in_region(cloud: Cloud, region: str) -> list[GpuType]:
    return [g for g in GPU_TYPES if any(region in o.regions for o in offers(g, cloud))]


def regions_for(gpu: GpuType, cloud: Cloud) -> list[str]:
    return sorted({r for o in offers(gpu, cloud) for r in o.regions})


def usable_zones(offer: MachineOffer, region: str, within: Sequence[str]) -> tuple[str, ...] | None:
    """The zones a pool of `offer` may use: those of `within` (the cluster's zones; empty for any zone of
    the region) that offer the machine, in the catalog's order. None where the catalog records no zones."""
    zones = offer.zones_in(region)
    if zones is None:
        return None
    return tuple(z for z in zones if not within or z in within)


def pick(gpu: GpuType, cloud: Cloud, region: str, gpus_per_node: int) -> MachineOffer | None:
    """The machine that carries `gpus_per_node` GPUs of this type in the region, if any."""
    return next(
        (o for o in offers(gpu, cloud) if region in o.regions and o.gpus_per_node == gpus_per_node), None
    )
