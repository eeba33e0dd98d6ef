"""Facts of this machine: its egress address, and the tools `pulumi up` and the kubeconfigs run."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import urllib.request

from infra.catalog import Cloud
from preflight.checks.local import CLOUD_TOOLS
from preflight.facts import LocalFacts, Read, ToolRun, Unreadable
from preflight.fetch import first_line

IP_URL = "https://checkip.amazonaws.com"
"""Answers with the caller's address as plain text; `--ip-url` names another such service."""
TOOL_TIMEOUT_S = 20


def egress_ip(url: str, timeout_s: float = 10) -> Read[str]:
    """The address this machine's requests leave from, as a "what is my IP" service sees it."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read(64).decode("ascii", "replace").strip()
        return str(ipaddress.ip_address(text))
    except (OSError, ValueError) as exc:
        return Unreadable(f"{url}: {exc}", f"outbound HTTPS to {url} (or --ip-url)")


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


def fetch(clouds: tuple[Cloud, ...], ip_url: str) -> LocalFacts:
    commands = [[CLOUD_TOOLS[c][0], "--version"] for c in clouds]
    commands.append(["docker", "info", "--format", "{{.ServerVersion}}"])
    return LocalFacts(egress_ip(ip_url), {c[0]: run(c) for c in commands})
