"""refresh-workers: timing, kubeconfig shape, token minting per cloud, Secret writes, the whole command,
and the registry pull Secrets it keeps in the workers.

Nothing leaves loopback: EKS minting and ECR run against moto, the Entra ID and Google token endpoints,
ACR's token exchange and the Kubernetes API (the manager's and a worker's) are small HTTPS stand-ins here
that record what they were sent, under a throw-away CA the clients are told to trust, and the GKE
metadata server a plain HTTP one.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.auth.compute_engine import _metadata as google_metadata

from tests.trained import run_cli
from tests.training import emulators
from trainer import pull_secrets, registry_tokens
from trainer import token_timing as timing
from trainer import worker_tokens as wt
from trainer import workers_file as wf
from trainer.errors import UsageError
from trainer.kube_api import KubeApi, KubeError

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT = "66666666-7777-8888-9999-000000000000"
AUDIENCE = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/x"
SERVICE_ACCOUNT = "kueue-mk@proj.iam.gserviceaccount.com"
ROLE = "arn:aws:iam::123456789012:role/multikueue"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MARGIN = timing.refresh_margin(5)
POD_TOKEN = "pod-sa-token"
PULLER = "puller@proj.iam.gserviceaccount.com"
ACR_REFRESH_TOKEN = ".".join(
    base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
    for part in ({"alg": "RS256"}, {"exp": int((NOW + timedelta(hours=3)).timestamp())}, {})
)


# --- stand-ins ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    ca_file: Path
    ca_data: str  # base64 PEM, as a kubeconfig's certificate-authority-data
    context: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1, serving every stand-in and trusted as their CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "ca.crt").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "ca.crt", folder / "key.pem")
    return Tls(folder / "ca.crt", base64.b64encode(pem).decode(), context)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, Any]]


@dataclass
class StandIn:
    """An HTTPS server on loopback: `answer` decides each reply; every request is kept in `seen`."""

    url: str
    seen: list[Seen]

    def paths(self, method: str) -> list[str]:
        return [r.path for r in self.seen if r.method == method]


@contextmanager
def serve(answer: Callable[[Seen], Reply], tls: Tls | None) -> Iterator[StandIn]:
    """Over HTTPS with `tls`, plain HTTP without (as the GKE metadata server)."""
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            seen.append(request)
            status, reply = answer(request)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _handle  # noqa: N815 (http.server's names)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield StandIn(f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _status(code: int, message: str) -> Reply:
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": code}


class Kube:
    """The Kubernetes API, as far as the refresher uses it: get and merge-patch of existing Secrets."""

    def __init__(self, namespace: str, *names: str, token: str = POD_TOKEN) -> None:
        self.token = token
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 100
        for name in names:
            self.secrets[namespace, name] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(self.version)},
            }

    def answer(self, request: Seen) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized")
        match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets/([^/]+)", request.path)
        secret = self.secrets.get((match[1], match[2])) if match else None
        if match is None or secret is None:
            return _status(404, f'secrets "{request.path.rsplit("/", 1)[-1]}" not found')
        if request.method == "GET":
            return 200, secret
        if request.headers.get("content-type") != "application/merge-patch+json":
            return _status(415, "unsupported patch type")
        patch = request.json()
        wanted = patch.get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != secret["metadata"]["resourceVersion"]:
            return _status(409, "the object has been modified")
        merged = _merge(secret, patch)
        self.version += 1
        merged["metadata"]["resourceVersion"] = str(self.version)
        self.secrets[match[1], match[2]] = merged
        return 200, merged

    def kubeconfig(self, namespace: str, name: str) -> dict[str, Any]:
        data = self.secrets[namespace, name]["data"][wt.SECRET_KEY]
        result: dict[str, Any] = json.loads(base64.b64decode(data))
        return result


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


@dataclass
class Clouds:
    """Entra ID's token endpoint, Google's STS and IAM Credentials, ACR's token exchange: one stand-in,
    by path."""

    failing: set[str] = field(default_factory=set)

    def answer(self, request: Seen) -> Reply:  # noqa: PLR0911 (a reply per route and outcome)
        if request.path == f"/{TENANT}/oauth2/v2.0/token":
            if "azure" in self.failing:
                return 500, {"error": "temporarily_unavailable"}
            return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "aks-token"}
        if request.path == "/v1/token":
            if "gcp" in self.failing:
                return 500, {"error": "internal_failure", "error_description": "backend error"}
            return 200, {
                "access_token": "federated-token",
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        for account, token in ((SERVICE_ACCOUNT, "gke-token"), (PULLER, "gar-token")):
            if request.path == f"/v1/projects/-/serviceAccounts/{account}:generateAccessToken":
                expires = datetime.now(UTC) + timedelta(seconds=3600)
                return 200, {"accessToken": token, "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if request.path == "/oauth2/exchange":
            return 200, {"refresh_token": ACR_REFRESH_TOKEN}
        return 404, {"error": f"no route {request.path}"}


@pytest.fixture(scope="module")
def moto_sts() -> Iterator[str]:
    """moto's server (AssumeRoleWithWebIdentity included), stopped by its pid at the end."""
    port = emulators.free_port()
    process = emulators.start("s3", port)
    yield f"http://127.0.0.1:{port}"
    emulators.stop(process)


