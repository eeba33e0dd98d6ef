"""Local HTTP servers that answer as the clouds' APIs document, for the official SDKs to call.

A `StandIn` serves a table of routes on 127.0.0.1 (a free port, a thread), records each request it gets,
and answers a request it has no route for with 404, so a test sees an SDK call it did not expect. Where
an SDK refuses plain HTTP (azure-core sends a bearer token only over TLS) it serves HTTPS with a
throwaway self-signed certificate that the test points the SDK's CA bundle at.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str]

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def arg(self, name: str) -> str:
        return self.query.get(name, [""])[0]


@dataclass(frozen=True)
class Reply:
    body: Any = None
    """A dict or list is sent as JSON, a str as plain text."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]
Route = tuple[str, str, Handler]
"""(method, regular expression the whole path must match, handler)."""


class StandIn:
    def __init__(self, routes: list[Route], certificate: tuple[Path, Path] | None = None) -> None:
        self.routes = [(m, re.compile(p), h) for m, p, h in routes]
        self.requests: list[str] = []
        """`METHOD /path` of every request, in order."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        # A short poll keeps `shutdown` (which waits for the next poll) from costing half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        self.requests.append(f"{method} {parts.path}")
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(parts.path)
            if route_method == method and match:
                return handler(Request(method, parts.path, parse_qs(parts.query), headers, body, match))
        return Reply({"error": {"code": 404, "message": f"no stand-in route for {method} {parts.path}"}}, 404)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = stand_in._answer(self.command, self.path, headers, body)
                text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body or {})
                kind = "text/plain" if isinstance(reply.body, str) else "application/json"
                data = text.encode()
                self.send_response(reply.status)
                for name, value in {"Content-Type": kind, **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads `requests` instead."""

        return Handler

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serving(routes: list[Route], certificate: tuple[Path, Path] | None = None) -> Iterator[StandIn]:
    with StandIn(routes, certificate) as stand_in:
        yield stand_in


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to `directory` (cert.pem is its own CA bundle)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "preflight stand-in")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path
