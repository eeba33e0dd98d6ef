"""ci.oidc against a local stand-in for GitHub's token endpoint: the audience and bearer are sent, the
file is replaced atomically with each fresh token, and a failed refresh keeps the last good one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ci import oidc


class Issuer(BaseHTTPRequestHandler):
    requests: list[tuple[str, str | None]]
    fail = False

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get("Authorization")))
        if Issuer.fail:
            self.send_error(500)
            return
        body = json.dumps({"value": f"token-{len(self.requests)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def issuer() -> Iterator[tuple[dict[str, str], list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []
    handler = type("Handler", (Issuer,), {"requests": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/token?api-version=2.0"
    yield {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "bearer-1"}, seen
    Issuer.fail = False
    httpd.shutdown()
    httpd.server_close()


def test_writes_a_token_for_the_azure_audience(tmp_path: Path, issuer: Any) -> None:
    env, seen = issuer
    out = tmp_path / "azure" / "token"
    oidc.refresh(out, oidc.AZURE_AUDIENCE, env)
    assert out.read_text() == "token-1"
    assert out.stat().st_mode & 0o777 == 0o600
    path, auth = seen[0]
    assert path == "/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
    assert auth == "Bearer bearer-1"


def test_keeps_the_file_fresh_and_the_last_good_token_on_failure(tmp_path: Path, issuer: Any) -> None:
    env, seen = issuer
    out = tmp_path / "token"
    oidc.keep_fresh(out, "aud", 0.001, env, rounds=3)
    assert out.read_text() == "token-3"
    Issuer.fail = True
    oidc.keep_fresh(out, "aud", 0.001, env, rounds=2)
    assert out.read_text() == "token-3"
    assert len(seen) == 5


def test_without_id_token_permission_it_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(oidc.TokenError, match="id-token: write"):
        oidc.refresh(tmp_path / "t", "aud", {})