@pytest.fixture
def clouds(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Clouds, StandIn]]:
    # azure-core and google-auth both send through requests, which trusts this bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    state = Clouds()
    with serve(state.answer, tls) as stand_in:
        yield state, stand_in


@dataclass(frozen=True)
class Pod:
    """The files a refresher pod has: one projected token per cloud, its own service-account token."""

    root: Path

    def token(self, cloud: str) -> str:
        return str(self.root / cloud / "token")

    @property
    def kube_token(self) -> str:
        return str(self.root / "kube-token")


@pytest.fixture
def pod(tmp_path: Path) -> Pod:
    for cloud in ("aws", "azure", "gcp"):
        (tmp_path / cloud).mkdir()
        (tmp_path / cloud / "token").write_text(f"projected-{cloud}-jwt")  # no newline, as the kubelet
    (tmp_path / "kube-token").write_text(POD_TOKEN + "\n")
    return Pod(tmp_path)


def _aws(pod: Pod, sts: str) -> dict[str, Any]:
    return {
        "roleArn": ROLE,
        "clusterName": "prod-eks",
        "region": "us-west-2",
        "tokenPath": pod.token("aws"),
        "stsEndpoint": sts,
    }


def _azure(pod: Pod, authority: str) -> dict[str, Any]:
    return {
        "tenantId": TENANT,
        "clientId": CLIENT,
        "tokenPath": pod.token("azure"),
        "authorityHost": authority,
    }


def _gcp(pod: Pod, base: str) -> dict[str, Any]:
    return {
        "audience": AUDIENCE,
        "serviceAccount": SERVICE_ACCOUNT,
        "tokenPath": pod.token("gcp"),
        "tokenUrl": f"{base}/v1/token",
        "iamCredentialsUrl": base,
    }


def _worker(name: str, cloud: str, section: dict[str, Any], ca_data: str) -> dict[str, Any]:
    return {
        "name": name,
        "cloud": cloud,
        "server": f"https://{name}.example.com",
        "caData": ca_data,
        "secret": f"multikueue-{name}",
        cloud: section,
    }


def _parsed(raw: dict[str, Any]) -> wf.Worker:
    return wf.parse_workers({"workers": [raw]}).workers[0]


# --- timing ---------------------------------------------------------------------------------------------


def test_the_margin_is_two_intervals_and_a_minute() -> None:
    assert timing.refresh_margin(5) == timedelta(minutes=11)
    assert timing.refresh_margin(1) == timedelta(minutes=3)


@pytest.mark.parametrize(
    ("expires_at", "due"),
    [
        (None, True),
        (NOW - timedelta(minutes=1), True),
        (NOW, True),
        (NOW + MARGIN - timedelta(seconds=1), True),
        (NOW + MARGIN, False),
        (NOW + MARGIN + timedelta(seconds=1), False),
        (NOW + timedelta(minutes=14), False),
        (NOW + timedelta(hours=1), False),
    ],
)
def test_a_token_is_due_when_less_than_the_margin_is_left(expires_at: datetime | None, due: bool) -> None:
    assert timing.needs_refresh(expires_at, NOW, MARGIN) is due


