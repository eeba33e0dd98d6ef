"""The gateway's address on Azure: a Standard, Static public IP in the cluster's zones (none in dev, all three
in prod), alone in a resource group of its own, on which the cluster identity (what AKS's cloud provider
acts as) holds a custom role that may read and join public IPs and nothing more, and the annotations that
name both. Read from the contract program, which reserves it on every cloud."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra import config
from infra.clouds.azure.context import ROLE_IDS
from infra.clouds.azure.gateway_address import (
    PIP_ANNOTATION,
    RESOURCE_GROUP_ANNOTATION,
    address_role_guid,
    address_zones,
)
from infra.config.azure import AzureConfig
from plan import stackfile
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.azure.helpers import ROLE_ASSIGNMENT, ROLE_DEFINITION, named, role_ids
from tests.plans import ROOT, contract_plan

PUBLIC_IP = "azure-native:network:PublicIPAddress"
GROUP = "azure-native:resources:ResourceGroup"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return contract_plan("dev")


def gateway(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = plan.outputs["contracts"]["azure"]["gateway"]
    return found


def address(plan: Plan) -> PlannedResource:
    return named(plan, PUBLIC_IP, "-gateway-ip-pip")


def test_the_address_is_standard_and_static_in_the_clusters_region(plan: Plan) -> None:
    inputs = address(plan).inputs
    assert inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert inputs["publicIPAllocationMethod"] == "Static"
    assert inputs["publicIPAddressVersion"] == "IPv4"
    cfg = config.parse(config.read_raw(stackfile.load(ROOT, plan.stack).config.get), stack=plan.stack)
    assert inputs["location"] == cfg.section(AzureConfig).location
    assert len(gateway(plan)["ips"]) == 1


def test_without_availability_zones_the_address_has_no_zone(plan: Plan) -> None:
    """dev sets no `availabilityZones`, as a region without zones must: the address asks for none, which
    every region accepts, where a zone-redundant one is refused in a region without zones."""
    cfg = config.parse(config.read_raw(stackfile.load(ROOT, plan.stack).config.get), stack=plan.stack)
    assert cfg.section(AzureConfig).availability_zones == ()
    assert "zones" not in address(plan).inputs


def test_with_availability_zones_the_address_is_zone_redundant() -> None:
    """prod spreads its pools over zones 1, 2 and 3: the address is zone-redundant with them."""
    prod = contract_plan("prod")
    assert address(prod).inputs["zones"] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("cluster", "zones"),
    [((), None), (("2",), ["2"]), (("1", "3"), ["1", "2", "3"]), (("1", "2", "3"), ["1", "2", "3"])],
    ids=["none", "one", "two", "three"],
)
def test_the_address_follows_the_clusters_zones(cluster: tuple[str, ...], zones: list[str] | None) -> None:
    """One zone: zonal, with the pools. More: zone-redundant, which spans every zone of the region whatever
    the request names, so it is asked for as all three and never drifts from what Azure answers."""
    assert address_zones(cluster) == zones


def test_the_address_has_a_resource_group_of_its_own(plan: Plan) -> None:
    group = named(plan, GROUP, "-gateway-ip-rg").inputs["resourceGroupName"]
    held = [
        r
        for r in plan.resources
        if r.cloud == "azure" and r.custom and r.inputs.get("resourceGroupName") == group
    ]
    assert held == [named(plan, GROUP, "-gateway-ip-rg"), address(plan)]
    assert gateway(plan)["annotations"] == {
        PIP_ANNOTATION: address(plan).inputs["publicIpAddressName"],
        RESOURCE_GROUP_ANNOTATION: group,
    }


def test_the_cluster_identity_may_only_read_and_join_the_groups_addresses(plan: Plan) -> None:
    """What cloud-provider-azure does with an address it did not create: list the group's addresses to find
    it by name, read it, and join it to its load balancer's frontend; never write, tag or delete it. The
    role holds exactly that, is defined and assignable on the address's group only, and is assigned there
    to the cluster identity; Network Contributor, which Microsoft's page grants, is not."""
    group = named(plan, GROUP, "-gateway-ip-rg").inputs["resourceGroupName"]
    grant = named(plan, ROLE_ASSIGNMENT, "-gateway-ip-network")
    group_id = grant.inputs["scope"]
    assert re.fullmatch(rf"/subscriptions/[-0-9a-f]+/resourceGroups/{group}", group_id)
    definition = named(plan, ROLE_DEFINITION, "-gateway-ip-role").inputs
    assert definition["roleType"] == "CustomRole"
    assert definition["scope"] == group_id
    assert definition["assignableScopes"] == [group_id]
    assert definition["roleDefinitionId"] == address_role_guid(group_id)
    (permissions,) = definition["permissions"]
    assert permissions == {
        "actions": [
            "Microsoft.Network/publicIPAddresses/read",
            "Microsoft.Network/publicIPAddresses/join/action",
        ]
    }
    assert grant.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{address_role_guid(group_id)}")
    # After the definition has had time to reach Azure's role assignment checks.
    (settle,) = [r for r in plan.resources if r.name.endswith("-gateway-ip-network-role-settle")]
    assert settle.urn in grant.depends_on
    assert named(plan, ROLE_DEFINITION, "-gateway-ip-role").urn in settle.depends_on
    # The same principal AKS was given the VNet with: the cluster (control-plane) identity.
    [vnet] = [
        g for g in role_ids(plan, ROLE_IDS["Network Contributor"]) if "/virtualNetworks/" in g.inputs["scope"]
    ]
    assert grant.inputs["principalId"] == vnet.inputs["principalId"]
    assert not [g for g in role_ids(plan, ROLE_IDS["Network Contributor"]) if g.inputs["scope"] == group_id]
    assert gateway(plan)["ready"] == [grant.urn]


def test_the_address_role_is_the_same_on_every_run() -> None:
    """Derived from the group's id (in any case), as the replicator's: a definition a lost state left behind
    is updated in place rather than colliding with a new one."""
    group = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-gateway"
    assert address_role_guid(group) == address_role_guid(group.upper())
    assert address_role_guid(group) != address_role_guid(group.replace("rg-gateway", "rg2-gateway"))
