"""Get and merge-patch Secrets through a Kubernetes API server, with the standard library and a token.

The refresher speaks to two kinds of API server: the manager's own, in-cluster, with the pod's
service-account token (`KubeApi.in_cluster`), and each worker's, with the token it keeps in that worker's
kubeconfig Secret (`KubeApi.with_token`). Either way no proxy is used: the manager's API server is
in-cluster, and the workers' API servers are reached directly, as MultiKueue reaches them, whatever
HTTPS_PROXY the pod has for the clouds.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.errors import one_line

KUBE_API = "https://kubernetes.default.svc"
KUBE_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
KUBE_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"


class KubeError(Exception):
    """A Kubernetes API call that failed; the message names the call and the object."""


@dataclass(frozen=True)
class KubeApi:
    """One API server: its URL, and how to get the bearer token and the TLS context for each call."""

    server: str
    token: Callable[[], str]
    tls: Callable[[], ssl.SSLContext]
    timeout: float = 15.0

    @classmethod
    def in_cluster(
        cls, server: str = KUBE_API, token_file: str = KUBE_TOKEN_FILE, ca_file: str = KUBE_CA_FILE
    ) -> KubeApi:
        """The pod's own cluster; the token file is read on each call, as the kubelet rotates it."""
        return cls(
            server,
            lambda: Path(token_file).read_text(encoding="utf-8").strip(),
            lambda: ssl.create_default_context(cafile=ca_file),
        )

    @classmethod
    def with_token(cls, server: str, ca_data: str, token: str) -> KubeApi:
        """A cluster known by its server, its CA (base64 of PEM, as in a kubeconfig) and a bearer token."""
        return cls(
            server,
            lambda: token,
            lambda: ssl.create_default_context(cadata=base64.b64decode(ca_data).decode()),
        )

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        return self._call("GET", namespace, name)

    def patch_secret(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON merge patch: only the fields given change."""
        return self._call("PATCH", namespace, name, patch)

    def _call(
        self, method: str, namespace: str, name: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        what = f"{method} secret {namespace}/{name}"
        path = f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/secrets/{urllib.parse.quote(name)}"
        try:
            token = self.token()
            context = self.tls()
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise KubeError(f"{what}: cannot read the client's token or CA: {exc}") from None
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/merge-patch+json"
        request = urllib.request.Request(self.server + path, data=data, headers=headers, method=method)
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        try:
            with opener.open(request, timeout=self.timeout) as response:
                result: dict[str, Any] = json.loads(response.read())
                return result
        except urllib.error.HTTPError as exc:
            raise KubeError(f"{what}: HTTP {exc.code} {_status_message(exc)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise KubeError(f"{what}: {self.server} unreachable: {reason}") from None


def _status_message(exc: urllib.error.HTTPError) -> str:
    """The API server's own message (a Status object), else the HTTP reason."""
    try:
        message = str(json.loads(exc.read()).get("message") or "")
    except (ValueError, AttributeError, OSError):
        message = ""
    return one_line(message or str(exc.reason))
