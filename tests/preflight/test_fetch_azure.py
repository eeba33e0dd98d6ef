"""The Azure fetcher through azure-identity (a managed-identity endpoint) and the azure-mgmt clients,
pointed at an HTTPS stand-in of Resource Manager by their `base_url`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from preflight.facts import AksVersion, AzureFacts, AzureSku, AzureSubscription, Name, Quota
from preflight.fetch import LoginError, azure
from tests.preflight import azure_api
from tests.preflight.good import stack
from tests.preflight.standins import StandIn, serving


def azure_env(arm: StandIn, certificate: Path) -> dict[str, str]:
    """What points DefaultAzureCredential and the clients at the stand-in, as App Service would for its
    managed identity."""
    return {
        "IDENTITY_ENDPOINT": f"{arm.url}/msi/token",
        "IDENTITY_HEADER": azure_api.IDENTITY_HEADER,
        azure.ARM_ENV: arm.url,
        "REQUESTS_CA_BUNDLE": str(certificate),
        "ARM_SUBSCRIPTION_ID": azure_api.SUBSCRIPTION,
    }


@pytest.fixture
def world() -> azure_api.AzureWorld:
    return azure_api.AzureWorld()


@pytest.fixture
def arm(world: azure_api.AzureWorld, certificate: tuple[Path, Path]) -> Iterator[StandIn]:
    with serving(azure_api.routes(world), certificate) as stand_in:
        yield stand_in


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch, arm: StandIn, certificate: tuple[Path, Path]) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in azure_env(arm, certificate[0]).items():
        monkeypatch.setenv(name, value)


def fetch() -> AzureFacts:
    return azure.fetch(azure.login(None), stack("dev"))


@pytest.mark.usefixtures("signed_in")
def test_the_dev_stacks_facts(arm: StandIn) -> None:
    facts = fetch()
    assert facts.principal == "deployer@acme.example (object id 5e1f0000-0000-4000-8000-000000000001)"
    assert facts.tenant == azure_api.TENANT
    assert facts.subscription == AzureSubscription(
        azure_api.SUBSCRIPTION, "gpu-platform-dev", "Enabled", azure_api.TENANT
    )
    assert facts.kubernetes_versions == {
        "1.35": AksVersion(False, ("KubernetesOfficial", "AKSLongTermSupport")),
        "1.36": AksVersion(False, ("KubernetesOfficial",)),
    }
    assert facts.skus == {
        "Standard_B2s": AzureSku("standardBSFamily", ("1", "2", "3"), (), None, encryption_at_host=True),
        "Standard_NC4as_T4_v3": AzureSku("standardNCASv3_T4Family", ("1", "2", "3"), ("3",), None, True),
    }
    assert facts.usages["lowPriorityCores"] == Quota(10, 0)  # type: ignore[index]
    assert facts.encryption_at_host_feature == "Registered"
    assert facts.providers["Microsoft.Sql"] == "NotRegistered"  # type: ignore[index]
    assert facts.names == dict.fromkeys(["storageAccountName", "registryName", "keyVaultName"], Name("free"))
    assert any(
        r.startswith("POST") and r.endswith("Microsoft.KeyVault/checkNameAvailability") for r in arm.requests
    )


@pytest.mark.usefixtures("signed_in")
def test_a_taken_name_is_ours_only_in_the_stacks_resource_group(world: azure_api.AzureWorld) -> None:
    world.taken = {"acmegpuplatformdevml", "acmegpuplatformdev"}
    world.group_resources = [("Microsoft.Storage/storageAccounts", "acmegpuplatformdevml")]
    names = fetch().names
    assert names["storageAccountName"] == Name("ours", "in the stack's resource group")
    assert names["registryName"] == Name("taken", "The name acmegpuplatformdev is already in use.")
    assert names["keyVaultName"] == Name("free")


def test_no_credentials_is_one_line_naming_the_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no az, azd or pwsh to ask
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "dev")  # nor this machine's managed identity, if any
    with pytest.raises(LoginError, match=r"^azure: no credentials found: run az login"):
        azure.login(None)


@pytest.mark.usefixtures("signed_in")
def test_without_a_subscription_it_says_how_to_select_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID")
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))
    with pytest.raises(LoginError, match=r"^azure: no subscription selected: run az account set"):
        azure.login(None)


def test_the_cli_default_subscription_is_read_from_its_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    profile = {"subscriptions": [{"id": "a", "isDefault": False}, {"id": "b", "isDefault": True}]}
    (tmp_path / "azureProfile.json").write_text(json.dumps(profile), encoding="utf-8-sig")  # az writes a BOM
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path))
    assert azure.cli_subscription() == "b"
