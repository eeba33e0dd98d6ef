"""The example app against real HTTP servers on 127.0.0.1 that speak TF Serving's REST API: one cloud down
(nothing listening), stand-ins failing (503), slow or without the model (404), and healthy clouds that are
the trainer's development server answering with the session's trained model (tests/dev_server.py); with
the version pinned, three clouds serving versions 1 and 2, or one of them still without version 2. Every
answer is the model's, for the sample digit: a zero."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from examples.app import __main__ as app
from examples.app import client
from infra.outputs import SCHEMA_PATH, SCHEMA_VERSION, Endpoint, StackOutputs
from tests.dev_server import DevServer
from tests.examples.standins import MODEL, Server, outputs

FAST = client.Policy(timeout=0.5, attempts=3, backoff=0.01, max_backoff=0.02)
ZERO = 0  # the class of app.SAMPLE, scikit-learn's first digit


def best(predictions: list[Any]) -> list[int]:
    """The predicted class of each instance: its most probable one."""
    return [max(range(len(p)), key=p.__getitem__) for p in predictions]


@pytest.fixture(scope="module")
def started(served: DevServer) -> Iterator[dict[str, Server | DevServer]]:
    """The session's development server as the healthy cloud, and the stand-ins that fail."""
    stand_ins = {b: Server(b) for b in ("unavailable", "slow", "missing")}
    yield {"ok": served, **stand_ins}
    for server in stand_ins.values():
        server.stop()


@pytest.fixture
def servers(started: dict[str, Server | DevServer]) -> dict[str, Server | DevServer]:
    for server in started.values():
        server.calls.clear()
    return started


@pytest.fixture
def serve(served: DevServer) -> Iterator[Callable[[Iterable[int]], DevServer]]:
    """Start a development server answering with the trained model as the versions given (the one loaded
    SavedModel for each), stopped after the test."""
    made: list[DevServer] = []

    def start(versions: Iterable[int]) -> DevServer:
        made.append(DevServer.serving(served.model.versions[1], tuple(versions)))
        return made[-1]

    yield start
    for server in made:
        server.stop()


