"""The VPC (NW-02), Cloud NAT, and firewall rules that deny ingress unless an allow rule names it."""

from __future__ import annotations

from typing import Any

from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import (
    CLUSTER,
    FIREWALL,
    NETWORK,
    NODE_POOL,
    SERVICE,
    SUBNETWORK,
    gcp,
    gcp_config,
    named,
    one,
)


def firewall(plan: Plan, role: str) -> dict[str, Any]:
    return named(plan, FIREWALL, f"-{role}").inputs


def test_nw02_custom_mode_vpc(stack_plan: Plan) -> None:
    assert one(stack_plan, NETWORK).inputs["autoCreateSubnetworks"] is False


def test_nw02_subnet_private_google_access_flow_logs_and_ranges(stack_plan: Plan) -> None:
    subnet, ranges = one(stack_plan, SUBNETWORK).inputs, gcp_config(stack_plan).network
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
    assert 0 < subnet["logConfig"]["flowSampling"] <= 1
    assert subnet["ipCidrRange"] == ranges.subnet_cidr
    assert subnet["region"] == gcp_config(stack_plan).region
    secondary = {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]}
    assert secondary == {"pods": ranges.pods_cidr, "services": ranges.services_cidr}


def test_cloud_nat_for_the_private_nodes(stack_plan: Plan) -> None:
    nat = one(stack_plan, "gcp:compute/routerNat:RouterNat").inputs
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"  # on its reserved address (test_federation)
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    (subnet,) = nat["subnetworks"]
    assert "/subnetworks/" in subnet["name"]
    assert subnet["sourceIpRangesToNats"] == ["ALL_IP_RANGES"]
    assert nat["logConfig"]["enable"] is True
    assert (
        one(stack_plan, "gcp:compute/router:Router").urn
        in gcp(stack_plan, "gcp:compute/routerNat:RouterNat")[0].depends_on
    )


def test_default_deny_ingress_is_the_lowest_explicit_rule(stack_plan: Plan) -> None:
    rules = [r.inputs for r in gcp(stack_plan, FIREWALL)]
    deny = firewall(stack_plan, "deny-all-ingress")
    assert deny["denies"] == [{"protocol": "all"}]
    assert deny["sourceRanges"] == ["0.0.0.0/0"]
    assert deny["direction"] == "INGRESS"
    assert "logConfig" in deny
    assert all(r["priority"] < deny["priority"] for r in rules if r is not deny)
    assert all("0.0.0.0/0" not in r["sourceRanges"] for r in rules if "allows" in r)


def test_allow_rules_internal_control_plane_and_health_checks(stack_plan: Plan) -> None:
    ranges = gcp_config(stack_plan).network
    internal = firewall(stack_plan, "allow-internal")
    assert set(internal["sourceRanges"]) == {ranges.subnet_cidr, ranges.pods_cidr}
    control_plane = firewall(stack_plan, "allow-control-plane")
    assert control_plane["sourceRanges"] == [ranges.master_cidr]
    (allow,) = control_plane["allows"]
    assert allow["protocol"] == "tcp"
    assert {"443", "8443", "9443", "10250"} <= set(allow["ports"])
    health = firewall(stack_plan, "allow-health-checks")
    assert set(health["sourceRanges"]) == {"35.191.0.0/16", "130.211.0.0/22"}
    node_tags = {tuple(p.inputs["nodeConfig"]["tags"]) for p in gcp(stack_plan, NODE_POOL)}
    assert node_tags == {tuple(control_plane["targetTags"])} == {tuple(health["targetTags"])}


def test_network_waits_for_the_compute_api(stack_plan: Plan) -> None:
    compute = named(stack_plan, SERVICE, "-services-compute")
    assert compute.inputs["service"] == "compute.googleapis.com"
    assert compute.urn in one(stack_plan, NETWORK).depends_on
    assert named(stack_plan, SERVICE, "-services-container").urn in one(stack_plan, CLUSTER).depends_on
