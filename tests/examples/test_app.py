"""The example app against real HTTP servers on 127.0.0.1 that speak TF Serving's REST predict API: one
cloud down (nothing listening), one failing (503), one slow, one without the model (404), one healthy."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.app import __main__ as app
from examples.app import client
from infra.outputs import Endpoint, StackOutputs
from tests.examples.standins import MODEL, Server, outputs

FAST = client.Policy(timeout=0.5, attempts=3, backoff=0.01, max_backoff=0.02)


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, Server]]:
    servers = {b: Server(b) for b in ("ok", "unavailable", "slow", "missing")}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def servers(started: dict[str, Server]) -> dict[str, Server]:
    for server in started.values():
        server.calls.clear()
    return started


@pytest.fixture
def down_url() -> str:
    """A port nothing listens on: bound, then closed, so connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/models/{MODEL}:predict"


def endpoints(urls: dict[str, str]) -> list[Endpoint]:
    return StackOutputs.model_validate(outputs(urls)).endpoints


def test_fails_over_past_a_cloud_that_is_down(servers: dict[str, Server], down_url: str) -> None:
    sleeps: list[float] = []
    found = client.predict(
        endpoints({"aws": down_url, "gcp": servers["ok"].url}), [app.SAMPLE], FAST, sleeps.append, lambda: 1.0
    )
    assert (found.cloud, found.predictions[0].index(1.0)) == ("gcp", 9)
    assert len(found.failures) == FAST.attempts
    assert all(f.startswith("aws attempt") for f in found.failures)
    assert sleeps == [0.01, 0.02]  # exponential, capped at max_backoff, between the attempts only


def test_retries_a_503_then_moves_on(servers: dict[str, Server]) -> None:
    urls = {"aws": servers["unavailable"].url, "azure": servers["ok"].url}
    found = client.predict(endpoints(urls), [app.SAMPLE], FAST, lambda _: None)
    assert found.cloud == "azure"
    assert len(servers["unavailable"].calls) == FAST.attempts
    assert "HTTP 503" in found.failures[0]


def test_a_missing_model_is_not_retried(servers: dict[str, Server]) -> None:
    urls = {"gcp": servers["missing"].url, "azure": servers["ok"].url}
    found = client.predict(endpoints(urls), [app.SAMPLE], FAST, lambda _: None)
    assert found.cloud == "azure"
    assert len(servers["missing"].calls) == 1
    assert found.failures == ["gcp attempt 1: HTTP 404"]


def test_a_slow_cloud_times_out(servers: dict[str, Server]) -> None:
    policy = client.Policy(timeout=0.1, attempts=1)
    found = client.predict(
        endpoints({"aws": servers["slow"].url, "gcp": servers["ok"].url}), [app.SAMPLE], policy
    )
    assert found.cloud == "gcp"
    assert "timed out" in found.failures[0]


def test_the_first_healthy_cloud_answers_alone(servers: dict[str, Server]) -> None:
    found = client.predict(
        endpoints({"gcp": servers["ok"].url, "aws": servers["unavailable"].url}), [app.SAMPLE]
    )
    assert (found.cloud, found.failures) == ("gcp", [])
    assert servers["unavailable"].calls == []


def test_all_down_names_every_failure(down_url: str) -> None:
    with pytest.raises(client.AllEndpointsFailedError) as failed:
        client.predict(endpoints({"aws": down_url, "gcp": ""}), [app.SAMPLE], FAST, lambda _: None)
    assert len(failed.value.failures) == FAST.attempts + 1
    assert failed.value.failures[-1] == "gcp: no address yet"


def test_cli_reads_saved_outputs(
    servers: dict[str, Server], down_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(outputs({"aws": down_url, "azure": servers["ok"].url})))
    assert app.main(["--outputs", str(saved), "--timeout", "0.5", "--attempts", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["classes"]) == ("azure", [9])
    assert len(printed["failures"]) == 1


def test_cli_refuses_outputs_that_break_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = outputs({"gcp": "http://127.0.0.1:1/v1/models/digits:predict"})
    del broken["clouds"]["gcp"]["trainingJob"]
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(broken))
    assert app.main(["--outputs", str(saved)]) == 2
    assert "trainingJob" in capsys.readouterr().err


def test_sample_is_one_digit_image() -> None:
    assert len(app.SAMPLE) == 8
    assert all(len(row) == 8 and all(len(px) == 1 and 0 <= px[0] <= 1 for px in row) for row in app.SAMPLE)
