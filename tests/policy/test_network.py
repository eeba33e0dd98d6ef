"""NW-01..NW-04: AWS and GCP VPC hygiene, default-deny network policies with DNS egress, and load
balancers limited to listed sources: Services, and the EnvoyProxy the serving gateway's Services are made
from (tests/policy/fixtures_gateway.py, built by infra/gateway/envoy.py)."""

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
ENVOY_SERVICE = "spec.provider.kubernetes.envoyService"
OPEN_PATCH = {"type": "StrategicMerge", "value": {"spec": {"loadBalancerSourceRanges": ["0.0.0.0/0"]}}}
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
    case("aws", "NW-04", delete_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges")),
    case("aws", "NW-04", set_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges", [])),
    case("aws", "NW-04", set_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges", ["0.0.0.0/0"])),
    case("aws", "NW-04", set_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges", ["::/0"])),
    case("aws", "NW-04", delete_key("envoy-proxy", ENVOY_SERVICE)),
    case("aws", "NW-04", delete_key("envoy-proxy", "spec.provider")),
    case("aws", "NW-04", set_key("envoy-proxy", f"{ENVOY_SERVICE}.patch", OPEN_PATCH)),
    case("aws", "NW-04", delete_key("gateway-class", "spec.parametersRef")),
    case("aws", "NW-04", set_key("gateway-class", "spec.parametersRef.name", "default")),
    case("aws", "NW-04", remove_resource("envoy-proxy"), on="gateway-class"),
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


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{ENVOY_SERVICE}.type", UNKNOWN),
        (f"{ENVOY_SERVICE}.loadBalancerSourceRanges", ["10.0.0.0/16", "2001:db8::/32"]),
        (f"{ENVOY_SERVICE}.loadBalancerSourceRanges", UNKNOWN),
        (
            f"{ENVOY_SERVICE}.patch",
            {"type": "StrategicMerge", "value": {"spec": {"externalTrafficPolicy": "Local"}}},
        ),
        ("spec.provider.type", "Host"),
    ],
)
def test_envoy_proxy_sources_that_pass(path: str, value: Any) -> None:
    """The real EnvoyProxy with other ranges; a type or ranges not known yet cannot fail; a patch that
    leaves the ranges alone changes nothing; a Host provider makes no Service."""
    assert violations("NW-04", stack(changed(STACKS["aws"](), set_key("envoy-proxy", path, value)))) == []


def test_an_envoy_proxy_is_a_load_balancer_by_default() -> None:
    fixtures = changed(STACKS["aws"](), delete_key("envoy-proxy", f"{ENVOY_SERVICE}.type"))
    assert violations("NW-04", stack(fixtures)) == []
    opened = changed(fixtures, set_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges", ["::/0"]))
    assert [v.resource for v in violations("NW-04", stack(opened))] == ["envoy-proxy"]


def test_an_envoy_proxy_that_is_no_load_balancer_needs_no_sources() -> None:
    fixtures = changed(
        STACKS["aws"](),
        set_key("envoy-proxy", f"{ENVOY_SERVICE}.type", "ClusterIP"),
        delete_key("envoy-proxy", f"{ENVOY_SERVICE}.loadBalancerSourceRanges"),
    )
    assert violations("NW-04", stack(fixtures)) == []


def test_an_open_envoy_proxy_is_named_with_its_reason() -> None:
    fixtures = changed(STACKS["aws"](), set_key("envoy-proxy", f"{ENVOY_SERVICE}.patch", OPEN_PATCH))
    assert [(v.resource, v.message) for v in violations("NW-04", stack(fixtures))] == [
        (
            "envoy-proxy",
            f"{ENVOY_SERVICE}.patch.value.spec.loadBalancerSourceRanges opens the load balancer to 0.0.0.0/0",
        )
    ]


@pytest.mark.parametrize(("cloud", "control_id", "changes", "on"), MUTATIONS)
def test_mutation_breaks_control(cloud: str, control_id: str, changes: tuple[Change, ...], on: str) -> None:
    assert_breaks(control_id, STACKS[cloud](), changes, on)
