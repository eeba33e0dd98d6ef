"""`trainer serve`, the development server, answering TF Serving's REST calls with the session's trained
model (tests/dev_server.py runs it in a thread): model status, predict for the newest version and for one
named, TF Serving's error shapes, and what it refuses at start-up."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.dev_server import DevServer
from tests.trained import Trained, run_cli
from trainer import manifest, records, serve, storage
from trainer.errors import UsageError

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(url: str, body: bytes | None = None) -> tuple[int, Any]:
    """One request (a POST when there is a body): its status and its JSON answer."""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with _OPENER.open(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def instances(rows: Any) -> bytes:
    return json.dumps({"instances": rows}).encode()


@pytest.fixture(scope="module")
def test_split(trained: Trained) -> tuple[np.ndarray, np.ndarray]:
    meta, files = manifest.stage(storage.locate(str(trained.data)), trained.data, ("test",))
    return records.arrays(files["test"], meta, "test")


def test_status_lists_the_loaded_version_available(served: DevServer) -> None:
    available = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert call(served.base) == (200, {"model_version_status": [available]})
    assert call(f"{served.base}/versions/1") == (200, {"model_version_status": [available]})
    assert call(f"{served.base}/versions/2") == (404, {"error": "Could not find version 2 of model digits"})


def test_predict_answers_with_the_models_probabilities(
    served: DevServer, test_split: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = test_split
    status, answer = call(served.url, instances(x[:32].tolist()))
    probabilities = np.array(answer["predictions"])
    assert (status, probabilities.shape) == (200, (32, 10))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(axis=1) == y[:32]).mean() >= 0.9
    named = call(f"{served.base}/versions/1:predict", instances([{"image": row} for row in x[:2].tolist()]))
    np.testing.assert_allclose(named[1]["predictions"], answer["predictions"][:2], rtol=1e-5)


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        (":predict", b"{not json", 400, "JSON Parse error: "),
        (":predict", b'{"inputs": [[0]]}', 400, "Missing 'instances' key"),
        (":predict", instances([]), 400, "'instances' is empty"),
        (":predict", instances([[0.0] * 64]), 400, "instances: shape [1, 64] does not fit input 'image'"),
        (":predict", instances([[[[0.0]] * 8] * 7 + [[[0.0, 1.0]] * 8]]), 400, "instances: not numbers of"),
        (":predict", instances([[["zero"]]]), 400, "instances: not numbers of one shape"),
        ("/versions/3:predict", instances([]), 404, "Servable not found for request: Specific(digits, 3)"),
    ],
)
def test_bad_requests_get_tf_servings_error_shape(
    served: DevServer, path: str, body: bytes, status: int, error: str
) -> None:
    code, answer = call(f"{served.base}{path}", body)
    assert (code, list(answer)) == (status, ["error"])
    assert answer["error"].startswith(error)


def test_another_model_or_path_is_not_found(served: DevServer) -> None:
    other = served.base.replace("/digits", "/letters")
    assert call(other) == (404, {"error": "Could not find any versions of model letters"})
    assert call(f"{other}:predict", instances([])) == (
        404,
        {"error": "Servable not found for request: Latest(letters)"},
    )
    malformed = "Malformed request: GET /v1/models/digits/metadata"
    assert call(f"{served.base}/metadata") == (404, {"error": malformed})
    assert call(served.url)[0] == 404  # predict is a POST


def test_the_newest_committed_version_is_loaded(trained: Trained, tmp_path: Path) -> None:
    (tmp_path / "1").symlink_to(trained.serve / "1")
    (tmp_path / "2").mkdir()  # torn: no saved_model.pb, as an export stopped while committing leaves it
    (tmp_path / ".staging-3").mkdir()
    loaded = serve.load(storage.locate(str(tmp_path)), 2, tmp_path)
    assert list(loaded) == [1]


@pytest.mark.parametrize("layout", ["missing", "empty", "torn"])
def test_no_committed_version_stops_it_at_start_up(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "serve"
    if layout != "missing":
        base.mkdir()
    if layout == "torn":
        (base / "1" / "variables").mkdir(parents=True)
    assert run_cli("serve", "--model-base", base, "--port", "0") == 1
    assert capsys.readouterr().err == (
        f"trainer serve: error: no committed model version under {base} (a numbered directory holding "
        "saved_model.pb): run export first\n"
    )


def test_an_address_in_use_is_a_usage_error(served: DevServer) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"--host 127.0.0.1 --port {port}: cannot listen there"):
            serve.server(served.model, "127.0.0.1", port)


def test_help_says_it_is_a_development_server(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli("serve", "--help")
    assert "A development server, not for production" in " ".join(capsys.readouterr().out.split())
