"""Facts of this machine: its egress address, the tools `pulumi up` and the kubeconfigs run, and, for a
stack with `serving.domain`, the ranges Route 53's health checkers probe from (a public document of AWS's,
read without credentials)."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import urllib.request
from typing import Any

from infra.catalog import Cloud
from infra.config.types import ROUTE53_CHECKER_REGIONS
from preflight.checks.local import CLOUD_TOOLS
from preflight.facts import HealthCheckers, LocalFacts, Read, ToolRun, Unreadable
from preflight.fetch import first_line

IP_URL = "https://checkip.amazonaws.com"
"""Answers with the caller's address as plain text; `--ip-url` names another such service."""
IP_RANGES_URL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
"""AWS's published address ranges (docs.aws.amazon.com/vpc/latest/userguide/aws-ip-syntax.html):
`prefixes[]` of `{ip_prefix, region, network_border_group, service}` for IPv4, `ipv6_prefixes[]` for
IPv6; `--ip-ranges-url` names a copy."""
HEALTH_CHECK_SERVICE = "ROUTE53_HEALTHCHECKS"
"""The service of the prefixes Route 53's health checkers send their requests from."""
CHECKER_REGIONS = ("GLOBAL", *ROUTE53_CHECKER_REGIONS)
"""The regions the stack's health checks probe from (`infra/clouds/aws/route53.py`), and GLOBAL, whose
range every region's checkers may use."""
TOOL_TIMEOUT_S = 20


def egress_ip(url: str, timeout_s: float = 10) -> Read[str]:
    """The address this machine's requests leave from, as a "what is my IP" service sees it."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read(64).decode("ascii", "replace").strip()
        return str(ipaddress.ip_address(text))
    except (OSError, ValueError) as exc:
        return Unreadable(f"{url}: {exc}", f"outbound HTTPS to {url} (or --ip-url)")


def health_checkers(url: str, timeout_s: float = 20) -> Read[HealthCheckers]:
    """The IPv4 prefixes of ROUTE53_HEALTHCHECKS in the ip-ranges document at `url`, of the regions the
    stack's checks probe from (`CHECKER_REGIONS`). Only IPv4: the serving names are A records, and
    `serving.sourceCidrs` holds IPv4 networks only."""
    where = f"outbound HTTPS to {url} (or --ip-ranges-url)"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = response.read()
    except OSError as exc:
        return Unreadable(f"{url}: {first_line(str(exc))}", where)
    try:
        return _health_checkers(json.loads(body))
    except ValueError as exc:
        return Unreadable(f"{url} is not an ip-ranges document as AWS publishes it: {exc}", where)


def _health_checkers(document: Any) -> HealthCheckers:
    entries = document.get("prefixes") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("it has no `prefixes` list")
    found: dict[str, None] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("service") != HEALTH_CHECK_SERVICE:
            continue
        prefix = entry.get("ip_prefix")
        if not isinstance(prefix, str):
            raise ValueError(f"a {HEALTH_CHECK_SERVICE} entry has no `ip_prefix`: {entry}")
        if entry.get("region") not in CHECKER_REGIONS:
            continue
        # `strict=False`: AWS's own example in the syntax reference has host bits set (198.51.100.2/24).
        found[str(ipaddress.IPv4Network(prefix, strict=False))] = None
    if not found:
        raise ValueError(f"no {HEALTH_CHECK_SERVICE} entry in `prefixes`")
    return HealthCheckers(tuple(found), str(document.get("createDate") or "no createDate"))


def run(command: list[str]) -> ToolRun:
    """Run a tool found on PATH; its first line of output (stdout, else stderr) is kept."""
    path = shutil.which(command[0])
    if path is None:
        return ToolRun(None)
    try:
        done = subprocess.run(
            [path, *command[1:]], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ToolRun(path, -1, first_line(str(exc)))
    return ToolRun(path, done.returncode, first_line(done.stdout or done.stderr))


def fetch(clouds: tuple[Cloud, ...], ip_url: str, ip_ranges_url: str | None = None) -> LocalFacts:
    """`ip_ranges_url` None: Route 53's health-checker ranges are not read (the stack sets no domain)."""
    commands = [[CLOUD_TOOLS[c][0], "--version"] for c in clouds]
    commands.append(["docker", "info", "--format", "{{.ServerVersion}}"])
    checkers = None if ip_ranges_url is None else health_checkers(ip_ranges_url)
    return LocalFacts(egress_ip(ip_url), {c[0]: run(c) for c in commands}, checkers)