@pytest.fixture
def down_url() -> str:
    """A port nothing listens on: bound, then closed, so connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/models/{MODEL}:predict"


def endpoints(urls: dict[str, str]) -> list[Endpoint]:
    return StackOutputs.model_validate(outputs(urls)).endpoints


def test_fails_over_past_a_cloud_that_is_down(servers: dict[str, Server | DevServer], down_url: str) -> None:
    sleeps: list[float] = []
    found = client.predict(
        endpoints({"aws": down_url, "gcp": servers["ok"].url}), [app.SAMPLE], FAST, sleeps.append, lambda: 1.0
    )
    assert (found.cloud, best(found.predictions)) == ("gcp", [ZERO])
    assert len(found.failures) == FAST.attempts
    assert all(f.startswith("aws attempt") for f in found.failures)
    assert sleeps == [0.01, 0.02]  # exponential, capped at max_backoff, between the attempts only


def test_retries_a_503_then_moves_on(servers: dict[str, Server | DevServer]) -> None:
    urls = {"aws": servers["unavailable"].url, "azure": servers["ok"].url}
    found = client.predict(endpoints(urls), [app.SAMPLE], FAST, lambda _: None)
    assert found.cloud == "azure"
    assert len(servers["unavailable"].calls) == FAST.attempts
    assert "HTTP 503" in found.failures[0]


def test_a_missing_model_is_not_retried(servers: dict[str, Server | DevServer]) -> None:
    urls = {"gcp": servers["missing"].url, "azure": servers["ok"].url}
    found = client.predict(endpoints(urls), [app.SAMPLE], FAST, lambda _: None)
    assert found.cloud == "azure"
    assert len(servers["missing"].calls) == 1
    assert found.failures == ["gcp attempt 1: HTTP 404"]


def test_a_slow_cloud_times_out(servers: dict[str, Server | DevServer]) -> None:
    policy = client.Policy(timeout=0.1, attempts=1)
    found = client.predict(
        endpoints({"aws": servers["slow"].url, "gcp": servers["ok"].url}), [app.SAMPLE], policy
    )
    assert found.cloud == "gcp"
    assert "timed out" in found.failures[0]


def test_the_first_healthy_cloud_answers_alone(servers: dict[str, Server | DevServer]) -> None:
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
    with pytest.raises(client.AllEndpointsFailedError) as unpinned:
        client.pin(endpoints({"aws": down_url, "gcp": ""}), FAST.timeout)
    assert [f.split(":")[0] for f in unpinned.value.failures] == ["aws versions"]


def test_the_stand_in_outputs_follow_the_contract() -> None:
    doc = outputs({"aws": "", "gcp": "", "azure": ""}, home="gcp")
    jsonschema.validate(doc, json.loads(SCHEMA_PATH.read_text()))
    parsed = StackOutputs.model_validate(doc)
    assert parsed.schema_version == SCHEMA_VERSION
    assert {c: s.training is not None for c, s in parsed.clouds.items()} == {
        "aws": False,
        "gcp": True,
        "azure": False,
    }
    assert {s.model.source_uri for s in parsed.clouds.values()} == {parsed.clouds["gcp"].model.uri}


def test_a_failover_answers_from_the_pinned_version(
    servers: dict[str, Server | DevServer], serve: Callable[..., DevServer]
) -> None:
    """Three clouds serve versions 1 and 2; the primary fails: the second cloud answers, with version 2."""
    gcp, azure = serve((1, 2)), serve((1, 2))
    clouds = endpoints({"aws": servers["unavailable"].url, "gcp": gcp.url, "azure": azure.url})
    pin = client.pin(clouds, FAST.timeout)
    found = client.predict(clouds, [app.SAMPLE], FAST, lambda _: None, pin=pin)
    assert (found.cloud, found.version, best(found.predictions)) == ("gcp", 2, [ZERO])
    assert gcp.predicted() == [f"/v1/models/{MODEL}/versions/2:predict"]
    assert servers["unavailable"].predicted() == [f"/v1/models/{MODEL}/versions/2:predict"] * FAST.attempts
    assert found.failures[0] == "aws versions: HTTP 503"
    assert azure.predicted() == []


def test_replication_lag_pins_the_version_every_cloud_serves(
    servers: dict[str, Server | DevServer], serve: Callable[..., DevServer]
) -> None:
    """Azure has not received version 2 yet: version 1 is asked for everywhere, so a failover (here past
    a primary that is down) still answers with the version the others would."""
    gcp, azure = serve((1, 2)), serve((1,))
    clouds = endpoints({"aws": servers["unavailable"].url, "gcp": gcp.url, "azure": azure.url})
    pin = client.pin(clouds, FAST.timeout)
    assert (pin.version, pin.skip) == (1, frozenset())
    found = client.predict(clouds, [app.SAMPLE], FAST, lambda _: None, pin=pin)
    assert (found.cloud, found.version, best(found.predictions)) == ("gcp", 1, [ZERO])
    assert gcp.predicted() == [f"/v1/models/{MODEL}/versions/1:predict"]
    azure.model.versions[2] = azure.model.versions[1]  # the replicator and model sync catch up
    assert client.pin(clouds, FAST.timeout).version == 2


def test_a_cloud_without_the_newest_is_left_out_when_the_clouds_share_none(
    serve: Callable[..., DevServer],
) -> None:
    """TF Serving's default policy loads only the newest version (aws, a stand-in, lists the older one as
    END, as TF Serving does): a lagging cloud then shares no version with the others, and is left out
    until version 2 reaches it."""
    aws, gcp, azure = Server("ok", (2,), unloaded=(1,)), serve((2,)), serve((1,))
    clouds = endpoints({"aws": aws.url, "gcp": gcp.url, "azure": azure.url})
    pin = client.pin(clouds, FAST.timeout)
    assert (pin.version, pin.skip) == (2, frozenset({"azure"}))
    assert pin.failures == ["azure: serves [1], not version 2: left out"]
    aws.versions.clear()  # aws unloads its model: the failover passes over it, and over azure
    with pytest.raises(client.AllEndpointsFailedError):
        client.predict(endpoints({"aws": aws.url, "azure": azure.url}), [app.SAMPLE], FAST, pin=pin)
    assert azure.predicted() == []
    found = client.predict(clouds, [app.SAMPLE], FAST, pin=pin)
    aws.stop()
    assert (found.cloud, found.version, best(found.predictions)) == ("gcp", 2, [ZERO])


def test_pinning_on_the_first_cloud_reads_one_status_and_a_lagging_cloud_refuses(
    serve: Callable[..., DevServer],
) -> None:
    gcp, azure = serve((1, 2)), serve((1,))
    pin = client.pin(endpoints({"gcp": gcp.url, "azure": azure.url}), FAST.timeout, scope="first")
    assert pin.version == 2
    assert (gcp.calls, azure.calls) == ([f"GET /v1/models/{MODEL}"], [])
    with pytest.raises(client.AllEndpointsFailedError) as failed:
        client.predict(endpoints({"azure": azure.url}), [app.SAMPLE], FAST, pin=pin)
    assert failed.value.failures == ["azure attempt 1: HTTP 404"]  # not its version 1 in place of 2


def saved(tmp_path: Path, doc: dict[str, object]) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_cli_reads_saved_outputs_and_pins_the_version(
    servers: dict[str, Server | DevServer], down_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = saved(tmp_path, outputs({"aws": down_url, "azure": servers["ok"].url}))
    assert app.main(["--outputs", path, "--timeout", "0.5", "--attempts", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["version"], printed["classes"]) == ("azure", 1, [ZERO])
    assert [f.split(":")[0] for f in printed["failures"]] == ["aws versions", "aws attempt 1"]
    assert servers["ok"].predicted() == [f"/v1/models/{MODEL}/versions/1:predict"]


def test_cli_can_leave_the_version_to_each_cloud(
    servers: dict[str, Server | DevServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = saved(tmp_path, outputs({"gcp": servers["ok"].url}))
    assert app.main(["--outputs", path, "--pin", "off"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["version"], printed["classes"]) == ("gcp", None, [ZERO])
    assert servers["ok"].calls == [f"POST /v1/models/{MODEL}:predict"]


def test_cli_exits_1_when_no_cloud_reports_a_version(
    servers: dict[str, Server | DevServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = saved(tmp_path, outputs({"gcp": servers["missing"].url}))
    assert app.main(["--outputs", path]) == 1
    assert "gcp versions: HTTP 404" in capsys.readouterr().err


def test_cli_refuses_outputs_that_break_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    version_2 = outputs({"gcp": "http://127.0.0.1:1/v1/models/digits:predict"})
    version_2["schemaVersion"] = 2
    del version_2["clouds"]["gcp"]["model"]
    assert app.main(["--outputs", saved(tmp_path, version_2)]) == 2
    err = capsys.readouterr().err
    assert f"schemaVersion {SCHEMA_VERSION}" in err
    assert "clouds.gcp.model" in err


def test_cli_asks_one_server_by_its_url(served: DevServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert app.main(["--url", served.url]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"cloud": "local", "version": 1, "classes": [ZERO], "failures": []}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://127.0.0.1:8501/v1/models/digits"], "argument --url: expected a TF Serving"),
        (["--url", "ftp://h/v1/models/digits:predict"], "argument --url: expected a TF Serving"),
        (["--url", "http://h/v1/models/d:predict", "--stack", "dev"], "argument --url: asks one server"),
        (
            ["--url", "http://h:8501/v1/models/d:predict", "--api-key-env", "KEY"],
            "argument --api-key-env: a key is sent over https only, and --url is http",
        ),
        (["--url", "https://h/v1/models/d:predict", "--client", "web"], "argument --url: no stack outputs"),
        (["--outputs", "o.json", "--show-secrets"], "argument --show-secrets: applies when the app asks"),
    ],
)
def test_cli_refuses_arguments_it_cannot_use(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        app.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_sample_is_one_digit_image() -> None:
    assert len(app.SAMPLE) == 8
    assert all(len(row) == 8 and all(len(px) == 1 and 0 <= px[0] <= 1 for px in row) for row in app.SAMPLE)
