"""Stand-ins for the example app's tests: HTTP servers on 127.0.0.1 that speak TF Serving's REST API
(predict, for the newest version or one named, and model status), and stack outputs as `pulumi stack
output --json` prints them."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "digits"
PREDICT = re.compile(rf"^/v1/models/{MODEL}(?:/versions/(\d+))?:predict$")


def winner(version: int) -> int:
    """The class a version's answers favour, so that a test sees which version answered: 9 for version 2."""
    return 7 + version


class TFServing(BaseHTTPRequestHandler):
    """`POST /v1/models/<model>[/versions/<v>]:predict`: ten class probabilities per instance, `winner` of
    the version asked for (else the newest) winning; `GET /v1/models/<model>`: `model_version_status`, the
    served versions AVAILABLE and the unloaded ones END, as TF Serving reports them."""

    behaviour = "ok"
    calls: list[str]
    versions: list[int]
    unloaded: list[int]

    def do_POST(self) -> None:
        if not self._usable():
            return
        match = PREDICT.match(self.path)
        version = int(match[1]) if match and match[1] else max(self.versions, default=0)
        if not match or version not in self.versions:
            wanted = f"Specific({MODEL}, {version})" if match and match[1] else f"Latest({MODEL})"
            self._json(404, {"error": f"Servable not found for request: {wanted}"})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        scores = [1.0 if c == winner(version) else 0.0 for c in range(10)]
        self._json(200, {"predictions": [scores for _ in body["instances"]]})

    def do_GET(self) -> None:
        if not self._usable():
            return
        if self.path != f"/v1/models/{MODEL}" or not self.versions:
            self._json(404, {"error": f"Could not find any versions of model {MODEL}"})
            return
        states = [(v, "AVAILABLE") for v in self.versions] + [(v, "END") for v in self.unloaded]
        status = [{"version": str(v), "state": s, "status": {"error_code": "OK"}} for v, s in sorted(states)]
        self._json(200, {"model_version_status": status[::-1]})  # newest first, as TF Serving lists them

    def _usable(self) -> bool:
        """Record the call and act out the behaviour; False once it has answered for the server."""
        self.calls.append(f"{self.command} {self.path}")
        if self.behaviour == "slow":
            time.sleep(0.5)
        if self.behaviour == "unavailable" or (self.behaviour == "failing" and self.command == "POST"):
            self.send_error(503)
            return False
        if self.behaviour == "missing":
            self._json(404, {"error": f"Servable not found for request: Latest({MODEL})"})
            return False
        return True

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
    """One TF Serving stand-in: `behaviour` ok, slow, unavailable (503), missing (404, no model) or failing
    (its status is fine, every predict 503), serving `versions` (a list the test may change while it runs,
    as the replicator and model sync would)."""

    def __init__(
        self, behaviour: str, versions: Iterable[int] = (1, 2), unloaded: Iterable[int] = ()
    ) -> None:
        self.calls: list[str] = []
        self.versions, self.unloaded = list(versions), list(unloaded)
        handler = type(
            f"TFServing_{behaviour}",
            (TFServing,),
            {
                "behaviour": behaviour,
                "calls": self.calls,
                "versions": self.versions,
                "unloaded": self.unloaded,
            },
        )
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A short poll interval: shutdown() waits for one, and the tests start several servers.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/models/{MODEL}:predict"

    def predicted(self) -> list[str]:
        """The paths of the predict calls it received."""
        return [c.removeprefix("POST ") for c in self.calls if c.startswith("POST ")]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def outputs(urls: dict[str, str], home: str | None = None) -> dict[str, Any]:
    """Stack outputs (schema version 5) of a stack without `serving.domain`, as `pulumi stack output --json`
    prints them, one cloud per URL; the home cloud (default: the first) trains, the others receive its
    versions."""
    home = home or next(iter(urls))
    image = "registry.example/trainer@sha256:" + "c" * 64
    replicator = "replicate-digits" if len(urls) > 1 else None
    training = {"image": image, "job": "train-digits-0", "replicator": replicator}
    clouds = {
        cloud: {
            "region": "r",
            "clusterName": "c",
            "bucketUri": f"gs://b-{cloud}",
            "registry": "registry.example/trainer",
            "servingUrl": url,
            "model": {
                "name": MODEL,
                "uri": f"gs://b-{cloud}/models/{MODEL}",
                "serves": 2,
                "trainedOn": home,
                "sourceUri": f"gs://b-{home}/models/{MODEL}",
            },
            "training": training if cloud == home else None,
            "network": {},
        }
        for cloud, url in urls.items()
    }
    endpoints = [{"cloud": c, "url": u} for c, u in urls.items()]
    return {
        "schemaVersion": 5,
        "stack": "dev",
        "environment": "dev",
        "clouds": clouds,
        "dispatch": None,
        "serving": None,
        "endpoints": endpoints,
        "kubeconfigs": "[secret]",
        "apiKeys": None,
    }
