"""The smoke command end to end: a stand-in `kubectl` per cluster (tests/examples/fake_kubectl.py) and
TF Serving REST stand-ins behind its port-forward. The home cloud (aws here) waits for its Job; the others
wait until their TF Serving reports the home's version. All clouds up passes; one down, or one the version
never reaches, fails naming it and the step."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.app import smoke
from tests.examples.gateway import CLIENT_HEADER, Gateway, TestCA
from tests.examples.gateway import outputs_with_domain as with_domain
from tests.examples.standins import Server, outputs

CLOUDS = ("aws", "gcp", "azure")
HOME_OK = "API reachable; job train-digits-0 complete; rollout of digits-serving complete; serves version 2"
REPLICA_OK = "API reachable; rollout of digits-serving complete; serves version 2, replicated from aws"
PREDICTED = "predicted class 9 with version 2 through port-forward"


@pytest.fixture(scope="module")
def serving() -> Iterator[Server]:
    server = Server("ok")
    yield server
    server.stop()


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


def lines(out: str) -> dict[str, str]:
    """Each cloud's line, without its `smoke CLOUD: ` prefix."""
    found = (x.removeprefix("smoke ").split(": ", 1) for x in out.splitlines() if x.startswith("smoke "))
    return {cloud: rest for cloud, rest in found if cloud in CLOUDS}


