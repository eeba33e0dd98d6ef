"""The smoke command end to end: a stand-in `kubectl` per cluster (tests/examples/fake_kubectl.py) and
TF Serving REST stand-ins behind its port-forward. All clouds up passes; one down fails naming it."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.app import smoke
from tests.examples.standins import Server, outputs

CLOUDS = ("aws", "gcp", "azure")
FAKE = Path(__file__).with_name("fake_kubectl.py")


@pytest.fixture(scope="module")
def serving() -> Iterator[Server]:
    server = Server("ok")
    yield server
    server.stop()


@pytest.fixture
def kubectl(tmp_path: Path) -> str:
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -I -S "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def free_port() -> int:
    """A port nothing listens on: bound, then closed, so connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def port_of(server: Server) -> int:
    return int(server.httpd.server_address[1])


def stack(tmp_path: Path, clusters: dict[str, dict[str, Any]], url: str = "") -> Path:
    doc = outputs(dict.fromkeys(clusters, url))
    doc["kubeconfigs"] = {c: json.dumps(cluster) for c, cluster in clusters.items()}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(doc))
    return path


def smoke_main(path: Path, kubectl: str, *extra: str) -> int:
    return smoke.main(
        ["--outputs", str(path), "--kubectl", kubectl, "--poll", "0.01", "--timeout", "1", *extra]
    )


def test_all_clouds_up_passes(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack(tmp_path, {c: {"forward": port_of(serving)} for c in CLOUDS})
    assert smoke_main(path, kubectl) == 0
    out = capsys.readouterr().out
    for cloud in CLOUDS:
        assert (
            f"smoke {cloud}: ok - API reachable; job train-digits-0 complete; rollout of digits-serving"
            in out
        )
    assert "predicted class 9 through port-forward" in out
    assert out.rstrip().endswith("smoke: passed on 3 clouds")


def test_one_cloud_down_fails_naming_it(
    tmp_path: Path,
    kubectl: str,
    serving: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    clusters = {c: {"forward": port_of(serving)} for c in CLOUDS}
    clusters["gcp"]["forward"] = free_port()
    assert smoke_main(stack(tmp_path, clusters), kubectl) == 1
    out = capsys.readouterr().out
    assert "smoke gcp: FAILED at prediction - gcp attempt 3: " in out
    assert "::error title=smoke test failed on gcp::smoke gcp: FAILED at prediction" in out
    assert "smoke aws: ok" in out
    assert "smoke azure: ok" in out
    assert out.rstrip().endswith("smoke: failed on gcp")


@pytest.mark.parametrize(
    "case",
    [
        ({"api": "down"}, "api", "cannot reach the Kubernetes API: Unable to connect"),
        ({"job": "Failed"}, "training job", "job train-digits-0 failed (BackoffLimitExceeded"),
        ({"job": "Running"}, "training job", "job train-digits-0 still running after 0s"),
        ({"rollout": "stuck"}, "serving rollout", "exceeded its progress deadline"),
    ],
    ids=["api-down", "job-failed", "job-running", "rollout-stuck"],
)
def test_a_failing_kubectl_step_names_the_cloud_and_step(
    tmp_path: Path,
    kubectl: str,
    serving: Server,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], str, str],
) -> None:
    cluster, step, detail = case
    path = stack(tmp_path, {"azure": {"forward": port_of(serving), **cluster}})
    assert smoke_main(path, kubectl, "--job-timeout", "0") == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("smoke azure"))
    assert line.startswith(f"smoke azure: FAILED at {step} - ")
    assert detail in line


def test_predictions_can_go_to_urls_and_a_removed_job_counts_as_done(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1/models/digits:predict"
    path = stack(tmp_path, {"aws": {"job": "Missing"}, "gcp": {}}, url=serving.url)
    assert smoke_main(path, kubectl, "--direct") == 0
    out = capsys.readouterr().out
    assert "job train-digits-0 is gone (removed after it finished)" in out
    assert f"predicted class 9 at {serving.url}" in out
    assert smoke_main(path, kubectl, "--url", f"gcp={down}") == 1
    assert "smoke gcp: FAILED at prediction" in capsys.readouterr().out


def test_hidden_kubeconfigs_cannot_be_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs({"aws": ""})))
    assert smoke.main(["--outputs", str(path)]) == 2
    assert "--show-secrets" in capsys.readouterr().err
