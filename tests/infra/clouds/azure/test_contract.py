"""The `CloudPlatform` the Azure platform returns, built on the mock engine and read field by field."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi.runtime import stack as pulumi_stack

from infra import config
from infra.clouds.azure import platform
from infra.clouds.base import Capability, CloudPlatform
from infra.plan import stackfile
from infra.plan.capture import CaptureMonitor, PlanMocks
from tests.plans import ROOT


@dataclass
class Built:
    contract: CloudPlatform
    values: dict[str, Any]
    secret_password: bool


def _build(stack: str) -> Built:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        files = stackfile.load(ROOT, stack)
        monitor = CaptureMonitor(PlanMocks(stack))
        pulumi.runtime.set_all_config(dict(files.config), list(files.secret_keys))
        pulumi.runtime.set_mocks(
            monitor.mocks, project=files.project, stack=stack, preview=False, monitor=monitor
        )
        contract = platform.build(config.load())
        trainer, serving = contract.identities["trainer"], contract.identities["serving"]
        outputs = {
            "trainer_client_id": trainer.annotations["azure.workload.identity/client-id"],
            "serving_client_id": serving.annotations["azure.workload.identity/client-id"],
            "account": contract.storage_env["AZURE_STORAGE_ACCOUNT_NAME"],
            "bucket_uri": contract.bucket_uri,
            "host": contract.registry.host,
            "repository": contract.registry.repository,
            "auth_address": contract.registry.auth.address,
            "password": contract.registry.auth.password,
        }
        values = loop.run_until_complete(pulumi.Output.all(**outputs).future())
        secret = loop.run_until_complete(
            pulumi.Output.from_input(contract.registry.auth.password).is_secret()
        )
        loop.run_until_complete(pulumi_stack.wait_for_rpcs())
        return Built(contract, values or {}, secret)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module", params=["dev", "prod"])
def built(request: pytest.FixtureRequest) -> Built:
    return contextvars.Context().run(_build, request.param)


def test_contract_names_the_cloud_and_region(built: Built) -> None:
    assert built.contract.cloud == "azure"
    assert built.contract.region in {"eastus", "eastus2"}


def test_aks_lacks_the_device_plugin(built: Built) -> None:
    assert built.contract.lacks(Capability.GPU_DEVICE_PLUGIN)
    assert "device plugin" in built.contract.missing[Capability.GPU_DEVICE_PLUGIN]


def test_internal_load_balancer_for_internal_serving(built: Built) -> None:
    assert built.contract.service_annotations == {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
    }


def test_identity_bindings_per_role(built: Built) -> None:
    for role in ("trainer", "serving"):
        binding = built.contract.identities[role]
        assert binding.service_account == role
        assert binding.pod_labels == {"azure.workload.identity/use": "true"}
    assert built.values["trainer_client_id"] != built.values["serving_client_id"]
    assert built.values["account"].startswith("acmegpuplatform")
    assert built.contract.storage_env["AZURE_STORAGE_ANON"] == "false"


def test_pods_on_spot_pools_tolerate_the_aks_spot_taint(built: Built) -> None:
    assert built.contract.spot_tolerations == (
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        },
    )


def test_bucket_uri_and_registry(built: Built) -> None:
    assert built.values["bucket_uri"] == "az://ml"
    assert built.values["host"].endswith(".azurecr.io")
    assert built.values["repository"] == f"{built.values['host']}/trainer"
    assert built.values["auth_address"] == built.values["host"]


def test_push_credential_is_a_secret_entra_token_not_an_admin_user(built: Built) -> None:
    assert built.contract.registry.auth.username == "00000000-0000-0000-0000-000000000000"
    assert built.secret_password
    assert built.values["password"] == "offline-plan-entra-token"