def test_all_clouds_up_passes_and_only_the_home_job_is_waited_for(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    clusters: dict[str, dict[str, Any]] = {c: {"forward": port_of(serving)} for c in CLOUDS}
    clusters["gcp"]["job"] = clusters["azure"]["job"] = "Failed"  # not read: they train nothing
    assert smoke_main(stack(tmp_path, clusters), kubectl) == 0
    out = capsys.readouterr().out
    assert lines(out) == {
        "aws": f"ok - {HOME_OK}; {PREDICTED}",
        "gcp": f"ok - {REPLICA_OK}; {PREDICTED}",
        "azure": f"ok - {REPLICA_OK}; {PREDICTED}",
    }
    assert out.rstrip().endswith("smoke: passed on 3 clouds")


def test_the_home_cloud_is_checked_with_the_clouds_asked_for(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stack(tmp_path, {c: {"forward": port_of(serving)} for c in CLOUDS})
    assert smoke_main(path, kubectl, "--cloud", "gcp") == 0
    out = capsys.readouterr().out
    assert set(lines(out)) == {"aws", "gcp"}
    assert out.rstrip().endswith("smoke: passed on 2 clouds")


def test_waits_until_the_home_version_reaches_each_cloud(
    tmp_path: Path, kubectl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """gcp receives version 2 while the smoke test waits; azure never does within the timeout."""
    servers = {"aws": Server("ok", (1, 2)), "gcp": Server("ok", (1,)), "azure": Server("ok", (1,))}
    arrival = threading.Timer(0.3, servers["gcp"].versions.append, (2,))
    try:
        arrival.start()
        path = stack(tmp_path, {c: {"forward": port_of(s)} for c, s in servers.items()})
        assert smoke_main(path, kubectl, "--replication-timeout", "2") == 1
    finally:
        arrival.cancel()
        for server in servers.values():
            server.stop()
    out = capsys.readouterr().out
    assert lines(out)["gcp"] == f"ok - {REPLICA_OK}; {PREDICTED}"
    assert lines(out)["azure"] == "FAILED at replication - serves [1] after 2s, not version 2"
    assert servers["gcp"].predicted() == ["/v1/models/digits/versions/2:predict"]
    assert servers["azure"].predicted() == []
    assert out.rstrip().endswith("smoke: failed on azure")


def test_one_cloud_down_fails_naming_it(
    tmp_path: Path,
    kubectl: str,
    serving: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    clusters: dict[str, dict[str, Any]] = {c: {"forward": port_of(serving)} for c in CLOUDS}
    clusters["gcp"]["forward"] = free_port()
    assert smoke_main(stack(tmp_path, clusters), kubectl, "--replication-timeout", "0") == 1
    out = capsys.readouterr().out
    assert lines(out)["gcp"].startswith("FAILED at replication - model status: ")
    assert "::error title=smoke test failed on gcp::smoke gcp: FAILED at replication" in out
    assert lines(out)["aws"].startswith("ok")
    assert lines(out)["azure"].startswith("ok")
    assert out.rstrip().endswith("smoke: failed on gcp")


def test_a_failing_home_fails_the_others_for_want_of_a_version(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    clusters: dict[str, dict[str, Any]] = {c: {"forward": port_of(serving)} for c in CLOUDS}
    clusters["aws"]["job"] = "Failed"
    assert smoke_main(stack(tmp_path, clusters), kubectl) == 1
    found = lines(capsys.readouterr().out)
    assert found["aws"].startswith("FAILED at training job - job train-digits-0 failed")
    for cloud in ("gcp", "azure"):
        assert found[cloud] == "FAILED at replication - no version to wait for: the home cloud aws failed"


@pytest.mark.parametrize(
    "case",
    [
        ({"api": "down"}, "ok", "api", "cannot reach the Kubernetes API: Unable to connect"),
        ({"job": "Failed"}, "ok", "training job", "job train-digits-0 failed (BackoffLimitExceeded"),
        ({"job": "Running"}, "ok", "training job", "job train-digits-0 still running after 0s"),
        ({"rollout": "stuck"}, "ok", "serving rollout", "exceeded its progress deadline"),
        ({}, "missing", "model version", "model status: HTTP 404 after 0s, not a version"),
        ({}, "failing", "prediction", "azure attempt 3: HTTP 503"),
    ],
    ids=["api-down", "job-failed", "job-running", "rollout-stuck", "no-version", "predict-fails"],
)
def test_a_failing_step_names_the_cloud_and_step(
    tmp_path: Path,
    kubectl: str,
    capsys: pytest.CaptureFixture[str],
    case: tuple[dict[str, Any], str, str, str],
) -> None:
    cluster, behaviour, step, detail = case
    server = Server(behaviour)
    try:
        path = stack(tmp_path, {"azure": {"forward": port_of(server), **cluster}})
        assert smoke_main(path, kubectl, "--job-timeout", "0", "--rollout-timeout", "0") == 1
    finally:
        server.stop()
    line = lines(capsys.readouterr().out)["azure"]
    assert line.startswith(f"FAILED at {step} - ")
    assert detail in line


def test_predictions_can_go_to_urls_and_a_removed_job_counts_as_done(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1/models/digits:predict"
    path = stack(tmp_path, {"aws": {"job": "Missing"}, "gcp": {}}, url=serving.url)
    assert smoke_main(path, kubectl, "--direct") == 0
    out = capsys.readouterr().out
    assert "job train-digits-0 is gone (removed after it finished)" in out
    assert f"predicted class 9 with version 2 at {serving.url}" in out
    urls = ["--url", f"aws={serving.url}", "--url", f"gcp={down}"]
    assert smoke_main(path, kubectl, *urls, "--replication-timeout", "0") == 1
    found = lines(capsys.readouterr().out)
    assert found["aws"].endswith(f"predicted class 9 with version 2 at {serving.url}")
    assert found["gcp"].startswith("FAILED at replication - model status: ")
    no_address = stack(tmp_path, {"aws": {}})
    assert smoke_main(no_address, kubectl, "--direct") == 1
    assert lines(capsys.readouterr().out)["aws"] == (
        "FAILED at serving - servingUrl is empty: the load balancer has no address yet"
    )


def test_direct_behind_the_gateway_sends_the_first_clients_key(
    tmp_path: Path, kubectl: str, serving: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    """With `serving.domain`, `servingUrl` is the cloud's gateway: --direct sends the first client's key
    from `apiKeys` (smoke reads the outputs with --show-secrets) and trusts --ca-file."""
    ca = TestCA(tmp_path)
    gateway = Gateway(serving.url, {"web": "key-web"}, ca)
    try:
        doc = with_domain(gateway.url, {"aws": gateway.url}, ["ops", "web"], {"web": "key-web"})
        doc["kubeconfigs"] = {"aws": json.dumps({})}
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(doc))
        assert smoke_main(path, kubectl, "--direct", "--ca-file", str(ca.bundle)) == 0
        assert f"predicted class 9 with version 2 at {gateway.url}" in capsys.readouterr().out
        assert gateway.forwarded[-1][CLIENT_HEADER] == "web"
        path.write_text(json.dumps({**doc, "apiKeys": {"web": "stale"}}))
        assert smoke_main(path, kubectl, "--direct", "--ca-file", str(ca.bundle)) == 1
        assert lines(capsys.readouterr().out)["aws"] == (
            "FAILED at prediction - aws attempt 1: HTTP 401: the API key was refused"
        )
    finally:
        gateway.stop()


def test_outputs_without_a_home_or_with_hidden_kubeconfigs_cannot_be_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs({"aws": ""})))
    assert smoke.main(["--outputs", str(path)]) == 2
    assert "--show-secrets" in capsys.readouterr().err
    homeless = outputs({"aws": "", "gcp": ""})
    homeless["clouds"]["aws"]["training"] = None
    homeless["kubeconfigs"] = {"aws": "{}", "gcp": "{}"}
    path.write_text(json.dumps(homeless))
    assert smoke.main(["--outputs", str(path)]) == 2
    assert "one cloud must have `training` (the home cloud), not 0" in capsys.readouterr().err
