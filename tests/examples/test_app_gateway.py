"""The example app against the serving gateway as a stack with `serving.domain` offers it, on 127.0.0.1
over real TLS from a test CA (tests/examples/gateway.py): two clouds, each an HTTPS gateway that wants a
client's key in front of the trainer's development server with the session's trained model, and the
global name, routed by health as Route 53's multivalue answer is. Every answer is the model's, for the
sample digit: a zero."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from examples.app import __main__ as app
from examples.app import client
from tests.dev_server import DevServer
from tests.examples.gateway import CLIENT_HEADER, KEY_HEADER, Gateway, GlobalName, TestCA, healthy
from tests.examples.gateway import outputs_with_domain as with_domain
from tests.examples.standins import MODEL

KEYS = {"web": "web-0123456789abcdef", "batch": "batch-fedcba9876543210"}
ZERO = 0  # the class of app.SAMPLE, scikit-learn's first digit
STATUS = f"GET /v1/models/{MODEL}"
PINNED = f"/v1/models/{MODEL}/versions/1:predict"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@dataclass
class Stack:
    servers: dict[str, DevServer]
    """Each cloud's TF Serving (the development server), behind its gateway."""
    gateways: dict[str, Gateway]
    global_name: GlobalName
    ca: TestCA
    directory: Path

    def outputs(self, api_keys: object = "[secret]") -> str:
        """The saved outputs, `api_keys` as printed without (default) or with `--show-secrets`."""
        clouds = {cloud: gateway.url for cloud, gateway in self.gateways.items()}
        path = self.directory / "outputs.json"
        path.write_text(json.dumps(with_domain(self.global_name.url, clouds, list(KEYS), api_keys)))
        return str(path)

    def predicted(self) -> dict[str, list[str]]:
        """The predict calls each cloud's TF Serving received."""
        return {cloud: server.predicted() for cloud, server in self.servers.items()}


@pytest.fixture
def stack(served: DevServer, ca: TestCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """aws then gcp, both serving the trained model as version 1; no key in the environment."""
    monkeypatch.delenv(app.KEY_ENV, raising=False)
    servers = {cloud: DevServer.serving(served.model.versions[1], (1,)) for cloud in ("aws", "gcp")}
    gateways = {cloud: Gateway(server.url, KEYS, ca) for cloud, server in servers.items()}
    built = Stack(servers, gateways, GlobalName(gateways), ca, tmp_path)
    yield built
    built.global_name.stop()
    for gateway in gateways.values():
        gateway.stop()
    for server in servers.values():
        server.stop()


def run(stack: Stack, *argv: str, ca_file: bool = True) -> int:
    trusted = ["--ca-file", str(stack.ca.bundle)] if ca_file else []
    return app.main(["--timeout", "2", "--attempts", "1", *trusted, *argv])


def test_the_global_name_answers_with_the_key_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(app.KEY_ENV, KEYS["web"])
    assert run(stack, "--outputs", stack.outputs()) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"cloud": "global", "version": 1, "classes": [ZERO], "failures": []}
    assert stack.global_name.routed == ["aws"]  # the first healthy cloud in the stack's order
    assert stack.predicted() == {"aws": [PINNED], "gcp": []}
    predict = stack.gateways["aws"].forwarded[-1]
    assert KEY_HEADER not in {h.lower() for h in predict}  # stripped at the gateway
    assert predict[CLIENT_HEADER] == "web"


