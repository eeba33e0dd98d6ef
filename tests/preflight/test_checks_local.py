"""The checks of this machine: reachability of each cluster API, the tools `pulumi up` runs, and, with
`serving.domain`, Route 53's health checkers' reach of the gateways."""

from __future__ import annotations

import dataclasses

import pytest

from infra.catalog import Cloud
from infra.config.types import ApiAccess, Dns, Serving, ServingAuth
from preflight.checks import local
from preflight.facts import HealthCheckers, ToolRun, Unreadable
from preflight.report import Status
from tests.preflight import ip_ranges
from tests.preflight.good import EGRESS, local_facts, stack

PUBLIC = ApiAccess(authorized_cidrs=("203.0.113.0/24",))


def test_every_check_passes_on_good_facts() -> None:
    found = local.check(stack("dev"), ("aws", "gcp", "azure"), local_facts())
    assert [(r.cloud, r.check) for r in found if r.status is Status.PASS] == [
        ("aws", "reachability"), ("aws", "tools"), ("gcp", "reachability"), ("gcp", "tools"),
        ("azure", "reachability"), ("azure", "tools"), ("all", "tools"),
    ]  # fmt: skip


def test_an_egress_address_outside_the_authorized_cidrs_fails() -> None:
    row = local.reachability("gcp", PUBLIC, "198.51.100.9")
    assert row.status is Status.FAIL
    assert row.fix.startswith("add 198.51.100.9/32 to gpu-platform:gcp.apiAccess.authorizedCidrs")
    assert local.reachability("gcp", PUBLIC, EGRESS).status is Status.PASS


def test_a_private_endpoint_warns_that_the_api_is_reached_privately() -> None:
    row = local.reachability(
        "aws", ApiAccess(private_endpoint=True, authorized_cidrs=("10.0.0.0/8",)), EGRESS
    )
    assert row.status is Status.WARN
    assert "private" in row.found
    assert "10.0.0.0/8" in row.found


def test_an_unknown_egress_address_warns() -> None:
    row = local.reachability("azure", PUBLIC, Unreadable("timed out", "outbound HTTPS"))
    assert row.status is Status.WARN


@pytest.mark.parametrize(
    ("run", "says"),
    [
        (ToolRun(None), "not on PATH"),
        (ToolRun("/usr/bin/aws", 0, "aws-cli/1.36.0 Python/3.12"), "not AWS CLI v2"),
        (ToolRun("/usr/bin/aws", 127, "broken"), "failed (exit 127)"),
    ],
    ids=["missing", "v1", "broken"],
)
def test_the_aws_cli_must_be_v2(run: ToolRun, says: str) -> None:
    row = local.tool("aws", run)
    assert row.status is Status.FAIL
    assert says in row.found
    assert "AWS CLI v2" in row.fix


@pytest.mark.parametrize(
    ("cloud", "fix"), [("gcp", "gcloud components install"), ("azure", "az aks install-cli")]
)
def test_the_kubeconfig_exec_plugins_must_be_on_path(cloud: Cloud, fix: str) -> None:
    row = local.tool(cloud, ToolRun(None))
    assert row.status is Status.FAIL
    assert row.fix.startswith(fix)


def test_docker_must_answer_since_the_images_are_built_locally() -> None:
    cfg = stack("dev")
    down = local.docker(cfg, ToolRun("/usr/bin/docker", 1, "Cannot connect to the Docker daemon"))
    assert down.status is Status.FAIL
    assert "builds the trainer" in down.found
    assert down.fix.startswith("start the Docker daemon")
    image = "registry.example/trainer@sha256:" + "e" * 64
    prebuilt = cfg.model_copy(update={"training": cfg.training.model_copy(update={"image": image})})
    missing = local.docker(prebuilt, ToolRun(None))
    assert missing.status is Status.FAIL
    assert "mirrors the upstream images" in missing.found
    assert "trainer" not in missing.found


CHECKERS = HealthCheckers(ip_ranges.HEALTH_CHECKERS, ip_ranges.CREATED)
CLIENTS = "198.51.100.0/24"


