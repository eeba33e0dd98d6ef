"""This machine's facts: the egress address from a "what is my IP" service, and the tools on PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.facts import ToolRun, Unreadable
from preflight.fetch import local
from tests.preflight.conftest import WORKING_TOOLS, fake_tools
from tests.preflight.standins import Reply, serving
from tests.training.emulators import free_port


def test_the_egress_address_is_what_the_service_answers() -> None:
    # checkip.amazonaws.com answers with the address and a newline, as text/plain.
    with serving([("GET", "/", lambda _: Reply("203.0.113.7\n"))]) as ip:
        assert local.egress_ip(f"{ip.url}/") == "203.0.113.7"


def test_an_answer_that_is_no_address_or_no_answer_is_unreadable() -> None:
    with serving([("GET", "/", lambda _: Reply("<html>captive portal</html>"))]) as portal:
        assert isinstance(local.egress_ip(f"{portal.url}/"), Unreadable)
    closed = local.egress_ip(f"http://127.0.0.1:{free_port()}/", timeout_s=2)
    assert isinstance(closed, Unreadable)
    assert "--ip-url" in closed.permission


def test_tools_are_run_from_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    scripts = {
        "aws": WORKING_TOOLS["aws"],
        "docker": "echo 'Cannot connect to the Docker daemon. Is the docker daemon running?' >&2; exit 1",
    }
    bin_dir = fake_tools(tmp_path / "bin", scripts)
    monkeypatch.setenv("PATH", str(bin_dir))
    facts = local.fetch(("aws", "azure"), "http://127.0.0.1:9/")
    assert facts.tools == {
        "aws": ToolRun(str(bin_dir / "aws"), 0, "aws-cli/2.22.0 Python/3.12.6 Linux/6.8.0 exe/x86_64"),
        "kubelogin": ToolRun(None),
        "docker": ToolRun(
            str(bin_dir / "docker"), 1, "Cannot connect to the Docker daemon. Is the docker daemon running?"
        ),
    }