def test_an_eks_token_is_rewritten_on_about_every_run_and_an_hour_token_after_about_fifty_minutes() -> None:
    runs = [NOW + timedelta(minutes=5 * i) for i in range(14)]
    for lifetime, expected in ((timedelta(minutes=14), 5), (timedelta(minutes=60), 50)):
        expires_at, writes = None, []
        for when in runs:
            if timing.needs_refresh(expires_at, when, MARGIN):
                expires_at = when + lifetime
                writes.append(when)
        gaps = {int((b - a).total_seconds() // 60) for a, b in itertools.pairwise(writes)}
        assert gaps == {expected}


def _secret(kubeconfig: dict[str, Any] | None, expiry: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "multikueue-aws"}
    if expiry is not None:
        metadata["annotations"] = {timing.EXPIRY_ANNOTATION: expiry}
    secret: dict[str, Any] = {"metadata": metadata}
    if kubeconfig is not None:
        secret["data"] = {wt.SECRET_KEY: base64.b64encode(json.dumps(kubeconfig).encode()).decode()}
    return secret


def test_the_recorded_expiry_counts_only_for_a_readable_token_for_the_same_cluster(
    tls: Tls, pod: Pod
) -> None:
    worker = _parsed(_worker("aws", "aws", _aws(pod, "http://127.0.0.1:1"), tls.ca_data))
    written = json.loads(wt.kubeconfig(worker, "t"))
    assert wt.recorded_expiry(_secret(written, "2026-12-05T12:30:00Z"), worker)[0] == NOW + timedelta(
        minutes=30
    )
    assert wt.recorded_expiry(_secret(written, "2026-12-05T13:30:00+01:00"), worker)[0] == NOW + timedelta(
        minutes=30
    )
    for secret in (
        _secret(None, "2026-12-05T12:30:00Z"),  # Pulumi's empty Secret
        _secret(written, None),
        _secret(written, "soon"),
        _secret(written, "2026-12-05T12:30:00"),  # no zone: not ours, and ambiguous
    ):
        assert wt.recorded_expiry(secret, worker)[0] is None
    moved = json.loads(wt.kubeconfig(worker, "t"))
    moved["clusters"][0]["cluster"]["server"] = "https://elsewhere.example.com"
    expires_at, reason = wt.recorded_expiry(_secret(moved, "2026-12-05T12:30:00Z"), worker)
    assert expires_at is None
    assert "server or CA changed" in reason


def test_a_token_is_replaced_within_the_hour_and_one_already_due_is_refused() -> None:
    assert timing.replace_by(NOW + timedelta(hours=1), NOW, MARGIN) == NOW + timedelta(hours=1)
    assert timing.replace_by(NOW + timedelta(minutes=14), NOW, MARGIN) == NOW + timedelta(minutes=14)
    # Entra ID's 60 to 90 minutes: replaced an hour after minting all the same.
    assert timing.replace_by(NOW + timedelta(minutes=90), NOW, MARGIN) == NOW + timedelta(hours=1)
    with pytest.raises(timing.TokenError, match="less than the refresh margin of 11m"):
        timing.replace_by(NOW + MARGIN - timedelta(seconds=1), NOW, MARGIN)


# --- the kubeconfig -------------------------------------------------------------------------------------

_REFUSED_BY_KUEUE = {
    "exec",
    "auth-provider",
    "tokenFile",
    "token-file",
    "username",
    "password",
    "insecure-skip-tls-verify",
    "certificate-authority",
    "client-certificate",
    "client-key",
}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_kubeconfig_holds_the_server_the_ca_as_data_and_a_static_token_only(tls: Tls, pod: Pod) -> None:
    worker = _parsed(_worker("gke", "gcp", _gcp(pod, "https://127.0.0.1:1"), tls.ca_data))
    text = wt.kubeconfig(worker, "the-token")
    config = yaml.safe_load(text)  # Kueue parses YAML; JSON is YAML
    assert config == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "gke",
                "cluster": {"server": "https://gke.example.com", "certificate-authority-data": tls.ca_data},
            }
        ],
        "users": [{"name": "gke", "user": {"token": "the-token"}}],
        "contexts": [{"name": "gke", "context": {"cluster": "gke", "user": "gke"}}],
        "current-context": "gke",
    }
    assert not _keys(config) & _REFUSED_BY_KUEUE
    assert base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).startswith(
        b"-----BEGIN CERTIFICATE-----"
    )


# --- minting --------------------------------------------------------------------------------------------


def test_an_eks_token_is_a_presigned_regional_get_caller_identity_naming_the_cluster(
    moto_sts: str, pod: Pod, tls: Tls
) -> None:
    federation = _parsed(_worker("eks", "aws", _aws(pod, moto_sts), tls.ca_data)).federation
    assert isinstance(federation, wf.AwsFederation)
    before = datetime.now(UTC).replace(microsecond=0)
    token, expires_at = wt.mint_eks(federation, "multikueue-eks")
    after = datetime.now(UTC)
    assert token.startswith("k8s-aws-v1.")
    assert "=" not in token
    body = token.removeprefix("k8s-aws-v1.")
    url = urllib.parse.urlsplit(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode())
    query = dict(urllib.parse.parse_qsl(url.query))
    assert (url.scheme, url.hostname, url.path) == ("https", "sts.us-west-2.amazonaws.com", "/")
    assert query["Action"] == "GetCallerIdentity"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    assert query["X-Amz-Credential"].split("/")[2:4] == ["us-west-2", "sts"]
    assert query["X-Amz-Security-Token"]  # signed with the role's temporary credentials
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= after
    assert expires_at == signed_at + timedelta(minutes=14)


def test_an_aks_token_comes_from_entra_for_the_aks_server_app_with_the_projected_token(
    clouds: tuple[Clouds, StandIn], pod: Pod
) -> None:
    _, stand_in = clouds
    federation = wf.AzureFederation(TENANT, CLIENT, pod.token("azure"), stand_in.url)
    before = datetime.now(UTC)
    token, expires_at = wt.mint_aks(federation)
    assert token == "aks-token"
    assert before + timedelta(seconds=3597) <= expires_at <= datetime.now(UTC) + timedelta(seconds=3600)
    [request] = stand_in.seen
    assert (request.method, request.path) == ("POST", f"/{TENANT}/oauth2/v2.0/token")
    form = request.form()
    assert form["client_assertion"] == "projected-azure-jwt"
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert form["client_id"] == CLIENT
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "6dae42f8-4368-4678-94ff-3960e28e3630/.default"


