"""The GCP checks on facts that satisfy them (PASS) and on each fact that breaks one (FAIL or WARN)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from preflight.checks import gcp
from preflight.facts import GcpProject, Name, Quota, Unreadable
from preflight.report import Row, Status
from tests.preflight.good import gcp_facts, stack

DENIED = Unreadable("HTTP 403: denied", "some.permission")


def rows(stack_name: str = "dev", /, **changes: Any) -> list[Row]:
    cfg = stack(stack_name)
    return gcp.check(replace(gcp_facts(cfg), **changes), cfg)


def only(found: list[Row], check: str, status: Status) -> Row:
    matching = [r for r in found if r.check == check and r.status is status]
    assert len(matching) == 1, found
    return matching[0]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_check_passes_on_good_facts(stack_name: str) -> None:
    found = rows(stack_name)
    assert {r.check for r in found} == {"identity", "versions", "capacity", "names", "prerequisites"}
    assert [r for r in found if r.status is not Status.PASS] == []


def test_a_project_the_principal_cannot_read_fails() -> None:
    row = only(rows(project=DENIED), "identity", Status.FAIL)
    assert "deployer@acme.example" in row.found
    assert "acme-gpu-platform-dev" in row.found
    assert "gcp:project" in row.fix


def test_a_project_being_deleted_fails() -> None:
    row = only(rows(project=GcpProject("1", "DELETE_REQUESTED")), "identity", Status.FAIL)
    assert "DELETE_REQUESTED" in row.found


def test_a_minor_outside_the_release_channel_fails_listing_its_minors() -> None:
    row = only(rows(channel_versions=("1.37.1-gke.1", "1.36.0-gke.2")), "versions", Status.FAIL)
    assert "REGULAR" in row.found
    assert "1.35" in row.found
    assert "1.36, 1.37" in row.fix


def test_spot_pools_count_against_the_preemptible_quota_where_the_project_has_one() -> None:
    quotas = {"PREEMPTIBLE_NVIDIA_T4_GPUS": Quota(1, 0), "NVIDIA_T4_GPUS": Quota(64)}
    row = only(rows(quotas=quotas), "capacity", Status.FAIL)
    assert "PREEMPTIBLE_NVIDIA_T4_GPUS" in row.found
    assert "the pools need 2" in row.found  # dev: 2 x n1-standard-4 with one T4 each
    assert "PREEMPTIBLE_NVIDIA_T4_GPUS in us-central1 >= 2" in row.fix


def test_without_preemptible_quota_spot_pools_count_against_the_on_demand_one() -> None:
    row = only(rows(quotas={"NVIDIA_T4_GPUS": Quota(1)}), "capacity", Status.FAIL)
    assert row.found.startswith("NVIDIA_T4_GPUS")


def test_a_region_without_the_metric_has_no_quota() -> None:
    row = only(rows("prod", quotas={"NVIDIA_T4_GPUS": Quota(6)}), "capacity", Status.FAIL)
    assert row.found.startswith("NVIDIA_L4_GPUS")
    assert "limit 0" in row.found


def test_the_all_regions_quota_covers_every_pool() -> None:
    # prod: 4 L4 (train) + 4 L4 (trainspot) + 6 T4 (serve).
    row = only(rows("prod", project_quotas={"GPUS_ALL_REGIONS": Quota(8)}), "capacity", Status.FAIL)
    assert "the pools need 14" in row.found


def test_a_pool_zone_without_the_accelerator_fails() -> None:
    accelerators = {**gcp_facts(stack("prod")).accelerators, "us-central1-b": frozenset({"nvidia-tesla-t4"})}
    failed = [r for r in rows("prod", accelerators=accelerators) if r.status is Status.FAIL]
    # prod: both training pools, on-demand train and its spot twin trainspot, carry the L4 on GKE.
    assert len(failed) == 2, failed
    for pool, row in zip(("train", "trainspot"), failed, strict=True):
        assert row.check == "capacity"
        assert row.found.startswith(f"{pool}: us-central1-b do not offer nvidia-l4")
        assert "nodeZones" in row.fix


def test_unreadable_quotas_and_zones_warn() -> None:
    found = rows(quotas=DENIED, project_quotas=DENIED, accelerators={"us-central1-a": DENIED})
    assert len([r for r in found if r.status is Status.WARN]) == 3


@pytest.mark.parametrize(
    ("name", "status"),
    [(Name("free"), Status.PASS), (Name("ours"), Status.PASS), (Name("taken"), Status.FAIL)],
)
def test_the_bucket_name_is_free_or_ours(name: Name, status: Status) -> None:
    row = only(rows(bucket=name), "names", status)
    assert "acme-gpu-platform-dev-ml" in row.found


def test_disabled_prerequisite_apis_fail_with_the_command_that_enables_them() -> None:
    services = {"serviceusage.googleapis.com": True, "cloudresourcemanager.googleapis.com": False}
    row = only(rows(services=services), "prerequisites", Status.FAIL)
    assert row.fix == (
        "gcloud services enable cloudresourcemanager.googleapis.com --project acme-gpu-platform-dev"
    )


@pytest.mark.parametrize("field", ["channel_versions", "quotas", "project_quotas", "bucket"])
def test_each_unreadable_fact_warns_naming_the_permission(field: str) -> None:
    warned = [r for r in rows(**{field: DENIED}) if r.status is Status.WARN]
    assert len(warned) == 1
    assert warned[0].fix == "grant some.permission"


def test_unreadable_services_warn() -> None:
    services = dict.fromkeys(gcp.PREREQUISITE_APIS, DENIED)
    assert only(rows(services=services), "prerequisites", Status.WARN).fix == "grant some.permission"
