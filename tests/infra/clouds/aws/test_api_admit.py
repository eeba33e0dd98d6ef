"""AWS as a MultiKueue worker: the public endpoint of its EKS cluster admits the manager's NAT addresses
(`PlatformArgs.api_admit`) beside the authorized CIDRs, each as a /32 block, and nothing more; with none,
the access list is the configured one."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pytest

from infra import config
from infra.clouds.aws import platform
from infra.clouds.aws.cluster import PUBLIC_ACCESS_CIDRS_MAX, public_access_cidrs
from infra.clouds.base import PlatformArgs
from plan import runner, stackfile
from plan.runner import PlannedResource
from tests.infra.clouds.aws.helpers import CLUSTER, stack_config
from tests.plans import ROOT


def test_the_public_access_list_gains_each_admitted_address_once() -> None:
    authorized = ("203.0.113.0/24",)
    assert public_access_cidrs(authorized, []) == ["203.0.113.0/24"]
    admitted = ["192.0.2.10", "192.0.2.11", "192.0.2.10"]
    assert public_access_cidrs(authorized, admitted) == ["203.0.113.0/24", "192.0.2.10/32", "192.0.2.11/32"]


def test_the_public_access_list_refuses_ipv6_and_more_than_the_quota() -> None:
    with pytest.raises(ValueError, match="IPv4 only"):
        public_access_cidrs(["203.0.113.0/24"], ["2001:db8::1"])
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        public_access_cidrs(["203.0.113.0/24"], ["192.0.2.300"])
    many = [f"192.0.2.{i}" for i in range(PUBLIC_ACCESS_CIDRS_MAX)]
    with pytest.raises(ValueError, match=f"at most {PUBLIC_ACCESS_CIDRS_MAX}"):
        public_access_cidrs(["203.0.113.0/24"], many)


def _aws_alone(api_admit: Sequence[str] = ()) -> list[PlannedResource]:
    """AWS's platform alone on dev's config, with `api_admit` as another cloud's NAT addresses come: an
    Output."""

    def program() -> None:
        admitted = pulumi.Output.from_input(list(api_admit))
        platform.build(PlatformArgs(cfg=config.load(), api_admit=admitted))

    return runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program).resources


def _public_cidrs(resources: list[PlannedResource]) -> list[str]:
    (cluster,) = [r for r in resources if r.type == CLUSTER]
    cidrs: list[str] = cluster.inputs["vpcConfig"]["publicAccessCidrs"]
    return cidrs


def test_api_admit_opens_the_public_endpoint_to_the_managers_nat_only() -> None:
    authorized = list(stack_config("dev").aws.api_access.authorized_cidrs)  # type: ignore[union-attr]
    assert _public_cidrs(_aws_alone()) == authorized
    nat = ["192.0.2.10", "192.0.2.11"]
    assert _public_cidrs(_aws_alone(nat)) == [*authorized, "192.0.2.10/32", "192.0.2.11/32"]
