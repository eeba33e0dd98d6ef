"""The example app against real HTTP servers on 127.0.0.1 that speak TF Serving's REST predict API: one
cloud down (nothing listening), one failing (503), one slow, one without the model (404), one healthy."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from examples.app import __main__ as app
from examples.app import client
from infra.outputs import Endpoint, StackOutputs

MODEL = "digits"
FAST = client.Policy(timeout=0.5, attempts=3, backoff=0.01, max_backoff=0.02)


class TFServing(BaseHTTPRequestHandler):
    """`POST /v1/models/<model>:predict`: ten class probabilities per instance, the last one winning."""

    behaviour = "ok"
    calls: list[str]

    def do_POST(self) -> None:
        self.calls.append(self.path)
        if self.behaviour == "slow":
            time.sleep(0.5)
        if self.behaviour == "unavailable":
            self.send_error(503)
            return
        if self.behaviour == "missing" or self.path != f"/v1/models/{MODEL}:predict":
            self._json(404, {"error": f"Servable not found for request: Latest({MODEL})"})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._json(200, {"predictions": [[0.0] * 9 + [1.0] for _ in body["instances"]]})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle(self) -> None:
        # The slow server answers a client that has already given up, as intended.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server:
    def __init__(self, behaviour: str) -> None:
        self.calls: list[str] = []
        handler = type(f"TFServing_{behaviour}", (TFServing,), {"behaviour": behaviour, "calls": self.calls})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A short poll interval: shutdown() waits for one, and the tests start several servers.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/models/{MODEL}:predict"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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


def outputs(urls: dict[str, str]) -> dict[str, Any]:
    """Stack outputs as `pulumi stack output --json` prints them, one cloud per URL."""
    digest = "sha256:" + "0" * 64
    clouds = {
        cloud: {
            "region": "r",
            "clusterName": "c",
            "bucketUri": f"gs://b-{cloud}",
            "registry": "registry.example/trainer",
            "trainingImage": f"registry.example/trainer@{digest}",
            "trainingJob": "train-digits-0",
            "modelUri": f"gs://b-{cloud}/models/digits",
            "servingUrl": url,
            "network": {},
        }
        for cloud, url in urls.items()
    }
    endpoints = [{"cloud": c, "url": u} for c, u in urls.items()]
    return {
        "schemaVersion": 2,
        "stack": "dev",
        "environment": "dev",
        "clouds": clouds,
        "endpoints": endpoints,
        "kubeconfigs": "[secret]",
    }


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
