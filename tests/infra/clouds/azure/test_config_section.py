"""The Azure config keys this platform added: the API server subnet and the retention settings."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from infra import config
from infra.clouds.azure import kubeconfig
from plan import stackfile
from tests.plans import ROOT, merged, stack_values

AZ = "gpu-platform:azure"


def problems_of(section: dict[str, Any]) -> list[str]:
    files = stackfile.load(ROOT, "dev-test", overrides=merged(stack_values("dev"), {AZ: section}))
    with pytest.raises(config.ConfigError) as caught:
        config.parse(config.read_raw(files.config.get), stack="dev")
    return caught.value.problems


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        pytest.param("10.30.8.0/28", "a /27 or larger network", id="too-small"),
        pytest.param("10.99.0.0/27", "a subnet inside vnetCidr (10.30.0.0/16)", id="outside-vnet"),
        pytest.param("10.30.4.0/27", "a subnet apart from gpuSubnetCidr", id="overlaps-gpu"),
    ],
)
def test_api_server_subnet_is_checked(cidr: str, expected: str) -> None:
    (problem,) = problems_of({"apiServerSubnetCidr": cidr})
    assert problem.startswith(f'{AZ}.apiServerSubnetCidr: got "{cidr}"; expected ')
    assert expected in problem


def test_audit_log_category_is_an_aks_one() -> None:
    (problem,) = problems_of({"auditLog": "audit"})
    assert problem.startswith(f'{AZ}.auditLog: got "audit"')


def test_exec_kubeconfig_keeps_server_and_ca_and_uses_kubelogin() -> None:
    source = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://c:443", "certificate-authority-data": "Q0E="}}
        ],
        "users": [{"name": "u", "user": {"token": "static"}}],
    }
    doc = yaml.safe_load(
        kubeconfig.exec_kubeconfig(base64.b64encode(yaml.safe_dump(source).encode()).decode())
    )
    assert doc["clusters"] == source["clusters"]
    (user,) = doc["users"]
    assert user["user"]["exec"]["command"] == "kubelogin"
    assert user["user"]["exec"]["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        kubeconfig.AKS_SERVER_ID,
    ]
    assert "token" not in user["user"]
    assert doc["current-context"] == "c"


def test_gpu_pool_zones_name_gpu_pools_on_azure() -> None:
    (problem,) = problems_of({"gpuPoolZones": {"infer": ["1"]}})
    assert problem == f'{AZ}.gpuPoolZones.infer: got "infer"; expected a GPU pool on azure (train)'


def test_zones_are_azure_zone_numbers() -> None:
    (problem,) = problems_of({"availabilityZones": ["1", "4"]})
    assert problem.startswith(f'{AZ}.availabilityZones[1]: got "4"; expected ')


def test_an_aks_maintenance_window_takes_one_day() -> None:
    """AKS's weekly schedule names one day; GKE's window may name several."""
    (problem,) = problems_of({"maintenanceWindow": {"days": ["Saturday", "Sunday"]}})
    assert problem.startswith(f"{AZ}.maintenanceWindow: got ")
    assert problem.endswith("expected exactly one day: an AKS weekly maintenance schedule takes one")
