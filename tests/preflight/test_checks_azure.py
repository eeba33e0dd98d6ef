"""The Azure checks on facts that satisfy them (PASS) and on each fact that breaks one (FAIL or WARN)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from preflight.checks import azure
from preflight.facts import AksVersion, AzureSku, AzureSubscription, Name, Quota, Unreadable
from preflight.report import Row, Status
from tests.preflight.good import azure_facts, stack

DENIED = Unreadable("AuthorizationFailed: no", "Reader on the subscription")
T4 = "Standard_NC4as_T4_v3"


def rows(stack_name: str = "dev", /, **changes: Any) -> list[Row]:
    cfg = stack(stack_name)
    return azure.check(replace(azure_facts(cfg), **changes), cfg)


def only(found: list[Row], check: str, status: Status) -> Row:
    matching = [r for r in found if r.check == check and r.status is status]
    assert len(matching) == 1, found
    return matching[0]


def with_sku(stack_name: str, size: str, **changes: Any) -> dict[str, AzureSku]:
    skus = azure_facts(stack(stack_name)).skus
    assert not isinstance(skus, Unreadable)
    return {**skus, size: replace(skus[size], **changes)}


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_check_passes_on_good_facts(stack_name: str) -> None:
    found = rows(stack_name)
    assert {r.check for r in found} == {"identity", "versions", "capacity", "names", "prerequisites"}
    assert [r for r in found if r.status is not Status.PASS] == []


def test_a_token_of_another_tenant_fails() -> None:
    row = only(rows(tenant="99999999-0000-0000-0000-000000000000"), "identity", Status.FAIL)
    assert row.fix == "az login --tenant 00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    "subscription",
    [
        AzureSubscription("s", "other", "Enabled", "99999999-0000-0000-0000-000000000000"),
        AzureSubscription("s", "off", "Disabled", "00000000-0000-0000-0000-000000000000"),
        DENIED,
    ],
    ids=["other-tenant", "disabled", "unreadable"],
)
def test_the_subscription_must_be_enabled_and_in_the_tenant(subscription: object) -> None:
    assert (
        "az account set --subscription" in only(rows(subscription=subscription), "identity", Status.FAIL).fix
    )


@pytest.mark.parametrize(
    ("versions", "status"),
    [
        ({"1.36": AksVersion(False, ("KubernetesOfficial",))}, Status.FAIL),
        ({"1.35": AksVersion(False, ("AKSLongTermSupport",))}, Status.FAIL),
        ({"1.35": AksVersion(True, ("KubernetesOfficial",))}, Status.WARN),
        (DENIED, Status.WARN),
    ],
    ids=["not-offered", "lts-only", "preview", "unreadable"],
)
def test_the_minor_must_be_offered_under_the_official_plan(versions: object, status: Status) -> None:
    assert "AKS in eastus" in only(rows(kubernetes_versions=versions), "versions", status).found


def test_spot_pools_count_against_the_regional_spot_quota() -> None:
    row = only(rows(usages={"lowPriorityCores": Quota(4, 0)}), "capacity", Status.FAIL)
    assert "lowPriorityCores" in row.found
    assert "the pools need 8" in row.found  # dev: 2 x NC4as_T4_v3, 4 vCPUs each


def test_on_demand_pools_count_against_their_family_quota() -> None:
    good = azure_facts(stack("prod")).usages  # its lowPriorityCores cover prod's spot pool, trainspot
    assert not isinstance(good, Unreadable)
    usages = {
        **good,
        "standardNCADSA100v4Family": Quota(95, 0),
        "standardNCASv3_T4Family": Quota(24, 0),
    }
    row = only(rows("prod", usages=usages), "capacity", Status.FAIL)
    assert "the pools need 96" in row.found  # prod: 4 x NC24ads_A100_v4 (docs/azure.md)
    assert "standardNCADSA100v4Family >= 96" in row.fix


def test_zones_not_offered_to_the_subscription_fail() -> None:
    skus = with_sku("prod", T4, restricted_zones=("3",))
    row = only(rows("prod", skus=skus), "capacity", Status.FAIL)
    assert "serve" in row.found
    assert "zones 3" in row.found
    assert row.fix == "set gpu-platform:azure.gpuPoolZones.serve to some of [1, 2]"


def test_a_size_restricted_in_the_location_fails() -> None:
    skus = with_sku("dev", T4, location_restriction="NotAvailableForSubscription")
    assert "NotAvailableForSubscription" in only(rows(skus=skus), "capacity", Status.FAIL).found


def test_a_size_the_location_does_not_offer_fails() -> None:
    skus = azure_facts(stack("dev")).skus
    assert not isinstance(skus, Unreadable)
    fewer = {k: v for k, v in skus.items() if k != T4}
    assert only(rows(skus=fewer), "capacity", Status.FAIL).found == f"train: {T4} in eastus is not offered"


def test_a_size_without_encryption_at_host_fails() -> None:
    skus = with_sku("dev", "Standard_B2s", encryption_at_host=False)
    assert (
        "Standard_B2s does not support encryption at host"
        in only(rows(skus=skus), "capacity", Status.FAIL).found
    )


def test_the_encryption_at_host_feature_must_be_registered() -> None:
    row = only(rows(encryption_at_host_feature="NotRegistered"), "capacity", Status.FAIL)
    assert "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in row.fix


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (Name("free"), Status.PASS),
        (Name("ours"), Status.PASS),
        (Name("taken"), Status.FAIL),
        (Name("invalid"), Status.FAIL),
    ],
)
def test_each_global_name_is_free_or_ours(name: Name, status: Status) -> None:
    names = {"storageAccountName": name, "registryName": Name("free"), "keyVaultName": Name("free")}
    row = next(r for r in rows(names=names) if "acmegpuplatformdevml" in r.found)
    assert row.status is status
    assert ("gpu-platform:azure.storageAccountName" in row.fix) == (status is Status.FAIL)


def test_unregistered_providers_fail_with_the_commands() -> None:
    providers = dict.fromkeys(azure.PROVIDERS, "Registered") | {"Microsoft.PolicyInsights": "NotRegistered"}
    row = only(rows(providers=providers), "prerequisites", Status.FAIL)
    assert row.fix == "az provider register --namespace Microsoft.PolicyInsights"


@pytest.mark.parametrize(
    ("field", "check"),
    [
        ("skus", "capacity"),
        ("usages", "capacity"),
        ("encryption_at_host_feature", "capacity"),
        ("providers", "prerequisites"),
    ],
)
def test_each_unreadable_fact_warns_naming_the_permission(field: str, check: str) -> None:
    row = only(rows(**{field: DENIED}), check, Status.WARN)
    assert row.fix == "grant Reader on the subscription"


def test_an_unreadable_name_warns() -> None:
    names = {"storageAccountName": DENIED, "registryName": Name("free"), "keyVaultName": Name("free")}
    assert only(rows(names=names), "names", Status.WARN).found.startswith(
        "could not read storage account name"
    )
