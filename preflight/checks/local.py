"""Checks of this machine: can it reach each cluster's API, and does it have the tools `pulumi up` runs; and,
for a stack with `serving.domain`, can Route 53's health checkers reach the gateways."""

from __future__ import annotations

import ipaddress

from infra.catalog import Cloud
from infra.config import StackConfig
from infra.config.types import ApiAccess, Serving
from preflight.checks.common import unreadable
from preflight.facts import HealthCheckers, LocalFacts, Read, ToolRun, Unreadable
from preflight.report import Row, Status

CLOUD_TOOLS: dict[Cloud, tuple[str, str, str]] = {
    "aws": (
        "aws",
        "the kubeconfig runs `aws eks get-token`",
        "install AWS CLI v2 (docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
    ),
    "gcp": (
        "gke-gcloud-auth-plugin",
        "the kubeconfig runs it for a token",
        "gcloud components install gke-gcloud-auth-plugin",
    ),
    "azure": ("kubelogin", "the kubeconfig runs `kubelogin get-token`", "az aks install-cli"),
}
"""Cloud -> the exec plugin its exported kubeconfig (and so the Kubernetes half of `pulumi up`) runs."""


def reachability(cloud: Cloud, access: ApiAccess, egress: str | Unreadable) -> Row:
    """This machine's egress address must be inside the cluster API's authorized CIDRs."""
    key = f"gpu-platform:{cloud}.apiAccess.authorizedCidrs"
    cidrs = ", ".join(access.authorized_cidrs)
    if access.private_endpoint:
        found = f"the Kubernetes API is private (privateEndpoint: true), reachable from {cidrs or 'the VPC'}"
        fix = "run `pulumi up` from inside one of those networks (VPN, peered network, CI runner)"
        return Row(cloud, "reachability", Status.WARN, found, fix)
    if isinstance(egress, Unreadable):
        return unreadable(cloud, "reachability", "this machine's egress address", egress)
    inside = any(ipaddress.ip_address(egress) in ipaddress.ip_network(c) for c in access.authorized_cidrs)
    if inside:
        return Row(cloud, "reachability", Status.PASS, f"egress address {egress} is inside {cidrs}")
    found = f"egress address {egress} is outside {key} ({cidrs}): the API would refuse this machine"
    return Row(cloud, "reachability", Status.FAIL, found, f"add {egress}/32 to {key}, or run from inside")


SOURCES_KEY = "gpu-platform:serving.sourceCidrs"


def health_checkers(serving: Serving, checkers: Read[HealthCheckers]) -> Row:
    """Every ROUTE53_HEALTHCHECKS prefix must lie inside `serving.sourceCidrs`, which every cloud's gateway
    admits and nothing else: a checker refused there reports the cloud down, and once 18% or fewer of them
    see it healthy, Route 53 stops answering `<domain>` with it; with every cloud down it answers with all
    of them, healthy or not."""
    if isinstance(checkers, Unreadable):
        found = f"could not read Route 53's health-checker ranges: {checkers.error}"
        fix = (
            f"allow {checkers.permission}; else check {SOURCES_KEY} by hand against the "
            "ROUTE53_HEALTHCHECKS prefixes of https://ip-ranges.amazonaws.com/ip-ranges.json"
        )
        return Row("all", "reachability", Status.WARN, found, fix)
    # Collapsed, the sources are the fewest networks holding exactly their addresses, so a prefix that
    # two adjacent sources cover together lies inside one of them.
    sources = list(ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in serving.source_cidrs))
    outside = [
        p for p in checkers.prefixes if not any(ipaddress.IPv4Network(p).subnet_of(s) for s in sources)
    ]
    edition = f"ip-ranges.json of {checkers.published}"
    if not outside:
        found = (
            f"{SOURCES_KEY} admits all {len(checkers.prefixes)} ROUTE53_HEALTHCHECKS prefixes ({edition}): "
            f"Route 53 can check every cloud's gateway for {serving.domain}"
        )
        return Row("all", "reachability", Status.PASS, found)
    found = (
        f"{len(outside)} of {len(checkers.prefixes)} ROUTE53_HEALTHCHECKS prefixes ({edition}) are outside "
        f"{SOURCES_KEY}: every gateway refuses Route 53's health checkers there, which report each cloud "
        f"down; Route 53 drops a cloud from {serving.domain} once 18% or fewer of its checkers see it "
        f"healthy, and answers with every cloud when all are down: {', '.join(outside)}"
    )
    add = ipaddress.collapse_addresses(ipaddress.IPv4Network(p) for p in outside)
    return Row("all", "reachability", Status.FAIL, found, f"add to {SOURCES_KEY}: {', '.join(map(str, add))}")


def tool(cloud: Cloud, run: ToolRun) -> Row:
    name, why, install = CLOUD_TOOLS[cloud]
    if run.path is None:
        return Row(cloud, "tools", Status.FAIL, f"{name} is not on PATH ({why})", install)
    if run.exit_code != 0:
        found = f"{name} at {run.path} failed (exit {run.exit_code}): {run.output}"
        return Row(cloud, "tools", Status.FAIL, found, install)
    if cloud == "aws" and not run.output.startswith("aws-cli/2"):
        found = f"{run.path} is not AWS CLI v2: `aws --version` says {run.output or 'nothing'}"
        return Row(cloud, "tools", Status.FAIL, found, install)
    return Row(cloud, "tools", Status.PASS, f"{name}: {run.path} ({run.output})")


def docker(cfg: StackConfig, run: ToolRun) -> Row:
    """`pulumi up` builds with the local Docker daemon: the trainer unless training.image is set, and
    always the mirrors of the third-party images (serving, model sync, device plugin)."""
    builds = "mirrors the upstream images" + ("" if cfg.training.image else " and builds the trainer")
    if run.path is None:
        found = f"docker is not on PATH; `pulumi up` {builds}"
        return Row("all", "tools", Status.FAIL, found, "install Docker (with buildx) and start its daemon")
    if run.exit_code != 0:
        found = f"`docker info` failed (exit {run.exit_code}): {run.output}; `pulumi up` {builds}"
        return Row("all", "tools", Status.FAIL, found, "start the Docker daemon (Docker Desktop, or dockerd)")
    return Row("all", "tools", Status.PASS, f"Docker daemon {run.output} answers; `pulumi up` {builds}")


def check(cfg: StackConfig, clouds: tuple[Cloud, ...], facts: LocalFacts) -> list[Row]:
    rows = []
    for cloud in clouds:
        section = getattr(cfg, cloud)
        rows.append(reachability(cloud, section.api_access, facts.egress_ip))
        rows.append(tool(cloud, facts.tools[CLOUD_TOOLS[cloud][0]]))
    rows.append(docker(cfg, facts.tools["docker"]))
    if cfg.serving.domain is not None and facts.health_checkers is not None:
        rows.append(health_checkers(cfg.serving, facts.health_checkers))
    return rows