def test_a_gke_token_is_the_impersonated_service_accounts_after_an_sts_exchange(
    clouds: tuple[Clouds, StandIn], pod: Pod
) -> None:
    _, stand_in = clouds
    federation = wf.GcpFederation(
        AUDIENCE, SERVICE_ACCOUNT, pod.token("gcp"), f"{stand_in.url}/v1/token", stand_in.url
    )
    token, expires_at = wt.mint_gke(federation)
    assert token == "gke-token"
    assert expires_at.tzinfo is not None
    assert timedelta(minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=1)
    exchange, impersonation = stand_in.seen
    form = exchange.form()
    assert exchange.path == "/v1/token"
    assert form["audience"] == AUDIENCE
    assert form["subject_token"] == "projected-gcp-jwt"
    assert form["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert impersonation.path == f"/v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:generateAccessToken"
    assert impersonation.headers["authorization"] == "Bearer federated-token"
    body = impersonation.json()
    assert sorted(body["scope"]) == sorted(wt.GCP_SCOPES)
    assert body["lifetime"] == "3600s"


# --- the Secret and the command -------------------------------------------------------------------------


@pytest.fixture
def kube(tls: Tls) -> Iterator[tuple[Kube, StandIn]]:
    state = Kube("kueue-system", "multikueue-aws", "multikueue-azure", "multikueue-gcp")
    with serve(state.answer, tls) as stand_in:
        yield state, stand_in


def test_the_secret_gets_the_kubeconfig_and_the_expiry_in_one_conditional_merge_patch(
    kube: tuple[Kube, StandIn], tls: Tls, pod: Pod
) -> None:
    state, stand_in = kube
    api = KubeApi.in_cluster(stand_in.url, pod.kube_token, str(tls.ca_file))
    worker = _parsed(_worker("azure", "azure", _azure(pod, "https://127.0.0.1:1"), tls.ca_data))
    wt.write_token(api, "kueue-system", worker, "tok-1", NOW, resource_version="100")
    secret = state.secrets["kueue-system", "multikueue-azure"]
    assert secret["metadata"]["annotations"] == {timing.EXPIRY_ANNOTATION: "2026-12-05T12:00:00Z"}
    assert secret["type"] == "Opaque"  # a merge patch leaves the rest alone
    assert state.kubeconfig("kueue-system", "multikueue-azure") == json.loads(wt.kubeconfig(worker, "tok-1"))
    assert stand_in.paths("PATCH") == ["/api/v1/namespaces/kueue-system/secrets/multikueue-azure"]
    with pytest.raises(KubeError, match=r"PATCH secret kueue-system/multikueue-azure: HTTP 409 .*modified"):
        wt.write_token(api, "kueue-system", worker, "tok-2", NOW, resource_version="100")
    with pytest.raises(KubeError, match=r"GET secret kueue-system/nope: HTTP 404 secrets \"nope\" not found"):
        api.get_secret("kueue-system", "nope")
    assert state.kubeconfig("kueue-system", "multikueue-azure")["users"][0]["user"]["token"] == "tok-1"


def _workers_file(path: Path, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"namespace": "kueue-system", "workers": workers}))
    return path


def _refresh(workers: Path, kube_url: str, pod: Pod, tls: Tls, *extra: str) -> int:
    return run_cli(
        "refresh-workers",
        "--workers-file",
        workers,
        "--kube-api",
        kube_url,
        "--kube-token-file",
        pod.kube_token,
        "--kube-ca-file",
        tls.ca_file,
        *extra,
    )


