"""The plan's per-class SDK loading: the same classes as the SDKs' own imports, far fewer modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from plan.sdk_imports import module_name


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("RouterNat", "router_nat"),
        ("PublicIPAddress", "public_ip_address"),
        ("CryptoKeyIAMMember", "crypto_key_iam_member"),
        ("IAMMember", "iam_member"),
        ("get_project_output", "get_project_output"),
        ("NodePool", "node_pool"),
    ],
)
def test_module_names_follow_the_generated_sdks(name: str, module: str) -> None:
    assert module_name(name) == module


CHECK = """
import sys
from plan import sdk_imports
sdk_imports.install()
import pulumi_gcp as gcp
import pulumi_azure_native as azure
from pulumi_gcp.compute import network

assert gcp.compute.Network is network.Network
assert "pulumi_gcp.compute.autoscaler" not in sys.modules
assert gcp.compute.SubnetworkLogConfigArgs.__module__ == "pulumi_gcp.compute._inputs"
assert azure.containerservice.AgentPoolMode.SYSTEM == "System"
assert "pulumi_azure_native.containerservice.snapshot" not in sys.modules
# A data source's function, not the module of the same name; its `_output` form from that module too.
import pulumi_aws as aws
found, found_output = aws.iam.get_roles, aws.iam.get_roles_output
get_roles_module = sys.modules["pulumi_aws.iam.get_roles"]
assert found is get_roles_module.get_roles
assert found_output is get_roles_module.get_roles_output
assert "pulumi_aws.iam.role" not in sys.modules
try:
    gcp.compute.NoSuchThing
except AttributeError:
    pass
else:
    raise AssertionError("an unknown name must fail as it would without the shim")
assert "pulumi_gcp.compute.autoscaler" in sys.modules
"""


def test_classes_are_the_sdks_own_and_unknown_names_fall_back() -> None:
    """In a fresh interpreter: this one has imported the SDKs already."""
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
