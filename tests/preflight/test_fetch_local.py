"""This machine's facts: the egress address from a "what is my IP" service, the tools on PATH, and Route 53's
health-checker ranges from a stand-in serving a small ip-ranges.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.facts import HealthCheckers, ToolRun, Unreadable
from preflight.fetch import local
from tests.preflight import ip_ranges
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


def test_route53s_health_checkers_are_the_ipv4_prefixes_of_their_service() -> None:
    with serving([("GET", "/ip-ranges.json", lambda _: Reply(ip_ranges.document()))]) as aws:
        found = local.health_checkers(f"{aws.url}/ip-ranges.json")
    # Not the IPv6 checkers (the serving names are A records), the publishing service, AWS's superset, or
    # a region the stack's checks do not probe from.
    assert found == HealthCheckers(ip_ranges.HEALTH_CHECKERS, ip_ranges.CREATED)
    assert aws.requests == ["GET /ip-ranges.json"]


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply({"message": "Not Found"}, 404), "HTTP Error 404"),
        (Reply("<html>captive portal</html>"), "as AWS publishes it: Expecting value"),
        (Reply({"syncToken": "1", "createDate": "x"}), "is not an ip-ranges document as AWS publishes it"),
        (Reply({"prefixes": [{"service": "ROUTE53_HEALTHCHECKS"}]}), "has no `ip_prefix`"),
        (Reply(ip_ranges.document(())), "no ROUTE53_HEALTHCHECKS entry in `prefixes`"),
    ],
    ids=["404", "not-json", "no-prefixes", "no-ip-prefix", "no-checkers"],
)
def test_an_ip_ranges_document_that_cannot_be_read_is_unreadable(reply: Reply, says: str) -> None:
    with serving([("GET", "/ip-ranges.json", lambda _: reply)]) as aws:
        url = f"{aws.url}/ip-ranges.json"
        found = local.health_checkers(url)
    assert isinstance(found, Unreadable)
    assert found.error.startswith(url)
    assert says in found.error
    assert found.permission == f"outbound HTTPS to {url} (or --ip-ranges-url)"


def test_an_ip_ranges_url_that_does_not_answer_is_unreadable() -> None:
    closed = local.health_checkers(f"http://127.0.0.1:{free_port()}/ip-ranges.json", timeout_s=2)
    assert isinstance(closed, Unreadable)
    assert "Connection refused" in closed.error


def test_the_health_checkers_are_read_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path / "bin", WORKING_TOOLS)))
    routes = [
        ("GET", "/", lambda _: Reply("203.0.113.7\n")),
        ("GET", "/ip-ranges.json", lambda _: Reply(ip_ranges.document())),
    ]
    with serving(routes) as web:
        without = local.fetch(("aws",), f"{web.url}/", None)
        assert web.requests == ["GET /"]
        read = local.fetch(("aws",), f"{web.url}/", f"{web.url}/ip-ranges.json")
    assert without.health_checkers is None
    assert read.health_checkers == HealthCheckers(ip_ranges.HEALTH_CHECKERS, ip_ranges.CREATED)