@pytest.mark.parametrize(("argv", "who"), [([], "web"), (["--client", "batch"], "batch")])
def test_the_key_of_a_client_in_outputs_read_with_show_secrets(
    stack: Stack, argv: list[str], who: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(stack, "--outputs", stack.outputs(KEYS), *argv) == 0
    assert json.loads(capsys.readouterr().out)["cloud"] == "global"
    assert stack.gateways["aws"].forwarded[-1][CLIENT_HEADER] == who


@pytest.mark.parametrize(
    ("argv", "api_keys", "message"),
    [
        ([], "[secret]", f"no API key: the serving gateway refuses a request without one in {KEY_HEADER}"),
        (
            ["--client", "nobody"],
            KEYS,
            "argument --client: 'nobody' is not one of serving.clients: web, batch",
        ),
        ([], {"batch": KEYS["batch"]}, "apiKeys: the outputs hold no key for client 'web'"),
    ],
    ids=["no-key", "unknown-client", "no-key-for-the-client"],
)
def test_without_a_key_it_exits_2_before_any_request(
    stack: Stack, argv: list[str], api_keys: object, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(stack, "--outputs", stack.outputs(api_keys), *argv) == 2
    err = capsys.readouterr().err
    assert message in err
    if api_keys == "[secret]":  # it names both ways to give one
        assert app.KEY_ENV in err
        assert "--show-secrets" in err
    assert stack.global_name.routed == []
    assert [g.calls for g in stack.gateways.values()] == [[], []]
    assert [s.calls for s in stack.servers.values()] == [[], []]


def test_a_wrong_key_gets_401_and_no_failover_and_never_reaches_tf_serving(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(app.KEY_ENV, "not-a-key")
    assert app.main(["--outputs", stack.outputs(), "--ca-file", str(stack.ca.bundle)]) == 1  # 3 attempts
    err = capsys.readouterr().err
    assert "global attempt 1: HTTP 401: the API key was refused (the key from $GPU_PLATFORM_API_KEY)" in err
    assert "no other was asked" in err
    assert stack.global_name.routed == ["aws"]  # one connection: not retried, no cloud asked after it
    assert [c for c in stack.gateways["aws"].calls if not c.startswith(STATUS)] == [f"POST {PINNED} 401"]
    assert [c for c in stack.gateways["gcp"].calls if not c.startswith(STATUS)] == []
    # TF Serving saw the model-status reads alone, which need no key (the pin's and the health checks').
    assert {c for s in stack.servers.values() for c in s.calls} == {STATUS}
    assert all(KEY_HEADER not in {h.lower() for h in f} for g in stack.gateways.values() for f in g.forwarded)


def test_a_cloud_failing_its_health_check_is_routed_around(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """aws's TF Serving has no version loaded: its status lists none AVAILABLE, so the global name leaves
    it out and the answer comes from gcp through it, although aws is first in the stack's order."""
    monkeypatch.setenv(app.KEY_ENV, KEYS["batch"])
    stack.servers["aws"].model.versions.clear()
    assert (healthy(stack.gateways["aws"].address), healthy(stack.gateways["gcp"].address)) == (False, True)
    assert run(stack, "--outputs", stack.outputs()) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["version"], printed["classes"]) == ("global", 1, [ZERO])
    assert printed["failures"] == ["aws versions: none AVAILABLE"]  # the pin's read, through aws's name
    assert stack.global_name.routed == ["gcp"]
    assert stack.predicted() == {"aws": [], "gcp": [PINNED]}


def test_with_the_global_name_down_the_clouds_answer_in_order(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(app.KEY_ENV, KEYS["web"])
    stack.global_name.stop()  # nothing listens there any more: refused
    assert run(stack, "--outputs", stack.outputs()) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["version"], printed["classes"]) == ("aws", 1, [ZERO])
    assert [f.split(":")[0] for f in printed["failures"]] == ["global attempt 1"]
    assert "refused" in printed["failures"][0]
    assert stack.predicted() == {"aws": [PINNED], "gcp": []}


@pytest.mark.parametrize("pin", ["every", "off"])
def test_tls_is_verified_and_an_untrusted_certificate_is_reported(
    stack: Stack, pin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --ca-file the test CA is not trusted: every name fails its TLS handshake, once (another try
    gets the same certificate), and nothing reaches TF Serving; there is no way to skip verification."""
    monkeypatch.setenv(app.KEY_ENV, KEYS["web"])
    assert run(stack, "--outputs", stack.outputs(), "--pin", pin, "--attempts", "3", ca_file=False) == 1
    err = capsys.readouterr().err
    expected = (
        ["aws versions", "gcp versions"]
        if pin == "every"
        else ["global attempt 1", "aws attempt 1", "gcp attempt 1"]
    )
    lines = [line.strip() for line in err.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == expected
    assert all(
        "TLS: certificate verify failed: unable to get local issuer certificate" in line for line in lines
    )
    assert stack.predicted() == {"aws": [], "gcp": []}
    with pytest.raises(SystemExit):
        app.parse(["--insecure"])  # no such option: an untrusted certificate always fails


def test_one_gateway_by_its_url_with_the_key_from_a_named_variable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGITS_KEY", KEYS["batch"])
    assert run(stack, "--url", stack.gateways["gcp"].url, "--api-key-env", "DIGITS_KEY") == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["cloud"], printed["version"], printed["classes"]) == ("local", 1, [ZERO])
    assert stack.gateways["gcp"].forwarded[-1][CLIENT_HEADER] == "batch"


def test_a_key_is_never_sent_over_plain_http() -> None:
    access = client.Access("k")
    assert access.headers("http://10.0.0.1:8501/v1/models/digits:predict") == {}
    assert access.headers("https://aws.serving.example.com/v1/models/digits:predict") == {KEY_HEADER: "k"}


def test_a_ca_file_that_cannot_be_loaded_exits_2(
    served: DevServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "not-a-ca.pem"
    bundle.write_text("not a certificate\n")
    served.calls.clear()
    assert app.main(["--url", served.url, "--ca-file", str(bundle)]) == 2
    assert f"argument --ca-file: cannot load {bundle}" in capsys.readouterr().err
    assert served.calls == []
