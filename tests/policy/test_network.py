"""NW-01..NW-03: AWS and GCP VPC hygiene, and default-deny network policies with DNS egress."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import STACKS
from tests.policy.stacks import DELETE, REMOVE, assert_breaks, case

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
]


@pytest.mark.parametrize(("cloud", "control_id", "steps", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, steps: tuple[Any, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), steps, on)
