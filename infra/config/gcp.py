"""`gpu-platform:gcp`: the GCP section, its naming rules and its facts; the project and region come from
`gcp:project` and `gcp:region`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra.config.cloud import CloudSection
from infra.config.section import Section, camel, problem
from infra.config.types import (
    ApiAccess,
    Cidr,
    GpuPool,
    KubernetesVersion,
    MaintenanceWindow,
    SystemPool,
    pattern,
)


def _gcs_bucket(name: str) -> str:
    if name.startswith("goog") or "google" in name:
        raise ValueError("expected a GCS bucket name that neither starts with 'goog' nor contains 'google'")
    return name


GcsBucketName = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", "a GCS bucket name: 3-63 lowercase letters, digits, - and _"
    ),
    AfterValidator(_gcs_bucket),
]
ArtifactRepositoryId = Annotated[
    str, pattern(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", "an Artifact Registry id: lowercase, digits, hyphens")
]
GcpProjectId = Annotated[
    str, pattern(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", "a GCP project id: 6-30 lowercase, digits, -")
]


def _gke_window(window: MaintenanceWindow) -> MaintenanceWindow:
    # cloud.google.com/kubernetes-engine/docs/how-to/maintenance-windows-and-exclusions
    if window.hours_per_32_days() < 48:
        raise ValueError(
            "expected at least 48 hours of maintenance in any 32 days, which GKE requires: "
            "4 x days x durationHours >= 48 (for example two days of 8 hours)"
        )
    return window


class GcpNetwork(Section):
    subnet_cidr: Cidr
    pods_cidr: Cidr
    services_cidr: Cidr
    master_cidr: Annotated[Cidr, pattern(r"/28$", "a /28 network")]
    """GKE needs a /28 for the control plane's private endpoint peering."""


class GcpConfig(CloudSection):
    CLOUD = "gcp"
    PROVIDER_KEYS = {"project": "gcp:project", "region": "gcp:region"}

    project: GcpProjectId
    region: str
    cluster_zone: str | None = None
    """Set for a zonal cluster (cheaper, one zone); unset for a regional one."""
    node_zones: tuple[str, ...] = ()
    """Zones of a regional cluster's nodes. GKE otherwise picks three zones itself, and a GPU type is not
    offered in every zone of a region: name zones that carry every GPU type of the pools."""
    network: GcpNetwork
    kubernetes_version: KubernetesVersion
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    api_access: ApiAccess
    system_pool: SystemPool
    gpu_driver_version: Literal["DEFAULT", "LATEST"] = "DEFAULT"
    maintenance_window: Annotated[MaintenanceWindow, AfterValidator(_gke_window)] = MaintenanceWindow()
    """When GKE may upgrade the control plane and nodes; saturday and sunday from 02:00 UTC, 8 hours."""
    key_rotation_days: int = Field(default=90, ge=1, le=90)
    bucket_name: GcsBucketName
    registry_name: ArtifactRepositoryId

    @property
    def cluster_zones(self) -> tuple[str, ...]:
        """The zones the cluster's nodes may use; empty for a regional cluster where GKE picks them."""
        return (self.cluster_zone,) if self.cluster_zone else self.node_zones

    def owned_ranges(self) -> list[tuple[str, str]]:
        fields = ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
        return [(f"gcp.network.{camel(f)}", getattr(self.network, f)) for f in fields]

    def checks(self, pools: Sequence[GpuPool]) -> Iterator[str]:
        """Every named zone is one of the region's, and a zonal cluster names no node zones."""
        like = f"a zone of {self.region}, like {self.region}-a"
        if self.cluster_zone is not None and not self.cluster_zone.startswith(f"{self.region}-"):
            yield problem(self.key("cluster_zone"), self.cluster_zone, like)
        key = self.key("node_zones")
        if self.node_zones and self.cluster_zone is not None:
            yield problem(key, list(self.node_zones), "no zones on a zonal cluster (clusterZone is set)")
        for i, zone in enumerate(self.node_zones):
            if not zone.startswith(f"{self.region}-"):
                yield problem(f"{key}[{i}]", zone, like)
        if len(set(self.node_zones)) != len(self.node_zones):
            yield problem(key, list(self.node_zones), "each zone at most once")
