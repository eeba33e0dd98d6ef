"""NW-01..NW-04: AWS and GCP VPC hygiene, default-deny network policies with DNS egress, and load
balancers limited to listed sources."""

from __future__ import annotations

from typing import Any

import pytest

from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.stacks import (
    Change,
    assert_breaks,
    case,
    changed,
    delete_key,
    remove_resource,
    set_key,
    stack,
    violations,
)

UNKNOWN = next(iter(UNKNOWNS))
ALL_OPEN = [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
MUTATIONS = [
    case("aws", "NW-01", remove_resource("flow"), on="vpc"),
    case("aws", "NW-01", remove_resource("default-sg"), on="vpc"),
    case(
        "aws",
        "NW-01",
        set_key("default-sg", "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
    ),
    case(
        "aws",
        "NW-01",
        set_key(
            "default-sg",
            "egress",
            [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
        ),
    ),
    case("aws", "NW-01", set_key("ssh-internal", "cidrIpv4", "0.0.0.0/0")),
    case("aws", "NW-01", set_key("ssh-internal", "cidrIpv6", "::/0")),
    case("aws", "NW-01", set_key("nodes-sg", "ingress", ALL_OPEN)),
    case("gcp", "NW-02", set_key("vpc", "autoCreateSubnetworks", True)),
    case("gcp", "NW-02", delete_key("vpc", "autoCreateSubnetworks")),
    case("gcp", "NW-02", set_key("subnet", "privateIpGoogleAccess", False)),
    case("gcp", "NW-02", delete_key("subnet", "privateIpGoogleAccess")),
    case("gcp", "NW-02", delete_key("subnet", "logConfig")),
    case(
        "gcp",
        "NW-03",
        set_key("default-deny", "spec.podSelector", {"matchLabels": {"app": "serving"}}),
        on="ns",
    ),
    case("gcp", "NW-03", set_key("default-deny", "spec.policyTypes", ["Ingress"]), on="ns"),
    case("gcp", "NW-03", set_key("default-deny", "spec.ingress", [{}]), on="ns"),
    case("gcp", "NW-03", set_key("default-deny", "metadata.namespace", "other"), on="ns"),
    case("gcp", "NW-03", remove_resource("default-deny"), on="ns"),
    case("gcp", "NW-03", delete_key("allow-dns", "spec.egress"), on="ns"),
    case("gcp", "NW-03", remove_resource("allow-dns"), on="ns"),
    case("azure", "NW-03", remove_resource("ns"), remove_resource("default-deny"), on="train"),
    case("aws", "NW-04", delete_key("serving-lb", "spec.loadBalancerSourceRanges")),
    case("gcp", "NW-04", set_key("serving-lb", "spec.loadBalancerSourceRanges", [])),
    case("azure", "NW-04", set_key("serving-lb", "spec.loadBalancerSourceRanges", ["0.0.0.0/0"])),
    case("gcp", "NW-04", set_key("serving-lb", "spec.loadBalancerSourceRanges", ["10.0.0.0/16", "::/0"])),
    case("aws", "NW-04", set_key("serving-lb", "spec.loadBalancerSourceRanges", ["0.0.0.0/00"])),
]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("spec.type", "ClusterIP"),
        ("spec.loadBalancerSourceRanges", ["10.0.0.0/16", "2001:db8::/32"]),
        ("spec.loadBalancerSourceRanges", UNKNOWN),
        ("spec.loadBalancerSourceRanges", ["10.0.0.0/16", UNKNOWN]),
    ],
)
def test_load_balancer_sources_that_pass(path: str, value: Any) -> None:
    """A Service that is not a load balancer needs no sources; ranges not known yet cannot fail."""
    fixtures = changed(STACKS["gcp"](), set_key("serving-lb", path, value))
    if path == "spec.type":
        fixtures = changed(fixtures, delete_key("serving-lb", "spec.loadBalancerSourceRanges"))
    assert violations("NW-04", stack(fixtures)) == []


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
