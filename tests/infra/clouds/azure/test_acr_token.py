"""ACR push credentials: the token exchange against a local HTTP stand-in for a registry's
`/oauth2/exchange` (no ACR emulator exists), answering with the shapes ACR documents; the dynamic
provider that `pulumi up` runs, loaded from its serialized form as the engine loads it; and the plan's
wiring of the refresh token into every Azure image push."""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dill  # type: ignore[import-untyped]
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.clouds.azure import acr_token
from plan.runner import Plan

TENANT = "00000000-0000-0000-0000-0000000000aa"


@dataclass
class Registry:
    """What the stand-in answers and what it was asked."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"refresh_token": "acr-refresh-1"})
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    endpoint: str = ""


@pytest.fixture
def registry() -> Iterator[Registry]:
    state = Registry()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            if self.path != "/oauth2/exchange" or "x-www-form-urlencoded" not in self.headers["Content-Type"]:
                self.send_response(404)
                self.end_headers()
                return
            state.requests.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
            payload = json.dumps(state.body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_exchange_sends_the_documented_form(registry: Registry) -> None:
    token = acr_token.exchange(registry.endpoint, "example.azurecr.io", TENANT, "entra-token")
    assert token == "acr-refresh-1"
    assert registry.requests == [
        {
            "grant_type": ["access_token"],
            "service": ["example.azurecr.io"],
            "tenant": [TENANT],
            "access_token": ["entra-token"],
        }
    ]


def test_a_refused_exchange_says_what_the_deployer_needs(registry: Registry) -> None:
    registry.status, registry.body = 401, {"errors": [{"code": "UNAUTHORIZED"}]}
    with pytest.raises(acr_token.ExchangeError, match=r"refused the token exchange \(HTTP 401\).*AcrPush"):
        acr_token.exchange(registry.endpoint, "example.azurecr.io", TENANT, "entra-token")


def test_an_answer_without_a_refresh_token_is_an_error(registry: Registry) -> None:
    registry.body = {"access_token": "not what was asked"}
    with pytest.raises(acr_token.ExchangeError, match="without a refresh_token"):
        acr_token.exchange(registry.endpoint, "example.azurecr.io", TENANT, "entra-token")


def test_an_unreachable_registry_is_one_clear_error(registry: Registry) -> None:
    with pytest.raises(
        acr_token.ExchangeError, match=re.escape("cannot exchange a token at http://127.0.0.1:9")
    ):
        acr_token.exchange("http://127.0.0.1:9", "example.azurecr.io", TENANT, "entra-token")


def test_the_engine_loads_the_provider_and_it_exchanges_on_create_and_update(registry: Registry) -> None:
    """The provider as the engine gets it (dill, by reference to this module), then its operations."""
    provider = dill.loads(base64.b64decode(serialize_provider(acr_token._Provider())))
    props = {"endpoint": registry.endpoint, "service": "example.azurecr.io", "tenant": TENANT}
    created = provider.create({**props, "access_token": "token-1"})
    assert created.outs == {**props, "refresh_token": "acr-refresh-1"}  # the Entra token stays out of state
    # Every run brings a new Entra token, so every `up` exchanges again for a fresh refresh token.
    assert provider.diff(created.id, created.outs, {**props, "access_token": "token-2"}).changes
    registry.body = {"refresh_token": "acr-refresh-2"}
    updated = provider.update(created.id, created.outs, {**props, "access_token": "token-2"})
    assert updated.outs["refresh_token"] == "acr-refresh-2"
    assert [r["access_token"] for r in registry.requests] == [["token-1"], ["token-2"]]


def test_azure_pushes_log_in_with_the_exchanged_token(stack_plan: Plan) -> None:
    """Every Azure image push uses the all-zero user and a password that is the refresh token, a secret,
    and the exchange waits for the deployer's AcrPush grant."""
    (token,) = [r for r in stack_plan.of_type("pulumi-python:dynamic/acr:RefreshToken") if r.cloud == "azure"]
    grant = next(r for r in stack_plan.resources if r.name.endswith("-registry-deployer-push"))
    assert grant.urn in token.depends_on
    assert token.inputs["endpoint"] == f"https://{token.inputs['service']}"
    assert "access_token" in token.secret_paths
    images = [r for r in stack_plan.of_type("docker-build:index:Image") if r.cloud == "azure"]
    assert images
    for image in images:
        (login,) = image.inputs["registries"]
        assert login["username"] == acr_token.USERNAME
        assert login["password"] == "offline-plan-acr-refresh-token"
        assert "registries" in image.secret_paths
