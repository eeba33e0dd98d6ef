"""Resolve an image tag to the digest a pull would use, with the OCI distribution API alone (no docker).

`resolve("docker.io/tensorflow/serving:2.21.0")` asks the registry for the tag's manifest with every
media type a multi-arch pull accepts (an image index or manifest list first, then a single manifest), so
the digest is that of the index when the tag names one: the digest `docker buildx imagetools inspect` and
`crane digest` print, and the one a `FROM REPO@DIGEST` pins. A `HEAD` answers with `Docker-Content-Digest`
(and, on Docker Hub, does not count against the pull rate limit); a registry that omits the header gets a
`GET`, whose body is hashed, and checked against the header when both are there. A `401` with a Bearer
challenge is answered with an anonymous pull token, once. Every failure is one `RegistryError` line.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from http.client import HTTPException
from typing import Any

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
"""What a multi-arch pull accepts, indexes first: the registry then answers with the tag's index."""
SCHEMA1_TYPES = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
"""Docker's deprecated schema 1: current clients refuse it, so its digest pins nothing pullable."""
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""The distribution spec lets a registry refuse larger manifests; a bigger body is not a manifest."""
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
DEFAULT_TIMEOUT = 30.0


class RegistryError(Exception):
    """A tag that could not be resolved; the message is one line naming the reference."""


@dataclass(frozen=True)
class Reference:
    """`registry/repository:tag`, with Docker Hub's short forms expanded (`docker.io/library/x`)."""

    registry: str
    """As written (`docker.io`, `registry.k8s.io`, `127.0.0.1:5000`)."""
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"

    @property
    def host(self) -> str:
        """The host[:port] the API lives on: Docker Hub's is not `docker.io`."""
        return DOCKER_HUB_API if self.registry in DOCKER_HUB_ALIASES else self.registry

    @property
    def scheme(self) -> str:
        """https, except on loopback (a local registry), where plain http is what Docker uses too."""
        return "http" if is_loopback(self.host) else "https"

    def manifest_url(self) -> str:
        return f"{self.scheme}://{self.host}/v2/{self.repository}/manifests/{urllib.parse.quote(self.tag)}"


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.removeprefix("[").split("]", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse(ref: str) -> Reference:
    """Split `ref` as Docker does: a first component with a `.` or `:` (or `localhost`) is a registry,
    anything else is on Docker Hub, whose single-name repositories live under `library/`. A trailing
    `@digest` is ignored (the point is to find the tag's current one); a missing tag means `latest`."""
    name = ref.strip().split("@", 1)[0]
    if not name or any(c.isspace() for c in name):
        raise RegistryError(f"{ref!r}: not an image reference")
    last = name.rsplit("/", 1)[-1]
    tag = "latest"
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    if not repository or not tag or repository != repository.lower():
        raise RegistryError(f"{ref!r}: not an image reference (REGISTRY/REPOSITORY:TAG)")
    return Reference(registry, repository, tag)


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Message
    body: bytes


class Client:
    """One registry conversation per `resolve`; `timeout` is per request."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    def resolve(self, ref: str | Reference) -> str:
        """The `sha256:...` digest the registry serves for the tag today."""
        target = ref if isinstance(ref, Reference) else parse(ref)
        url = target.manifest_url()
        token: str | None = None
        response = self._manifest(target, url, "HEAD", token)
        if response.status == 401:
            token = self._token(target, response.headers)
            response = self._manifest(target, url, "HEAD", token)
        if response.status == 405:  # a registry without HEAD on manifests
            response = self._manifest(target, url, "GET", token)
        self._check(target, response, authenticated=token is not None)
        header = response.headers.get("Docker-Content-Digest", "").strip()
        if DIGEST.match(header) and response.body == b"" and response.status == 200:
            return header
        if not response.body:  # no usable header on the HEAD: hash the manifest itself
            response = self._manifest(target, url, "GET", token)
            self._check(target, response, authenticated=token is not None)
            header = response.headers.get("Docker-Content-Digest", "").strip()
        digest = "sha256:" + hashlib.sha256(response.body).hexdigest()
        if header.startswith("sha256:") and header != digest:
            raise RegistryError(
                f"{target}: the registry's Docker-Content-Digest {header} is not the sha256 of the "
                f"manifest it sent ({digest})"
            )
        return digest

    def _manifest(self, target: Reference, url: str, method: str, token: str | None) -> _Response:
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._send(target, urllib.request.Request(url, method=method, headers=headers))

    def _check(self, target: Reference, response: _Response, *, authenticated: bool) -> None:
        status = response.status
        if status == 404:
            raise RegistryError(f"{target}: manifest unknown (HTTP 404): no such tag or repository")
        if status == 401:
            why = "even with an anonymous pull token" if authenticated else "and offered no Bearer token"
            raise RegistryError(
                f"{target}: unauthorized (HTTP 401) {why}: the repository is private or does not exist"
            )
        if status == 429:
            raise RegistryError(f"{target}: rate limited by {target.host} (HTTP 429); try again later")
        if status != 200:
            raise RegistryError(f"{target}: HTTP {status} from {target.host}")
        media_type = response.headers.get_content_type()
        if media_type in SCHEMA1_TYPES:
            raise RegistryError(f"{target}: only a schema-1 manifest ({media_type}), which no pull uses")

    def _token(self, target: Reference, headers: Message) -> str:
        """An anonymous pull token from the realm of the registry's Bearer challenge."""
        challenge = headers.get("WWW-Authenticate", "")
        scheme, _, params_text = challenge.strip().partition(" ")
        params = challenge_params(params_text)
        realm = params.get("realm", "")
        if scheme.lower() != "bearer" or not realm:
            raise RegistryError(
                f"{target}: unauthorized (HTTP 401) and no Bearer challenge to answer "
                f"({challenge.strip() or 'no WWW-Authenticate header'}): the registry needs credentials"
            )
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(f"{target}: the token realm {realm!r} is not an http(s) URL")
        query = {"scope": f"repository:{target.repository}:pull"}
        if params.get("service"):
            query = {"service": params["service"], **query}
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        response = self._send(target, urllib.request.Request(url, headers={"Accept": "application/json"}))
        if response.status != 200:
            raise RegistryError(f"{target}: the token endpoint {realm} answered HTTP {response.status}")
        try:
            doc: Any = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(f"{target}: the token endpoint {realm} did not answer JSON") from None
        token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{target}: the token endpoint {realm} sent no token")
        return token

    def _send(self, target: Reference, request: urllib.request.Request) -> _Response:
        host = urllib.parse.urlsplit(request.full_url).netloc
        # No proxy for a loopback registry: an HTTP(S)_PROXY in the environment cannot reach it.
        handlers = [urllib.request.ProxyHandler({})] if is_loopback(host) else []
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return _Response(response.status, response.headers, _read(response, target))
        except urllib.error.HTTPError as exc:
            body = exc.read(MAX_MANIFEST_BYTES) if exc.fp else b""
            return _Response(exc.code, exc.headers, body)
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise RegistryError(f"{target}: cannot reach {host}: {one_line(str(reason))}") from None


def _read(response: Any, target: Reference) -> bytes:
    body: bytes = response.read(MAX_MANIFEST_BYTES + 1)
    if len(body) > MAX_MANIFEST_BYTES:
        raise RegistryError(f"{target}: the manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    return body


def challenge_params(text: str) -> dict[str, str]:
    """`realm="...",service="...",scope="..."` as a dict (quoted or bare values, any order)."""
    pairs = re.findall(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', text)
    return {key.lower(): quoted.replace('\\"', '"') if quoted else bare for key, quoted, bare in pairs}


def one_line(text: str) -> str:
    return " ".join(text.split()) or "no reason given"


def resolve(ref: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The digest a pull of `ref` (`REGISTRY/REPO:TAG`) would use now; `RegistryError` if none."""
    return Client(timeout).resolve(ref)
