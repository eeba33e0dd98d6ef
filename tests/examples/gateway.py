"""HTTPS stand-ins of the serving gateway (infra/gateway/serving.py) and of its global name in Route 53
(infra/clouds/aws/route53.py), on 127.0.0.1 with a certificate from a test CA (trustme):

- `Gateway`, one cloud's Envoy: TLS, then `GET /v1/models/<model>` (TF Serving's model status) forwarded
  without a credential, as the health checks need; any other request needs a known key in `x-api-key`,
  else 401 and nothing is forwarded; an accepted key is stripped and its client named in `x-client-id`.
- `GlobalName`, the multivalue-answer record: each connection goes to the first cloud, in the stack's
  order, whose status probe (no credential, no certificate check, `AVAILABLE` in the body, as Route 53's
  `HTTPS_STR_MATCH` check) passes, or to the first of all of them when none does (Route 53 then answers
  every record). It passes the bytes through, so TLS is the chosen gateway's, whose certificate holds both
  names, as the real one holds `<cloud>.<domain>` and `<domain>`. It probes at every connection: the real
  record lags by up to `FAILOVER_SECONDS`, which the app's retries and per-cloud fallback cover.

The gateways answer as `https://127.0.0.1:PORT`, the global name as `https://localhost:PORT`."""

from __future__ import annotations

import contextlib
import http.client
import socket
import socketserver
import ssl
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trustme

from tests.examples.standins import MODEL, outputs

KEY_HEADER = "x-api-key"
CLIENT_HEADER = "x-client-id"
STATUS_PATH = f"/v1/models/{MODEL}"
HEALTHY = b"AVAILABLE"
MATCHED_BYTES = 5120
"""Route 53's string match reads this much of the body."""
REFUSED = b"Client authentication failed."
"""Envoy's body for a request its API-key filter refuses."""


class TestCA:
    """A CA and a certificate for `localhost` and `127.0.0.1`, the names the stand-ins answer as."""

    __test__ = False  # not a test class

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("localhost", "127.0.0.1")
        self.bundle = directory / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.bundle))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert.configure_cert(context)
        return context


class _TLSServer(ThreadingHTTPServer):
    """An HTTP server that speaks TLS, with the handshake in the connection's thread."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(("127.0.0.1", 0), handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(5)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # the client did not trust the certificate, and hung up
            return
        with tls:
            super().finish_request(tls, client_address)


class _Envoy(BaseHTTPRequestHandler):
    backend: tuple[str, int]
    clients: Mapping[str, str]
    """key -> client"""
    calls: list[str]
    forwarded: list[dict[str, str]]

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None  # read even when refused: the client sent it
        client = self.clients.get(self.headers.get(KEY_HEADER) or "")
        if client is None and not (self.command == "GET" and self.path == STATUS_PATH):
            self.calls.append(f"{self.command} {self.path} 401")
            self._answer(401, REFUSED, "text/plain")
            return
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in {KEY_HEADER, "host", "connection"}
        }
        if client:
            headers[CLIENT_HEADER] = client
        self.forwarded.append(headers)
        connection = http.client.HTTPConnection(*self.backend, timeout=5)
        try:
            connection.request(self.command, self.path, body, headers)
            response = connection.getresponse()
            status, data = response.status, response.read()
            kind = response.getheader("Content-Type", "application/json")
        except OSError:
            status, data, kind = 503, b"no healthy upstream", "text/plain"
        finally:
            connection.close()
        self.calls.append(f"{self.command} {self.path} {status}")
        self._answer(status, data, kind)

    def _answer(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Gateway:
    """One cloud's gateway in front of the TF Serving REST server at `backend` (its predict URL), taking
    the keys of `keys` (client -> key). `calls` records each request with the status it got
    (`"POST /v1/models/digits:predict 401"`); `forwarded`, the headers of each request passed on."""

    def __init__(self, backend: str, keys: Mapping[str, str], ca: TestCA) -> None:
        parts = urlsplit(backend)
        assert parts.hostname
        assert parts.port
        self.calls: list[str] = []
        self.forwarded: list[dict[str, str]] = []
        handler = type(
            "Envoy",
            (_Envoy,),
            {
                "backend": (parts.hostname, parts.port),
                "clients": {key: client for client, key in keys.items()},
                "calls": self.calls,
                "forwarded": self.forwarded,
            },
        )
        self.httpd = _TLSServer(handler, ca.server_context())
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.address[1]}/v1/models/{MODEL}:predict"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def healthy(address: tuple[str, int]) -> bool:
    """Route 53's `HTTPS_STR_MATCH` check of a gateway: its model status, without a credential or a
    certificate check, a 2xx or 3xx with `AVAILABLE` in the first 5,120 bytes."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection(*address, timeout=2, context=context)
    try:
        connection.request("GET", STATUS_PATH)
        response = connection.getresponse()
        return 200 <= response.status < 400 and HEALTHY in response.read(MATCHED_BYTES)
    except OSError:
        return False
    finally:
        connection.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class _Answer(socketserver.BaseRequestHandler):
    server: _Record

    def handle(self) -> None:
        chosen = self.server.resolve()
        with contextlib.suppress(OSError), socket.create_connection(chosen.address, timeout=5) as upstream:
            back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            back.start()
            _pipe(self.request, upstream)
            back.join(5)


class _Record(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, clouds: Mapping[str, Gateway], routed: list[str]) -> None:
        self.clouds, self.routed = clouds, routed
        super().__init__(("127.0.0.1", 0), _Answer)

    def resolve(self) -> Gateway:
        """The cloud a client connects to: the first healthy one, else the first (all are answered)."""
        passing = [name for name, gateway in self.clouds.items() if healthy(gateway.address)]
        name = (passing or list(self.clouds))[0]
        self.routed.append(name)
        return self.clouds[name]


class GlobalName:
    """The global name over `clouds` (name -> gateway, in the stack's order); `routed` names the cloud each
    connection went to."""

    def __init__(self, clouds: Mapping[str, Gateway]) -> None:
        self.routed: list[str] = []
        self.server = _Record(dict(clouds), self.routed)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.server.server_address[1]}/v1/models/{MODEL}:predict"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def outputs_with_domain(
    global_url: str, clouds: Mapping[str, str], clients: Sequence[str], api_keys: object
) -> dict[str, Any]:
    """Stack outputs of a stack with `serving.domain`, as `pulumi stack output --json` prints them:
    `api_keys` is `[secret]`, or client -> key with `--show-secrets`."""
    doc = outputs(dict(clouds))
    serving = {
        "url": global_url,
        "clouds": dict(clouds),
        "keyHeader": KEY_HEADER,
        "clients": list(clients),
        "failoverSeconds": 96,
    }
    return {**doc, "serving": serving, "apiKeys": api_keys}
