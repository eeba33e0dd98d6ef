"""`preflight.oci` against a real registry: Debian's docker-registry (the CNCF distribution registry) on
loopback, fed with small images through the distribution HTTP API alone, and a local stand-in for the
Bearer token flow (the registry itself runs without auth)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from preflight import oci

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LocalRegistry:
    """A running docker-registry on loopback, and a client that pushes with the distribution API."""

    host: str

    def _request(
        self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        absolute = urllib.parse.urljoin(f"http://{self.host}/", url)
        request = urllib.request.Request(absolute, data=body, method=method, headers=headers or {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {absolute}: HTTP {exc.code}: {exc.read()[:500]!r}") from None

    def push_blob(self, repository: str, data: bytes) -> dict[str, Any]:
        """POST an upload, PUT the bytes with `?digest=`: the monolithic upload of the spec."""
        status, headers = self._request("POST", f"/v2/{repository}/blobs/uploads/")
        assert status == 202
        location = headers["Location"]
        digest = sha256(data)
        joiner = "&" if "?" in location else "?"
        url = f"{location}{joiner}digest={urllib.parse.quote(digest)}"
        headers = {"Content-Type": "application/octet-stream"}
        status, _ = self._request("PUT", url, data, headers)
        assert status == 201
        return {"digest": digest, "size": len(data)}

    def push_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        url = f"/v2/{repository}/manifests/{reference}"
        status, headers = self._request("PUT", url, body, {"Content-Type": media_type})
        assert status == 201
        return str(headers["Docker-Content-Digest"])

    def push_image(
        self,
        repository: str,
        tag: str,
        *,
        content: bytes,
        arch: str = "amd64",
        media_type: str = OCI_MANIFEST,
    ) -> bytes:
        """A one-layer image (a single file holding `content`); returns the manifest bytes pushed."""
        layer = _layer(content)
        config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [sha256(gzip.decompress(layer))]},
            }
        ).encode()
        oci_types = media_type == OCI_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": OCI_CONFIG if oci_types else DOCKER_CONFIG,
                **self.push_blob(repository, config),
            },
            "layers": [
                {"mediaType": OCI_LAYER if oci_types else DOCKER_LAYER, **self.push_blob(repository, layer)}
            ],
        }
        body = json.dumps(manifest, indent=2).encode()
        assert self.push_manifest(repository, tag, body, media_type) == sha256(body)
        return body

    def push_index(self, repository: str, tag: str, *, content: bytes) -> tuple[bytes, list[bytes]]:
        """An image index over an amd64 and an arm64 image (pushed by digest first)."""
        platforms = []
        for arch in ("amd64", "arm64"):
            body = self.push_image(
                repository,
                sha256(arch.encode()).replace(":", "-"),
                content=content + arch.encode(),
                arch=arch,
            )
            platforms.append(body)
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha256(body),
                    "size": len(body),
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch, body in zip(("amd64", "arm64"), platforms, strict=True)
            ],
        }
        body = json.dumps(index).encode()
        assert self.push_manifest(repository, tag, body, OCI_INDEX) == sha256(body)
        return body, platforms


def _layer(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=0.5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_registry(root: Path) -> Iterator[LocalRegistry]:
    """`docker-registry serve` on a free loopback port with its storage under `root`; stopped by pid."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry not found on PATH: run `make setup`")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error, accesslog: {disabled: true}}\n"
        f"storage:\n  filesystem: {{rootdirectory: {root / 'data'}}}\n  delete: {{enabled: true}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(f"http://127.0.0.1:{port}/v2/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not answer on port {port} (exit {process.poll()})")
            time.sleep(0.05)
        yield LocalRegistry(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_a_tag_resolves_to_the_digest_of_the_manifest_pushed(
    registry: LocalRegistry, media_type: str
) -> None:
    body = registry.push_image("team/app", "1.0", content=media_type.encode(), media_type=media_type)
    assert oci.resolve(f"{registry.host}/team/app:1.0") == sha256(body)


def test_a_multi_arch_tag_resolves_to_its_index_not_a_platform(registry: LocalRegistry) -> None:
    index, platforms = registry.push_index("team/multi", "2.0", content=b"multi")
    digest = oci.resolve(f"{registry.host}/team/multi:2.0")
    assert digest == sha256(index)
    assert digest not in {sha256(p) for p in platforms}


def test_a_re_pushed_tag_resolves_to_the_new_digest(registry: LocalRegistry) -> None:
    first = registry.push_image("team/moving", "latest-stable", content=b"one")
    assert oci.resolve(f"{registry.host}/team/moving:latest-stable") == sha256(first)
    second = registry.push_image("team/moving", "latest-stable", content=b"two")
    assert sha256(second) != sha256(first)
    assert oci.resolve(f"{registry.host}/team/moving:latest-stable") == sha256(second)


@pytest.mark.parametrize("ref", ["team/app:no-such-tag", "team/no-such-repo:1.0"])
def test_an_unknown_tag_fails_with_one_line_naming_it(registry: LocalRegistry, ref: str) -> None:
    registry.push_image("team/app", "1.0", content=b"x")
    with pytest.raises(oci.RegistryError) as error:
        oci.resolve(f"{registry.host}/{ref}")
    message = str(error.value)
    assert message.startswith(f"{registry.host}/{ref}: manifest unknown (HTTP 404)")
    assert "\n" not in message


def test_an_unreachable_registry_is_a_one_line_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(
        oci.RegistryError, match=rf"^127\.0\.0\.1:{port}/a/b:1: cannot reach 127\.0\.0\.1:{port}: "
    ):
        oci.resolve(f"127.0.0.1:{port}/a/b:1", timeout=5)


@pytest.mark.parametrize(
    ("ref", "host", "repository", "tag", "scheme"),
    [
        (
            "docker.io/tensorflow/serving:2.21.0-gpu",
            "registry-1.docker.io",
            "tensorflow/serving",
            "2.21.0-gpu",
            "https",
        ),
        ("docker.io/library/ubuntu:24.04", "registry-1.docker.io", "library/ubuntu", "24.04", "https"),
        ("docker.io/ubuntu:24.04", "registry-1.docker.io", "library/ubuntu", "24.04", "https"),
        ("ubuntu", "registry-1.docker.io", "library/ubuntu", "latest", "https"),
        (
            "rclone/rclone:1.75.1@sha256:" + "a" * 64,
            "registry-1.docker.io",
            "rclone/rclone",
            "1.75.1",
            "https",
        ),
        ("index.docker.io/x/y:1", "registry-1.docker.io", "x/y", "1", "https"),
        (
            "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0",
            "registry.k8s.io",
            "autoscaling/cluster-autoscaler",
            "v1.33.0",
            "https",
        ),
        (
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
            "nvcr.io",
            "nvidia/k8s-device-plugin",
            "v0.17.0",
            "https",
        ),
        ("ghcr.io/org/tool:v1", "ghcr.io", "org/tool", "v1", "https"),
        ("127.0.0.1:5000/team/app:1.0", "127.0.0.1:5000", "team/app", "1.0", "http"),
        ("localhost:5000/app", "localhost:5000", "app", "latest", "http"),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", "http"),
    ],
)
def test_references_map_to_hosts_as_docker_does(
    ref: str, host: str, repository: str, tag: str, scheme: str
) -> None:
    parsed = oci.parse(ref)
    assert (parsed.host, parsed.repository, parsed.tag, parsed.scheme) == (host, repository, tag, scheme)
    assert parsed.manifest_url() == f"{scheme}://{host}/v2/{repository}/manifests/{tag}"


@pytest.mark.parametrize("ref", ["", "Docker.io/UPPER/case:1", "docker.io/a b:1"])
def test_malformed_references_are_refused(ref: str) -> None:
    with pytest.raises(oci.RegistryError, match="not an image reference"):
        oci.parse(ref)


def test_challenge_parameters_parse_quoted_and_bare_values() -> None:
    text = 'realm="https://auth.example/token?x=1",service=registry.example,scope="repository:a/b:pull,push"'
    assert oci.challenge_params(text) == {
        "realm": "https://auth.example/token?x=1",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push",
    }


# --- the Bearer token flow, against a stand-in that answers like Docker Hub -------------------------

MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode()


@dataclass
class StandIn:
    """What the stand-in registry does, and what it was asked."""

    port: int = 0
    token_key: str = "token"
    challenge: str | None = "bearer"
    digest_header: str | None = sha256(MANIFEST)
    accept_token: bool = True
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_HEAD(self) -> None:
        self._manifest(body=False)

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            self._token()
        else:
            self._manifest(body=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _manifest(self, *, body: bool) -> None:
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        state.requests.append((self.command, self.path, auth))
        if auth != "Bearer t0k" or not state.accept_token:
            self.send_response(401)
            if state.challenge == "bearer":
                realm = f"http://{state.host}/token"
                scope = "repository:team/app:pull"
                self.send_header(
                    "WWW-Authenticate", f'Bearer realm="{realm}",service="stand-in",scope="{scope}"'
                )
            elif state.challenge:
                self.send_header("WWW-Authenticate", state.challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", OCI_INDEX)
        self.send_header("Content-Length", str(len(MANIFEST)))
        if state.digest_header:
            self.send_header("Docker-Content-Digest", state.digest_header)
        self.end_headers()
        if body:
            self.wfile.write(MANIFEST)

    def _token(self) -> None:
        state = self.server.state
        state.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
        payload = json.dumps({state.token_key: "t0k", "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    state: StandIn


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = StandIn(port=int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("token_key", ["token", "access_token"])
def test_a_401_is_answered_with_an_anonymous_token_once(stand_in: StandIn, token_key: str) -> None:
    stand_in.token_key = token_key
    assert oci.resolve(f"{stand_in.host}/team/app:1.0") == sha256(MANIFEST)
    path = "/v2/team/app/manifests/1.0"
    token = "/token?" + urllib.parse.urlencode({"service": "stand-in", "scope": "repository:team/app:pull"})
    assert stand_in.requests == [("HEAD", path, ""), ("GET", token, ""), ("HEAD", path, "Bearer t0k")]


def test_without_the_header_the_manifest_is_fetched_and_hashed(stand_in: StandIn) -> None:
    stand_in.digest_header = None
    assert oci.resolve(f"{stand_in.host}/team/app:1.0") == sha256(MANIFEST)
    assert [(m, a) for m, _, a in stand_in.requests][-2:] == [("HEAD", "Bearer t0k"), ("GET", "Bearer t0k")]


def test_a_head_digest_is_taken_unless_it_is_not_sha256(stand_in: StandIn) -> None:
    stand_in.digest_header = "sha256:" + "b" * 64  # a HEAD has no body to check it against
    assert oci.resolve(f"{stand_in.host}/team/app:1.0") == "sha256:" + "b" * 64
    stand_in.digest_header = "sha512:" + "b" * 128  # no use as a pin: the body is fetched and hashed
    assert oci.resolve(f"{stand_in.host}/team/app:1.0") == sha256(MANIFEST)
    assert stand_in.requests[-1][0] == "GET"


def test_a_get_whose_header_differs_from_the_body_fails(
    stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in.digest_header = "sha256:" + "b" * 64
    real_send = oci.Client._send

    def head_without_header(self: oci.Client, target: oci.Reference, request: urllib.request.Request) -> Any:
        response = real_send(self, target, request)
        if request.get_method() == "HEAD" and response.status == 200:
            del response.headers["Docker-Content-Digest"]
        return response

    monkeypatch.setattr(oci.Client, "_send", head_without_header)
    with pytest.raises(
        oci.RegistryError, match=r"Docker-Content-Digest sha256:b{64} is not the sha256 of the manifest"
    ):
        oci.resolve(f"{stand_in.host}/team/app:1.0")


def test_a_refused_token_is_unauthorized(stand_in: StandIn) -> None:
    stand_in.accept_token = False
    with pytest.raises(oci.RegistryError) as error:
        oci.resolve(f"{stand_in.host}/team/app:1.0")
    assert str(error.value) == (
        f"{stand_in.host}/team/app:1.0: unauthorized (HTTP 401) even with an anonymous pull token: "
        "the repository is private or does not exist"
    )
    assert len(stand_in.requests) == 3  # one token, one retry


@pytest.mark.parametrize("challenge", [None, 'Basic realm="registry"'])
def test_a_401_without_a_bearer_challenge_needs_credentials(stand_in: StandIn, challenge: str | None) -> None:
    stand_in.challenge = challenge
    with pytest.raises(
        oci.RegistryError, match=r"unauthorized \(HTTP 401\) and no Bearer challenge.*needs credentials$"
    ):
        oci.resolve(f"{stand_in.host}/team/app:1.0")
