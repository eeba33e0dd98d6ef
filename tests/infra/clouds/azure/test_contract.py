"""What only Azure's contract says: workload identity's labels and client ids, adlfs's environment, the
AKS spot taint, and ACR's token exchange. What every contract guarantees is in ../test_contract.py."""

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


def test_adlfs_finds_the_account_and_the_webhook_token_in_the_environment(built: Built) -> None:
    assert built[0]["storageEnv"]["AZURE_STORAGE_ACCOUNT_NAME"].startswith("acmegpuplatform")
    assert built[0]["storageEnv"]["AZURE_STORAGE_ANON"] == "false"
    assert built[0]["identityEgress"] == []  # Entra ID is reached over HTTPS, not a node-local agent


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
    assert auth["password"] == "offline-plan-acr-refresh-token"
