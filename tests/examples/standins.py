"""Stand-ins for the example app's tests: HTTP servers on 127.0.0.1 that speak TF Serving's REST predict
API, and stack outputs as `pulumi stack output --json` prints them."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "digits"


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


def outputs(urls: dict[str, str]) -> dict[str, Any]:
    """Stack outputs as `pulumi stack output --json` prints them, one cloud per URL."""
    digest = "sha256:" + "c" * 64
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
