"""The checks of this machine: reachability of each cluster API, and the tools `pulumi up` runs."""

from __future__ import annotations

import pytest

from infra.catalog import Cloud
from infra.config.types import ApiAccess
from preflight.checks import local
from preflight.facts import ToolRun, Unreadable
from preflight.report import Status
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
