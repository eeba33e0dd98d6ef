"""The gateway's address on GCP: one regional external Premium-tier address in the cluster's region, which
the Service annotation names. Read from the contract program, which reserves it on every cloud."""

from __future__ import annotations

import pytest

from infra.clouds.gcp.gateway_address import ADDRESSES_ANNOTATION
from infra.naming import labels
from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import gcp, gcp_config, named
from tests.plans import contract_plan

ADDRESS = "gcp:compute/address:Address"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return contract_plan("dev")


def test_the_address_is_static_external_and_in_the_clusters_region(plan: Plan) -> None:
    address = named(plan, ADDRESS, "-gateway-ip")
    section = gcp_config(plan)
    assert {k: address.inputs.get(k) for k in ("addressType", "networkTier", "region", "project")} == {
        "addressType": "EXTERNAL",
        "networkTier": "PREMIUM",
        "region": section.region,
        "project": section.project,
    }
    assert address.inputs["labels"] == labels(plan.stack, "gcp", "gateway")


def test_the_annotation_names_the_address_and_only_it(plan: Plan) -> None:
    gateway = plan.outputs["contracts"]["gcp"]["gateway"]
    address = named(plan, ADDRESS, "-gateway-ip")
    # The annotation takes the address resource's name (auto-named from the logical name), not its value;
    # only a backend service-based load balancer reads it (before GKE 1.37, only when asked for).
    assert gateway["annotations"] == {
        "cloud.google.com/l4-rbs": "enabled",
        ADDRESSES_ANNOTATION: gateway["annotations"][ADDRESSES_ANNOTATION],
    }
    assert gateway["annotations"][ADDRESSES_ANNOTATION].startswith(f"{address.name}-")
    assert len(gateway["ips"]) == 1
    assert [a for a in gcp(plan, ADDRESS) if a.name.endswith("-gateway-ip")] == [address]
