"""NW-01..NW-04: AWS and GCP VPC hygiene, default-deny network policies with DNS egress, and load
balancers limited to listed sources."""

from __future__ import annotations

from typing import Any

import pytest

from policy.model.props import UNKNOWNS
from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, case, mutate, stack, violations

UNKNOWN = next(iter(UNKNOWNS))
ALL_OPEN = [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
MUTATIONS = [
    case("aws", "NW-01", ("flow", REMOVE, None), on="vpc"),
    case("aws", "NW-01", ("default-sg", REMOVE, None), on="vpc"),
    case(
        "aws",
        "NW-01",
        ("default-sg", "ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
    ),
    case(
        "aws",
        "NW-01",
        (
            "default-sg",
            "egress",
            [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
        ),
    ),
    case("aws", "NW-01", ("ssh-internal", "cidrIpv4", "0.0.0.0/0")),
    case("aws", "NW-01", ("ssh-internal", "cidrIpv6", "::/0")),
    case("aws", "NW-01", ("nodes-sg", "ingress", ALL_OPEN)),
    case("gcp", "NW-02", ("vpc", "autoCreateSubnetworks", True)),
    case("gcp", "NW-02", ("vpc", "autoCreateSubnetworks", DELETE)),
    case("gcp", "NW-02", ("subnet", "privateIpGoogleAccess", False)),
    case("gcp", "NW-02", ("subnet", "privateIpGoogleAccess", DELETE)),
    case("gcp", "NW-02", ("subnet", "logConfig", DELETE)),
    case("gcp", "NW-03", ("default-deny", "spec.podSelector", {"matchLabels": {"app": "serving"}}), on="ns"),
    case("gcp", "NW-03", ("default-deny", "spec.policyTypes", ["Ingress"]), on="ns"),
    case("gcp", "NW-03", ("default-deny", "spec.ingress", [{}]), on="ns"),
    case("gcp", "NW-03", ("default-deny", "metadata.namespace", "other"), on="ns"),
    case("gcp", "NW-03", ("default-deny", REMOVE, None), on="ns"),
    case("gcp", "NW-03", ("allow-dns", "spec.egress", DELETE), on="ns"),
    case("gcp", "NW-03", ("allow-dns", REMOVE, None), on="ns"),
    case("azure", "NW-03", ("ns", REMOVE, None), ("default-deny", REMOVE, None), on="train"),
    case("aws", "NW-04", ("serving-lb", "spec.loadBalancerSourceRanges", DELETE)),
    case("gcp", "NW-04", ("serving-lb", "spec.loadBalancerSourceRanges", [])),
    case("azure", "NW-04", ("serving-lb", "spec.loadBalancerSourceRanges", ["0.0.0.0/0"])),
    case("gcp", "NW-04", ("serving-lb", "spec.loadBalancerSourceRanges", ["10.0.0.0/16", "::/0"])),
    case("aws", "NW-04", ("serving-lb", "spec.loadBalancerSourceRanges", ["0.0.0.0/00"])),
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
    fixtures = mutate(STACKS["gcp"](), "serving-lb", path, value)
    if path == "spec.type":
        fixtures = mutate(fixtures, "serving-lb", "spec.loadBalancerSourceRanges", DELETE)
    assert violations("NW-04", stack(fixtures)) == []


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