def public(*sources: str) -> Serving:
    """A serving section with a domain, as config validation requires it: public, with source CIDRs."""
    return Serving(
        exposure="public",
        source_cidrs=sources,
        domain="ml.example.com",
        dns=Dns(provider="route53", zone_id="Z0123456789ABCDEFGHIJ"),
        auth=ServingAuth(clients=("app",)),
    )


def test_sources_that_hold_every_health_checker_pass() -> None:
    row = local.health_checkers(public(CLIENTS, *ip_ranges.HEALTH_CHECKERS), CHECKERS)
    assert (row.cloud, row.check, row.status) == ("all", "reachability", Status.PASS)
    assert row.found == (
        "gpu-platform:serving.sourceCidrs admits all 4 ROUTE53_HEALTHCHECKS prefixes (ip-ranges.json of "
        "2026-12-01-09-13-07): Route 53 can check every cloud's gateway for ml.example.com"
    )
    # Wider sources, and two halves that only together hold a prefix, hold them as well.
    halves = ("54.241.32.64/27", "54.241.32.96/27")
    wide = public("15.177.0.0/16", "54.0.0.0/8", "177.71.207.0/24", *halves)
    assert local.health_checkers(wide, CHECKERS).status is Status.PASS


def test_health_checkers_outside_the_sources_fail_with_the_prefixes_to_add() -> None:
    # One checker inside, one half inside; two outside.
    sources = public(CLIENTS, "54.241.32.64/26", "54.252.254.192/27")
    row = local.health_checkers(sources, CHECKERS)
    assert row.status is Status.FAIL
    assert row.found.startswith(
        "3 of 4 ROUTE53_HEALTHCHECKS prefixes (ip-ranges.json of 2026-12-01-09-13-07) are outside "
        "gpu-platform:serving.sourceCidrs: "
    )
    assert row.found.endswith(": 15.177.0.0/18, 54.252.254.192/26, 177.71.207.128/26")
    assert "ml.example.com" in row.found
    assert row.fix == (
        "add to gpu-platform:serving.sourceCidrs: 15.177.0.0/18, 54.252.254.192/26, 177.71.207.128/26"
    )


def test_adjacent_prefixes_to_add_are_added_as_one() -> None:
    checkers = HealthCheckers(("52.80.197.0/25", "52.80.197.128/25", "52.83.35.0/25"), "2026-12-01")
    row = local.health_checkers(public(CLIENTS), checkers)
    assert row.found.endswith(": 52.80.197.0/25, 52.80.197.128/25, 52.83.35.0/25")
    assert row.fix == "add to gpu-platform:serving.sourceCidrs: 52.80.197.0/24, 52.83.35.0/25"


def test_unreadable_health_checker_ranges_warn_and_say_where_to_look() -> None:
    url = "https://ip-ranges.amazonaws.com/ip-ranges.json"
    failure = Unreadable(f"{url}: <urlopen error timed out>", f"outbound HTTPS to {url} (or --ip-ranges-url)")
    row = local.health_checkers(public(CLIENTS), failure)
    assert row.status is Status.WARN
    assert row.found == f"could not read Route 53's health-checker ranges: {url}: <urlopen error timed out>"
    assert row.fix.startswith(f"allow outbound HTTPS to {url} (or --ip-ranges-url); else check ")


def test_the_health_checkers_are_checked_only_with_a_domain() -> None:
    cfg = stack("dev")
    assert cfg.serving.domain is None
    facts = dataclasses.replace(local_facts(), health_checkers=CHECKERS)
    assert ("all", "reachability") not in [(r.cloud, r.check) for r in local.check(cfg, ("aws",), facts)]
    with_domain = cfg.model_copy(update={"serving": public(CLIENTS, *ip_ranges.HEALTH_CHECKERS)})
    rows = local.check(with_domain, ("aws",), facts)
    assert [(r.cloud, r.check, r.status) for r in rows if r.cloud == "all"] == [
        ("all", "tools", Status.PASS),
        ("all", "reachability", Status.PASS),
    ]
