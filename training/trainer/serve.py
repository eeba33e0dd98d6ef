"""`serve`: a development server that answers TF Serving's REST API with the models `export` wrote.

Not for production: one Python process on this machine, without batching, TLS, authentication, metrics
or polling for new versions; the clusters run TF Serving. It exists so that a model can be tried where
it was trained, through exactly the calls an application makes to TF Serving:

- `GET /v1/models/<name>[/versions/<v>]`: `model_version_status`, each loaded version `AVAILABLE`;
- `POST /v1/models/<name>[/versions/<v>]:predict`, row format: `{"instances": [...]}` (each instance the
  `serving_default` input, or an object naming it) → `{"predictions": [...]}`, one list of class
  probabilities per instance; without `/versions/<v>`, the newest version answers.

At start-up it loads the `--newest` committed versions (numbered directories holding `saved_model.pb`, see
`versions`) under the model base path with `tf.saved_model.load`, as TF Serving's `latest` version policy
does; a bucket's versions are downloaded first. Errors have TF Serving's shape, `{"error": "..."}`: 400
for a body that is not JSON or instances that do not fit the signature's input, 404 for a model, version
or path it does not serve.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from trainer import storage, versions
from trainer.config import ServeConfig
from trainer.errors import DataError, UsageError

SIGNATURE = "serving_default"
_PATH = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?P<predict>:predict)?$")


@dataclass(frozen=True)
class Model:
    """One model's loaded versions: number → the SavedModel `tf.saved_model.load` returned."""

    name: str
    versions: dict[int, Any]


class ApiError(Exception):
    """An answer other than 200: its HTTP status, and the message for `{"error": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def load(base: storage.Location, newest: int, scratch: Path) -> dict[int, Any]:
    """The `newest` committed versions under `base`, loaded; a `DataError` when there is none."""
    names = versions.listed(base) if storage.exists(base) else []
    committed = [name for name in names if versions.is_committed(base.child(name))][:newest]
    if not committed:
        raise DataError(
            f"no committed model version under {base.uri} (a numbered directory holding "
            f"{versions.SAVED_MODEL}): run export first"
        )
    loaded: dict[int, Any] = {}
    for name in committed:
        local = Path(base.child(name).path) if base.is_local else scratch / name
        if not base.is_local:
            storage.download_tree(base.child(name), local)
        loaded[int(name)] = tf.saved_model.load(str(local))
    return loaded


def status(model: Model, version: int | None) -> dict[str, Any]:
    """`GetModelStatusResponse` as TF Serving's REST API writes it, newest version first."""
    if version is not None and version not in model.versions:
        raise ApiError(404, f"Could not find version {version} of model {model.name}")
    shown = [version] if version is not None else sorted(model.versions, reverse=True)
    ok = {"error_code": "OK", "error_message": ""}
    return {"model_version_status": [{"version": str(v), "state": "AVAILABLE", "status": ok} for v in shown]}


def predict(model: Model, version: int | None, body: bytes) -> dict[str, Any]:
    """The row-format predict call: `{"instances": [...]}` → `{"predictions": [...]}`."""
    chosen = max(model.versions) if version is None else version
    if chosen not in model.versions:
        raise ApiError(404, f"Servable not found for request: Specific({model.name}, {version})")
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"JSON Parse error: {exc}") from None
    instances = request.get("instances") if isinstance(request, dict) else None
    if not isinstance(instances, list):
        raise ApiError(
            400, "Missing 'instances' key: this server takes the row format, {\"instances\": [...]}"
        )
    if not instances:
        raise ApiError(400, "'instances' is empty")
    serving = model.versions[chosen].signatures[SIGNATURE]
    ((name, spec),) = serving.structured_input_signature[1].items()
    rows = [row.get(name) if isinstance(row, dict) else row for row in instances]
    try:
        tensor = np.asarray(rows, dtype=spec.dtype.as_numpy_dtype)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"instances: not numbers of one shape for input '{name}': {exc}") from None
    if not spec.shape.is_compatible_with(tensor.shape):
        expected = [-1 if d is None else d for d in spec.shape.as_list()]
        raise ApiError(400, f"instances: shape {list(tensor.shape)} does not fit input '{name}' {expected}")
    (outputs,) = serving(**{name: tf.constant(tensor)}).values()
    return {"predictions": outputs.numpy().tolist()}


class Handler(BaseHTTPRequestHandler):
    """TF Serving's status and predict calls for `model`, which `server` sets on a subclass."""

    model: Model
    server_version = "trainer-serve (development server)"

    def do_GET(self) -> None:
        self._answer(lambda version: status(self.model, version), predicting=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._answer(lambda version: predict(self.model, version, body), predicting=True)

    def _answer(self, action: Callable[[int | None], dict[str, Any]], predicting: bool) -> None:
        match = _PATH.match(self.path)
        try:
            if not match or bool(match["predict"]) != predicting:
                raise ApiError(404, f"Malformed request: {self.command} {self.path}")
            version = int(match["version"]) if match["version"] else None
            if match["name"] != self.model.name:
                wanted = f"Specific({match['name']}, {version})" if version else f"Latest({match['name']})"
                missing = f"Servable not found for request: {wanted}"
                raise ApiError(
                    404, missing if predicting else f"Could not find any versions of model {match['name']}"
                )
            code, payload = 200, action(version)
        except ApiError as exc:
            code, payload = exc.status, {"error": str(exc)}
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def server(model: Model, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to `host:port` (port 0: any free one), not yet serving."""
    handler = type("ModelHandler", (Handler,), {"model": model})
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise UsageError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from None


def run(cfg: ServeConfig) -> None:
    base = storage.locate(cfg.model_base)
    with tempfile.TemporaryDirectory(prefix="trainer-serve-") as scratch:
        model = Model(cfg.name, load(base, cfg.newest, Path(scratch)))
        httpd = server(model, cfg.host, cfg.port)
        host, port = httpd.server_address[:2]
        served = ", ".join(str(v) for v in sorted(model.versions, reverse=True))
        print(
            f"Serving {cfg.name} version(s) {served} from {base.uri} at http://{host!s}:{port}/v1/models/"
            f"{cfg.name} (a development server, not for production: the clusters run TF Serving)",
            flush=True,
        )
        with httpd, contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
