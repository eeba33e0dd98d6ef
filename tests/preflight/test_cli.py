"""`python -m preflight` end to end, as a subprocess whose SDKs the environment points at moto and the
stand-ins: one FAIL exits 1 and names its fix; no credentials exits 2 with one line per cloud."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from preflight.fetch.azure import ARM_ENV
from preflight.fetch.gcp import ENDPOINT_ENV
from preflight.report import CHECK_ORDER, CLOUD_ORDER
from tests.plans import ROOT
from tests.preflight import aws_api, azure_api, gcp_api, ip_ranges
from tests.preflight.conftest import WORKING_TOOLS, fake_tools
from tests.preflight.standins import Reply, serving

SPOT_QUOTA_TOO_LOW = 4.0
"""dev's train pool needs 2 x g4dn.xlarge x 4 vCPUs = 8 of `All G and VT Spot Instance Requests`."""


def preflight(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "preflight", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


def bare_env(home: Path, path: str = "/usr/bin:/bin") -> dict[str, str]:
    """No cloud credentials or settings."""
    return {"PATH": path, "HOME": str(home), "COLUMNS": "200"}


NO_PROBES = {"AWS_EC2_METADATA_DISABLED": "true", "NO_GCE_CHECK": "true", "AZURE_TOKEN_CREDENTIALS": "dev"}
"""The SDKs' link-local metadata probes off, so that a test machine's own cloud identity (an EC2 role, a
GCE or Azure managed identity) cannot count as credentials, and nothing waits on a probe."""


@pytest.fixture(scope="module")
def clouds(
    tmp_path_factory: pytest.TempPathFactory,
    moto: str,
    deployer: dict[str, str],
    certificate: tuple[Path, Path],
) -> Iterator[tuple[dict[str, str], str]]:
    """The environment of a deployer logged in to all three clouds (moto and the stand-ins), and the URL of
    a "what is my IP" stand-in that answers with an address inside dev's authorizedCidrs."""
    home = tmp_path_factory.mktemp("home")
    aws_world = aws_api.AwsWorld(applied_quotas={"L-3819A6DF": SPOT_QUOTA_TOO_LOW})
    with (
        serving(aws_api.routes(aws_world)) as eks,
        serving(gcp_api.routes(gcp_api.GcpWorld())) as google,
        serving(azure_api.routes(azure_api.AzureWorld()), certificate) as arm,
        serving([("GET", "/", lambda _: Reply("203.0.113.7\n"))]) as ip,
    ):
        tools = fake_tools(home / "bin", WORKING_TOOLS)
        env = {
            **bare_env(home, f"{tools}:/usr/bin:/bin"),
            "AWS_ENDPOINT_URL": moto,
            "AWS_ENDPOINT_URL_EKS": eks.url,
            "AWS_ENDPOINT_URL_SERVICE_QUOTAS": eks.url,
            **deployer,
            "GOOGLE_APPLICATION_CREDENTIALS": str(gcp_api.key_file(home, f"{google.url}/token")),
            ENDPOINT_ENV: google.url,
            "IDENTITY_ENDPOINT": f"{arm.url}/msi/token",
            "IDENTITY_HEADER": azure_api.IDENTITY_HEADER,
            ARM_ENV: arm.url,
            "REQUESTS_CA_BUNDLE": str(certificate[0]),
            "ARM_SUBSCRIPTION_ID": azure_api.SUBSCRIPTION,
        }
        yield env, f"{ip.url}/"


def test_a_fail_exits_1_and_names_its_fix(clouds: tuple[dict[str, str], str], tmp_path: Path) -> None:
    env, ip_url = clouds
    out = tmp_path / "preflight.json"
    done = preflight("--stack", "dev", "--json", str(out), "--ip-url", ip_url, env=env)
    assert done.returncode == 1, done.stderr
    rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"]
    failed = [r for r in rows if r["status"] == "FAIL"]
    assert [(r["cloud"], r["check"]) for r in failed] == [("aws", "capacity")]
    assert failed[0]["found"] == (
        "All G and VT Spot Instance Requests (L-3819A6DF) in us-east-1 for train: 2 x g4dn.xlarge: "
        "limit 4 vCPUs, the pools need 8"
    )
    assert failed[0]["fix"] == (
        "aws service-quotas request-service-quota-increase --service-code ec2 "
        "--quota-code L-3819A6DF --desired-value 8 --region us-east-1"
    )
    assert "request-service-quota-increase" in done.stdout
    # moto's region holds no Elastic IP yet: dev's one NAT address fits the stand-in's default quota of 5.
    eips = (
        "EC2-VPC Elastic IPs (L-0263D0A3) in us-east-1: limit 5, 0 allocated by others; "
        "the stack needs 1: 1 for the NAT gateway (natGateways: single)"
    )
    assert {"cloud": "aws", "check": "capacity", "status": "PASS", "found": eips, "fix": ""} in rows
    # moto's fresh account has no Auto Scaling role: the program creates it, so this only warns.
    assert [(r["cloud"], r["check"]) for r in rows if r["status"] == "WARN"] == [("aws", "prerequisites")]
    checked = [(r["cloud"], r["check"]) for r in rows]
    assert checked == sorted(checked, key=lambda c: (CLOUD_ORDER.index(c[0]), CHECK_ORDER.index(c[1])))
    for cloud in ("aws", "gcp", "azure"):
        for check in ("identity", "versions", "capacity", "names", "prerequisites", "reachability", "tools"):
            assert (cloud, check) in checked
    assert ("all", "tools") in checked


def test_with_a_domain_route53s_health_checkers_must_be_in_the_sources(
    clouds: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, ip_url = clouds
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"]["gpu-platform:serving"].update(
        exposure="public",
        sourceCidrs=["198.51.100.0/24", "15.177.0.0/18", "54.241.32.64/26"],
        domain="ml.example.com",
        dns={"provider": "route53", "zoneId": "Z0123456789ABCDEFGHIJ"},
        auth={"clients": ["app"]},
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "preflight.json"
    with serving([("GET", "/ip-ranges.json", lambda _: Reply(ip_ranges.document()))]) as aws:
        args = ("--cloud", "aws", "--json", str(out), "--ip-url", ip_url)
        done = preflight(
            "--stack",
            "dev",
            "--cwd",
            str(tmp_path),
            *args,
            "--ip-ranges-url",
            f"{aws.url}/ip-ranges.json",
            env=env,
        )
    assert done.returncode == 1, done.stderr
    assert aws.requests == ["GET /ip-ranges.json"]
    rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"]
    (checkers,) = [r for r in rows if (r["cloud"], r["check"]) == ("all", "reachability")]
    assert checkers["status"] == "FAIL"
    assert checkers["found"].endswith(": 54.252.254.192/26, 177.71.207.128/26")
    assert checkers["fix"] == "add to gpu-platform:serving.sourceCidrs: 54.252.254.192/26, 177.71.207.128/26"


def test_without_credentials_each_cloud_says_how_to_log_in(tmp_path: Path) -> None:
    done = preflight("--stack", "dev", env=bare_env(tmp_path) | NO_PROBES)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "aws: no credentials found: run aws sso login, or set AWS_PROFILE",
        "gcp: no credentials found: run gcloud auth application-default login, or set "
        "GOOGLE_APPLICATION_CREDENTIALS",
        "azure: no credentials found: run az login, or set AZURE_CLIENT_ID and AZURE_TENANT_ID with a secret "
        "or a federated token",
    ]


def test_one_cloud_without_credentials_is_one_line(tmp_path: Path) -> None:
    done = preflight("--stack", "dev", "--cloud", "aws", env=bare_env(tmp_path) | NO_PROBES)
    assert (done.returncode, done.stderr) == (
        2,
        "aws: no credentials found: run aws sso login, or set AWS_PROFILE\n",
    )


def test_an_invalid_config_exits_2_with_its_own_lines(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    doc = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    doc["config"]["gpu-platform:aws"]["kubernetesVersion"] = "latest"
    (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump(doc))
    done = preflight("--stack", "bad", "--cwd", str(tmp_path), env=bare_env(tmp_path))
    assert done.returncode == 2
    assert (
        'gpu-platform:aws.kubernetesVersion: got "latest"; expected a Kubernetes major.minor version'
        in done.stderr
    )
    assert "Traceback" not in done.stderr
