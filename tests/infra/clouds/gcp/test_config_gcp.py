"""The GCP section's own rules: node zones belong to a regional cluster in the configured region."""

from __future__ import annotations

from typing import Any

import pytest

from infra import config
from infra.plan import stackfile
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
