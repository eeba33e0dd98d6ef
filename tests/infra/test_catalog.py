"""The GPU catalog: every entry priced and dated, every GPU type mapped or its absence explained."""

from __future__ import annotations

import datetime

import pytest

from infra import catalog
from infra.catalog import CATALOG, CLOUDS, GPU_TYPES, MachineOffer, Unavailable
from infra.regions import REGIONS

ENTRIES = [(gpu, cloud, entry) for gpu in GPU_TYPES for cloud in CLOUDS for entry in CATALOG[gpu][cloud]]
OFFERS = [
    pytest.param(e, id=f"{g}-{c}-{e.machine_type}") for g, c, e in ENTRIES if isinstance(e, MachineOffer)
]


@pytest.mark.parametrize("gpu", GPU_TYPES)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_each_gpu_is_offered_or_its_absence_explained(gpu: catalog.GpuType, cloud: catalog.Cloud) -> None:
    entries = CATALOG[gpu][cloud]
    offers = [e for e in entries if isinstance(e, MachineOffer)]
    absent = [e for e in entries if isinstance(e, Unavailable)]
    assert bool(offers) != bool(absent), entries
    assert all(len(a.reason) > 20 for a in absent)


@pytest.mark.parametrize("offer", OFFERS)
def test_every_offer_is_priced_dated_and_sourced(offer: MachineOffer) -> None:
    for price in (offer.on_demand, offer.spot):
        assert price.usd_per_hour > 0
        assert price.source
        assert datetime.date.fromisoformat(price.date) <= datetime.date(2026, 12, 31)
    assert offer.spot.usd_per_hour < offer.on_demand.usd_per_hour


@pytest.mark.parametrize("offer", OFFERS)
def test_offer_regions_are_real_regions_of_its_cloud(offer: MachineOffer) -> None:
    cloud = next(c for g, c, e in ENTRIES if e is offer)
    assert offer.regions
    assert set(offer.regions) <= set(REGIONS[cloud])


def test_gcp_offers_name_their_accelerator_and_others_do_not() -> None:
    for _, cloud, entry in ENTRIES:
        if isinstance(entry, MachineOffer):
            assert (entry.accelerator is not None) == (cloud == "gcp"), entry


def test_a10g_exists_only_on_aws() -> None:
    assert catalog.offers("a10g", "aws")
    assert catalog.unavailable_reason("a10g", "gcp")
    assert catalog.unavailable_reason("a10g", "azure")


def test_pick_chooses_by_gpus_per_node_and_region() -> None:
    one = catalog.pick("t4", "aws", "us-east-1", 1)
    four = catalog.pick("t4", "aws", "us-east-1", 4)
    assert one is not None
    assert one.machine_type == "g4dn.xlarge"
    assert four is not None
    assert four.machine_type == "g4dn.12xlarge"
    assert catalog.pick("t4", "aws", "us-east-1", 2) is None
    assert catalog.pick("h100-80gb", "aws", "eu-west-1", 8) is None


def test_types_in_region_lists_what_the_region_offers() -> None:
    assert catalog.types_in_region("azure", "eastus") == ["t4", "a100-40gb", "a100-80gb", "h100-80gb"]
    assert "l4" not in catalog.types_in_region("azure", "eastus")
