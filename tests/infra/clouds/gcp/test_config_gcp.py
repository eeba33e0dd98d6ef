"""The GCP section's own rules: node zones belong to a regional cluster in the configured region."""

from __future__ import annotations

from typing import Any

import pytest

from infra import config
from plan import stackfile
from tests.plans import ROOT, merged, stack_values

GCP = "gpu-platform:gcp"


def problems_of(overrides: dict[str, Any], base: str) -> list[str]:
    files = stackfile.load(ROOT, f"{base}-test", overrides=merged(stack_values(base), overrides))
    with pytest.raises(config.ConfigError) as caught:
        config.parse(config.read_raw(files.config.get), stack=base)
    return caught.value.problems


def test_node_zones_must_be_in_the_region() -> None:
    problems = problems_of({GCP: {"nodeZones": ["us-central1-a", "us-east1-b"]}}, "prod")
    assert problems == [
        f'{GCP}.nodeZones[1]: got "us-east1-b"; expected a zone of us-central1, like us-central1-a'
    ]


def test_node_zones_only_on_a_regional_cluster() -> None:
    (problem,) = problems_of({GCP: {"nodeZones": ["us-central1-b"]}}, "dev")
    assert problem.startswith(f'{GCP}.nodeZones: got ["us-central1-b"]; expected no zones on a zonal cluster')


def test_node_zones_unique() -> None:
    (problem,) = problems_of({GCP: {"nodeZones": ["us-central1-a", "us-central1-a"]}}, "prod")
    assert problem.endswith("expected each zone at most once")


def test_a_gpu_pool_needs_a_cluster_zone_that_offers_its_gpu() -> None:
    """A100 80GB in us-central1 is in zones a and c only: on a zonal cluster in -b the pool would pass
    the region check and fail on GKE, so validation names the pool and where the GPU is."""
    pools = [
        {
            "name": "train",
            "gpu": {"aws": "t4", "gcp": "a100-80gb", "azure": "t4"},
            "minNodes": 0,
            "maxNodes": 1,
        }
    ]
    problems = problems_of({GCP: {"clusterZone": "us-central1-b"}, "gpu-platform:gpuPools": pools}, "dev")
    assert problems == [
        'gpu-platform:gpuPools[0].gpu: got "a100-80gb"; expected a GPU type offered in the cluster\'s zones '
        "(us-central1-b); a100-80gb is in us-central1-a, us-central1-c only"
    ]


def test_gke_maintenance_needs_48_hours_in_32_days() -> None:
    """GKE refuses a window that allows less than 48 hours in any 32 days: one day of 8 hours is 32."""
    window = {"days": ["Sunday"], "startTime": "02:00", "durationHours": 8}
    (problem,) = problems_of({GCP: {"maintenanceWindow": window}}, "dev")
    assert problem.startswith(f"{GCP}.maintenanceWindow: got ")
    assert "at least 48 hours of maintenance in any 32 days" in problem


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"days": ["Sunday", "Sunday", "Monday"]}, "each day at most once"),
        ({"startTime": "25:00"}, "a time of day in UTC, HH:MM"),
        ({"durationHours": 3}, "greater than or equal to 4"),
        ({"days": ["Sun"]}, "'Monday', 'Tuesday'"),
    ],
)
def test_maintenance_window_fields(window: dict[str, Any], expected: str) -> None:
    problems = problems_of({GCP: {"maintenanceWindow": window}}, "prod")
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"{GCP}.maintenanceWindow") for p in problems)
