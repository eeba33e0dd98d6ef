"""The `CloudPlatform` the Azure platform returns, built on the mock engine and read field by field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plans import contract_plan

Built = tuple[dict[str, Any], list[str]]


@pytest.fixture(scope="module", params=["dev", "prod"])
def built(request: pytest.FixtureRequest) -> Built:
    """The Azure contract's exported fields and the paths of its secret fields."""
    plan = contract_plan(request.param)
    prefix = "contracts.azure."
    return plan.outputs["contracts"]["azure"], [
        p.removeprefix(prefix) for p in plan.secret_outputs if p.startswith(prefix)
    ]


def test_contract_names_the_cloud_and_region(built: Built) -> None:
    assert built[0]["cloud"] == "azure"
    assert built[0]["region"] in {"eastus", "eastus2"}


def test_aks_lacks_the_device_plugin(built: Built) -> None:
    assert "device plugin" in built[0]["missing"]["GPU_DEVICE_PLUGIN"]


def test_internal_load_balancer_for_internal_serving(built: Built) -> None:
    assert built[0]["serviceAnnotations"] == {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
    }


def test_identity_bindings_per_role(built: Built) -> None:
    identities = built[0]["identities"]
    for role in ("trainer", "serving"):
        assert identities[role]["serviceAccount"] == role
        assert identities[role]["podLabels"] == {"azure.workload.identity/use": "true"}
    client_ids = [
        identities[r]["annotations"]["azure.workload.identity/client-id"] for r in ("trainer", "serving")
    ]
    assert client_ids[0] != client_ids[1]
    assert built[0]["storageEnv"]["AZURE_STORAGE_ACCOUNT_NAME"].startswith("acmegpuplatform")
    assert built[0]["storageEnv"]["AZURE_STORAGE_ANON"] == "false"
    assert built[0]["identityEgress"] == []


def test_pods_on_spot_pools_tolerate_the_aks_spot_taint(built: Built) -> None:
    assert built[0]["spotTolerations"] == [
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        }
    ]


def test_bucket_uri_and_registry(built: Built) -> None:
    registry = built[0]["registry"]
    assert built[0]["bucketUri"] == "az://ml"
    assert registry["host"].endswith(".azurecr.io")
    assert registry["repository"] == f"{registry['host']}/trainer"
    assert registry["auth"]["address"] == registry["host"]
    assert set(built[0]["network"]) == {"vnet", "systemSubnet", "gpuSubnet"}


def test_push_credential_is_a_secret_acr_refresh_token_not_an_admin_user(built: Built) -> None:
    """The deployer's Entra token, exchanged at the registry for an ACR refresh token (acr_token.py)."""
    auth = built[0]["registry"]["auth"]
    assert auth["username"] == "00000000-0000-0000-0000-000000000000"
    assert "registry.auth.password" in built[1]
    assert "kubeconfig" in built[1]
    assert auth["password"] == "offline-plan-acr-refresh-token"