def test_one_run_refreshes_every_due_worker_and_a_second_run_rewrites_nothing(
    *,
    kube: tuple[Kube, StandIn],
    clouds: tuple[Clouds, StandIn],
    moto_sts: str,
    pod: Pod,
    tls: Tls,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, kube_api = kube
    cloud_url = clouds[1].url
    workers = _workers_file(
        tmp_path / "workers.json",
        [
            _worker("aws", "aws", _aws(pod, moto_sts), tls.ca_data),
            _worker("azure", "azure", _azure(pod, cloud_url), tls.ca_data),
            _worker("gcp", "gcp", _gcp(pod, cloud_url), tls.ca_data),
        ],
    )
    started = datetime.now(UTC)
    assert _refresh(workers, kube_api.url, pod, tls) == 0
    out = capsys.readouterr().out
    assert out.count("refreshed (no kubeconfig yet)") == 3
    tokens = {}
    for name in ("aws", "azure", "gcp"):
        config = state.kubeconfig("kueue-system", f"multikueue-{name}")
        assert config["clusters"][0]["cluster"]["server"] == f"https://{name}.example.com"
        tokens[name] = config["users"][0]["user"]["token"]
        expiry = timing.parse_expiry(
            state.secrets["kueue-system", f"multikueue-{name}"]["metadata"]["annotations"][
                timing.EXPIRY_ANNOTATION
            ]
        )
        assert expiry is not None
        assert started + MARGIN < expiry <= started + timedelta(hours=1, seconds=1)
    assert tokens["aws"].startswith("k8s-aws-v1.")
    assert (tokens["azure"], tokens["gcp"]) == ("aks-token", "gke-token")
    assert len(kube_api.paths("PATCH")) == 3

    assert _refresh(workers, kube_api.url, pod, tls) == 0
    assert len(kube_api.paths("PATCH")) == 3  # nothing rewritten: every token has more than the margin
    assert capsys.readouterr().out.count("still valid") == 3


def test_a_failing_worker_is_named_and_the_others_are_still_refreshed(
    *,
    kube: tuple[Kube, StandIn],
    clouds: tuple[Clouds, StandIn],
    moto_sts: str,
    pod: Pod,
    tls: Tls,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, kube_api = kube
    clouds[0].failing.add("gcp")
    cloud_url = clouds[1].url
    missing = _worker("azure-two", "azure", _azure(pod, cloud_url), tls.ca_data)  # no such Secret
    workers = _workers_file(
        tmp_path / "workers.json",
        [
            _worker("gcp", "gcp", _gcp(pod, cloud_url), tls.ca_data),
            _worker("aws", "aws", _aws(pod, moto_sts), tls.ca_data),
            missing,
            _worker("azure", "azure", _azure(pod, cloud_url), tls.ca_data),
        ],
    )
    assert _refresh(workers, kube_api.url, pod, tls) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    assert err[0].startswith(
        "trainer refresh-workers: error: worker gcp (Secret kueue-system/multikueue-gcp): no token from gcp: "
    )
    assert "backend error" in err[0]
    assert err[1] == (
        "trainer refresh-workers: error: worker azure-two (Secret kueue-system/"
        "multikueue-azure-two): GET secret kueue-system/multikueue-azure-two: HTTP 404 secrets "
        '"multikueue-azure-two" not found'
    )
    assert err[2].startswith("trainer refresh-workers: error: not refreshed: gcp, azure-two")
    assert "data" not in state.secrets["kueue-system", "multikueue-gcp"]
    for name in ("aws", "azure"):
        assert state.kubeconfig("kueue-system", f"multikueue-{name}")["users"][0]["user"]["token"]


# --- the command line -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (
            ["--interval-minutes", "0"],
            {},
            "argument --interval-minutes: expected an integer from 1 to 29, got '0'",
        ),
        (
            ["--interval-minutes", "30"],
            {},
            "argument --interval-minutes: expected an integer from 1 to 29, got '30'",
        ),
        (
            [],
            {"TRAINER_INTERVAL_MINUTES": "five"},
            "environment variable TRAINER_INTERVAL_MINUTES (for --interval-minutes): expected an integer "
            "from 1 to 29, got 'five'",
        ),
    ],
)
def test_a_bad_interval_exits_2_with_one_line_naming_it(
    argv: list[str],
    env: dict[str, str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_info:
        run_cli("refresh-workers", "--workers-file", "w.json", *argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def _good(pod: Pod, ca_data: str) -> list[dict[str, Any]]:
    return [
        _worker("aws", "aws", _aws(pod, "https://127.0.0.1:1"), ca_data),
        _worker("gcp", "gcp", _gcp(pod, "https://127.0.0.1:1"), ca_data),
    ]


def _set(path: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(workers: list[dict[str, Any]]) -> None:
        *parents, last = path.split(".")
        target: Any = workers
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return change


_DELETE = object()


def test_optional_endpoints_left_out_take_their_defaults(tls: Tls, pod: Pod) -> None:
    """The stack writes no test endpoints: each left out is the cloud's own, not a bad URL."""
    workers = _good(pod, tls.ca_data)
    for worker in workers:
        worker[worker["cloud"]] = {
            k: v
            for k, v in worker[worker["cloud"]].items()
            if k not in ("stsEndpoint", "tokenUrl", "iamCredentialsUrl")
        }
    aws, gcp = (w.federation for w in wf.parse_workers({"workers": workers}).workers)
    assert isinstance(aws, wf.AwsFederation)
    assert aws.sts_endpoint is None
    assert isinstance(gcp, wf.GcpFederation)
    assert (gcp.token_url, gcp.iam_credentials_url) == (wf.GCP_TOKEN_URL, wf.GCP_IAM_CREDENTIALS_URL)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set("0.aws.region", "Oregon"),
            'workers[0].aws.region: expected an AWS region such as us-west-2, got "Oregon"',
        ),
        (_set("1.gcp.audience", "projects/123"), "workers[1].gcp.audience: expected a pool provider"),
        (_set("0.cloud", "oci"), 'workers[0].cloud: expected one of aws, azure, gcp, got "oci"'),
        (
            _set("1.server", "http://34.1.2.3"),
            'workers[1].server: expected a https URL with a host, got "http:',
        ),
        (
            _set("0.caData", "bm90IGEgY2VydA=="),
            "workers[0].caData: expected base64 of a PEM certificate bundle",
        ),
        (_set("1.aws", {}), "workers[1].aws: a section for aws, but cloud is 'gcp'"),
        (
            _set("0.aws.role", ROLE),
            "workers[0].aws.role: unknown key (allowed here: clusterName, region, roleArn, "
            "stsEndpoint, tokenPath)",
        ),
        (_set("0.aws.roleArn", _DELETE), "workers[0].aws.roleArn is missing"),
        (
            _set("1.secret", "multikueue-aws"),
            "workers[1].secret: 'multikueue-aws' is already used by worker 'aws'",
        ),
        (
            _set("1.gcp.tokenPath", "token"),
            'workers[1].gcp.tokenPath: expected an absolute file path, got "token"',
        ),
    ],
)
def test_a_bad_workers_file_exits_2_with_one_line_naming_the_key(
    *,
    change: Callable[[list[dict[str, Any]]], None],
    message: str,
    pod: Pod,
    tls: Tls,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workers = _good(pod, tls.ca_data)
    change(workers)
    path = _workers_file(tmp_path / "workers.json", workers)
    assert _refresh(path, "https://127.0.0.1:1", pod, tls) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"trainer refresh-workers: error: --workers-file {path}: ")
    assert message in err


def test_a_workers_file_that_is_not_json_or_has_no_workers_exits_2(
    pod: Pod, tls: Tls, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "workers.json"
    path.write_text("{'workers': []}")
    assert _refresh(path, "https://127.0.0.1:1", pod, tls) == 2
    assert "not JSON" in capsys.readouterr().err
    path.write_text('{"workers": []}')
    assert _refresh(path, "https://127.0.0.1:1", pod, tls) == 2
    assert "workers: expected a non-empty list of workers, got []" in capsys.readouterr().err


def test_an_interval_too_long_for_eks_tokens_exits_2_when_an_aws_worker_is_configured(
    pod: Pod, tls: Tls, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _workers_file(tmp_path / "workers.json", _good(pod, tls.ca_data))
    assert _refresh(path, "https://127.0.0.1:1", pod, tls, "--interval-minutes", "7") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--interval-minutes 7: EKS tokens last 14m" in err


# --- registry pull Secrets ------------------------------------------------------------------------------


def _registry(**change: Any) -> dict[str, Any]:
    registry: dict[str, Any] = {
        "cloud": "gcp",
        "host": "us-central1-docker.pkg.dev",
        "secret": "trainer-pull",
        "namespaces": ["ml"],
        "gcp": {"serviceAccount": PULLER},
    }
    registry.update(change)
    return registry


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        (_registry(cloud="oci"), 'registry.cloud: expected one of aws, azure, gcp, got "oci"'),
        (_registry(host="Docker.io"), "registry.host: expected a registry's host name"),
        (_registry(namespaces=[]), "registry.namespaces: expected a non-empty list of namespaces, got []"),
        (
            _registry(namespaces=["ml", "ML"]),
            'registry.namespaces[1]: expected a DNS label (a namespace), got "ML"',
        ),
        (_registry(namespaces=["ml", "ml"]), "registry.namespaces[1]: 'ml' is listed twice"),
        (_registry(aws={}), "registry.aws: a section for aws, but cloud is 'gcp'"),
        (_registry(gcp={}), "registry.gcp.serviceAccount is missing"),
        (
            _registry(token="x"),
            "registry.token: unknown key (allowed here: cloud, gcp, host, namespaces, secret)",
        ),
        (
            _registry(cloud="aws", gcp=None, aws={"region": "us-west-2", "registryId": "1234"}),
            'registry.aws.registryId: expected an AWS account id (12 digits), got "1234"',
        ),
        (
            _registry(
                cloud="azure",
                gcp=None,
                azure={"tenantId": TENANT, "clientId": CLIENT, "loginServer": "https://a.azurecr.io"},
            ),
            "registry.azure.loginServer: expected a registry's login server, such as x.azurecr.io",
        ),
        (
            _registry(
                cloud="azure", gcp=None, azure={"tenantId": TENANT, "clientId": "me", "loginServer": "a.io"}
            ),
            'registry.azure.clientId: expected a GUID (the identity\'s client id), got "me"',
        ),
    ],
)
def test_a_bad_registry_is_a_usage_error_naming_its_key(
    registry: dict[str, Any], message: str, pod: Pod, tls: Tls
) -> None:
    registry = {key: value for key, value in registry.items() if value is not None}
    raw = {"workers": _good(pod, tls.ca_data), "registry": registry}
    with pytest.raises(UsageError) as error:
        wf.parse_workers(raw)
    assert message in str(error.value)


@dataclass
class Metadata:
    """The GKE metadata server: who the pod is, and its access token."""

    email: str = PULLER

    def answer(self, request: Seen) -> Reply:
        if request.headers.get("metadata-flavor") != "Google":
            return 403, {"error": "missing Metadata-Flavor: Google"}
        path = urllib.parse.urlsplit(request.path).path
        if path == "/computeMetadata/v1/instance/service-accounts/default/":
            return 200, {"email": self.email, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            # The cached token, five minutes from expiry: good to sign with, too short to hand out.
            return 200, {"access_token": "cached-token", "expires_in": 299, "token_type": "Bearer"}
        return 404, {"error": f"no route {path}"}


@pytest.fixture
def metadata(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Metadata, StandIn]]:
    state = Metadata()
    with serve(state.answer, None) as stand_in:
        # What GCE_METADATA_HOST sets; google-auth reads that variable once, when it is imported.
        monkeypatch.setattr(google_metadata, "_GCE_METADATA_HOST", stand_in.url.removeprefix("http://"))
        yield state, stand_in


def test_an_artifact_registry_credential_is_a_fresh_hour_minted_with_the_metadata_servers_token(
    metadata: tuple[Metadata, StandIn], clouds: tuple[Clouds, StandIn]
) -> None:
    state, stand_in = metadata
    _, iam = clouds
    username, password, expires_at = registry_tokens.mint_gar(wf.GarSource(PULLER, iam.url))
    assert (username, password) == ("oauth2accesstoken", "gar-token")
    assert timedelta(minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert stand_in.paths("GET")[-1].startswith("/computeMetadata/v1/instance/service-accounts/default/token")
    (minted,) = iam.seen
    assert minted.path == f"/v1/projects/-/serviceAccounts/{PULLER}:generateAccessToken"
    assert minted.headers["authorization"] == "Bearer cached-token"
    assert minted.json()["lifetime"] == "3600s"
    state.email = "someone-else@proj.iam.gserviceaccount.com"
    with pytest.raises(
        timing.TokenError, match=r"answers as 'someone-else@.*iam\.gke\.io/gcp-service-account"
    ):
        registry_tokens.mint_gar(wf.GarSource(PULLER, iam.url))


def test_an_ecr_credential_is_the_decoded_authorization_token(
    moto_sts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    username, password, expires_at = registry_tokens.mint_ecr(
        wf.EcrSource("us-west-2", "123456789012", moto_sts)
    )
    # moto answers with a fixed expiry; ECR's own is 12 hours after the call.
    assert (username, password) == ("AWS", "123456789012-auth-token")
    assert expires_at.tzinfo is not None


def test_an_acr_credential_is_a_refresh_token_exchanged_for_an_entra_token(
    clouds: tuple[Clouds, StandIn], pod: Pod, tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))  # the exchange goes through urllib
    _, stand_in = clouds
    login_server = stand_in.url.removeprefix("https://")
    source = wf.AcrSource(TENANT, CLIENT, login_server, pod.token("azure"), stand_in.url)
    credential = registry_tokens.mint_acr(source)
    assert credential == ("00000000-0000-0000-0000-000000000000", ACR_REFRESH_TOKEN, NOW + timedelta(hours=3))
    entra, exchange = stand_in.seen
    assert entra.form()["scope"] == "https://containerregistry.azure.net/.default"
    assert exchange.path == "/oauth2/exchange"
    assert exchange.form() == {
        "grant_type": "access_token",
        "service": login_server,
        "tenant": TENANT,
        "access_token": "aks-token",
    }


@pytest.fixture
def worker_kube(tls: Tls) -> Iterator[tuple[Kube, StandIn]]:
    """The gcp worker's API server: the pull Secrets the stack declared, for the worker's own token."""
    state = Kube("ml", "trainer-pull", token="gke-token")
    with serve(state.answer, tls) as stand_in:
        yield state, stand_in


def test_a_run_writes_each_workers_pull_secret_once_and_a_failing_namespace_fails_alone(
    *,
    kube: tuple[Kube, StandIn],
    worker_kube: tuple[Kube, StandIn],
    clouds: tuple[Clouds, StandIn],
    metadata: tuple[Metadata, StandIn],
    pod: Pod,
    tls: Tls,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, kube_api = kube
    worker_state, worker_api = worker_kube
    gcp = _worker("gcp", "gcp", _gcp(pod, clouds[1].url), tls.ca_data) | {"server": worker_api.url}
    path = tmp_path / "workers.json"
    puller = {"serviceAccount": PULLER, "iamCredentialsUrl": clouds[1].url}
    path.write_text(json.dumps({"workers": [gcp], "registry": _registry(gcp=puller)}))
    assert _refresh(path, kube_api.url, pod, tls) == 0
    assert "worker gcp (pull Secret ml/trainer-pull): refreshed (no credential" in capsys.readouterr().out
    secret = worker_state.secrets["ml", "trainer-pull"]
    config = json.loads(base64.b64decode(secret["data"][pull_secrets.PULL_SECRET_KEY]))
    auth = base64.b64encode(b"oauth2accesstoken:gar-token").decode()
    assert config == {
        "auths": {
            "us-central1-docker.pkg.dev": {
                "username": "oauth2accesstoken",
                "password": "gar-token",
                "auth": auth,
            }
        }
    }
    assert timing.parse_expiry(secret["metadata"]["annotations"][timing.EXPIRY_ANNOTATION]) is not None
    assert len(worker_api.paths("PATCH")) == 1
    minted = len(metadata[1].seen)

    assert _refresh(path, kube_api.url, pod, tls) == 0  # the token kept in the kubeconfig is reused
    assert len(worker_api.paths("PATCH")) == 1
    assert len(metadata[1].seen) == minted  # nothing due: nothing minted
    assert "worker gcp (pull Secret ml/trainer-pull): still valid" in capsys.readouterr().out

    worker_state.secrets["ml", "trainer-pull"].pop("data")
    path.write_text(
        json.dumps({"workers": [gcp], "registry": _registry(namespaces=["gone", "ml"], gcp=puller)})
    )
    assert _refresh(path, kube_api.url, pod, tls) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "trainer refresh-workers: error: worker gcp (pull Secret gone/trainer-pull): GET secret "
        'gone/trainer-pull: HTTP 404 secrets "trainer-pull" not found'
    )
    assert err[1].startswith("trainer refresh-workers: error: not refreshed: gcp/gone")
    assert "data" in worker_state.secrets["ml", "trainer-pull"]


def test_a_registry_that_cannot_mint_fails_every_pull_secret_in_one_line_and_kubeconfigs_still_refresh(
    *,
    kube: tuple[Kube, StandIn],
    worker_kube: tuple[Kube, StandIn],
    clouds: tuple[Clouds, StandIn],
    metadata: tuple[Metadata, StandIn],
    pod: Pod,
    tls: Tls,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, kube_api = kube
    metadata[0].email = "default@proj.iam.gserviceaccount.com"
    gcp = _worker("gcp", "gcp", _gcp(pod, clouds[1].url), tls.ca_data) | {"server": worker_kube[1].url}
    path = tmp_path / "workers.json"
    path.write_text(json.dumps({"workers": [gcp], "registry": _registry()}))
    assert _refresh(path, kube_api.url, pod, tls) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert err[0].startswith(
        "trainer refresh-workers: error: registry us-central1-docker.pkg.dev (pull Secrets trainer-pull): "
        "no pull credential from gcp: the metadata server answers as 'default@"
    )
    assert err[0].endswith("; not written: gcp/ml")
    assert state.kubeconfig("kueue-system", "multikueue-gcp")["users"][0]["user"]["token"] == "gke-token"


def test_a_due_pull_secret_takes_any_newer_credential_and_waits_without_failing_for_one(
    worker_kube: tuple[Kube, StandIn], tls: Tls
) -> None:
    """The GKE metadata server keeps handing out its cached token until about five minutes before it
    expires: a pull Secret due within the margin waits for a newer one, and takes a short one that is."""
    state, stand_in = worker_kube
    api = KubeApi.with_token(stand_in.url, tls.ca_data, "gke-token")
    registry = wf.Registry("gcp", "us-central1-docker.pkg.dev", "trainer-pull", ("ml",), wf.GarSource(PULLER))
    margin = timedelta(minutes=11)
    expiries = iter([NOW + timedelta(minutes=8), NOW + timedelta(minutes=8), NOW + timedelta(minutes=9)])

    def once() -> pull_secrets.OnceCredential:
        credential = registry_tokens.PullCredential("oauth2accesstoken", "gar", next(expiries))
        return pull_secrets.OnceCredential(lambda: credential, margin, lambda: NOW)

    first = pull_secrets.refresh_pull_secret(api, "ml", registry, once(), margin=margin)
    assert first.startswith("refreshed (no credential")  # short, but better than none
    same = pull_secrets.refresh_pull_secret(api, "ml", registry, once(), margin=margin)
    assert same.endswith("no newer credential yet: the next run renews it")
    assert len(stand_in.paths("PATCH")) == 1
    newer = pull_secrets.refresh_pull_secret(api, "ml", registry, once(), margin=margin)
    assert newer.startswith("refreshed (8m left")
    annotations = state.secrets["ml", "trainer-pull"]["metadata"]["annotations"]
    assert timing.parse_expiry(annotations[timing.EXPIRY_ANNOTATION]) == NOW + timedelta(minutes=9)
