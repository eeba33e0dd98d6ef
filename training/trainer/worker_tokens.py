"""`refresh-workers`: keep each MultiKueue worker's kubeconfig Secret holding a short-lived API token.

MultiKueue (Kueue v0.19.2) reaches a worker cluster through the kubeconfig in key `kubeconfig` of a Secret
in the manager's Kueue namespace, and refuses every kubeconfig that could run code or read a file: no exec
plugin, no auth-provider, no tokenFile, no basic auth, no insecure-skip-tls-verify, no certificate-authority
path. What is left is `certificate-authority-data` and a static bearer `token`. No long-lived credential
is stored for that token: this command, run by a CronJob in the manager cluster, mints one of at most an
hour per worker through keyless federation (the pod's projected service-account token of each cloud's
audience, exchanged with that cloud) and rewrites the worker's Secret well before the token expires.

Kueue watches the Secret and reconnects to the worker, relisting its Jobs and Workloads, whenever its bytes
change, so a Secret is rewritten only when its token is due (`needs_refresh`): it has none, its recorded
expiry (annotation `gpu-platform/token-expires-at`, ISO 8601 UTC) is missing or unreadable, the worker's
server or CA changed, or less than the margin is left. The margin is twice the CronJob's interval plus a
minute (`--interval-minutes`, default 5: 11 minutes), so a token outlives one missed run. EKS tokens
(valid 15 minutes after signing, reported as 14 like `aws eks get-token`) are thus rewritten about every
5 minutes, and GKE and AKS tokens (about an hour) about every 50.

The workers file (`--workers-file`, a ConfigMap the Pulumi program writes) is JSON, every key checked before
anything is minted or written; an unknown key, a missing one or a bad value is a one-line usage error
naming `workers[i].key`, the value and what is allowed (exit status 2)::

    {
      "namespace": "kueue-system",          # optional, default kueue-system: where the Secrets are
      "workers": [                          # at least one
        {
          "name": "aws",                    # DNS label, unique: names the worker in messages
          "cloud": "aws",                   # aws (EKS), azure (AKS) or gcp (GKE)
          "server": "https://ABC.gr7.us-west-2.eks.amazonaws.com",   # https URL of the API server
          "caData": "<base64 of the PEM CA bundle>",                 # certificate-authority-data
          "secret": "multikueue-aws",       # the Secret's name (DNS subdomain), unique; it must exist
          "aws": {                          # exactly the section named by "cloud"
            "roleArn": "arn:aws:iam::123456789012:role/x",   # assumed with the web identity token
            "clusterName": "prod-eks",      # the EKS cluster's name (signed as x-k8s-aws-id)
            "region": "us-west-2",          # the cluster's region: its regional STS endpoint signs
            "tokenPath": "/var/run/secrets/gpu-platform/aws/token",   # optional, this default
            "stsEndpoint": "https://..."    # optional: where AssumeRoleWithWebIdentity goes (tests)
          }
        },
        {"name": "azure", "cloud": "azure", "server": "https://x.hcp.eastus2.azmk8s.io:443", "caData": "...",
         "secret": "multikueue-azure",
         "azure": {
            "tenantId": "<GUID>", "clientId": "<GUID of the user-assigned identity>",
            "tokenPath": "/var/run/secrets/gpu-platform/azure/token",   # optional, this default
            "authorityHost": "https://login.microsoftonline.com"                  # optional, this default
         }},
        {"name": "gcp", "cloud": "gcp", "server": "https://34.1.2.3", "caData": "...",
         "secret": "multikueue-gcp",
         "gcp": {
            "audience":       # the pool provider's full name, also the gcp token's audience
              "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/x",
            "serviceAccount": "sa@proj.iam.gserviceaccount.com",   # impersonated: GKE needs an email
            "tokenPath": "/var/run/secrets/gpu-platform/gcp/token",     # optional, this default
            "tokenUrl": "https://sts.googleapis.com/v1/token",                  # optional, this default
            "iamCredentialsUrl": "https://iamcredentials.googleapis.com"          # optional, this default
         }}
      ]
    }

(The `#` comments are documentation only: the file is plain JSON.) The optional endpoints exist for tests
and private endpoints; production leaves them out.

Tokens, per cloud (`mint_eks`, `mint_aks`, `mint_gke`), each returning the token and its expiry:

- EKS: AssumeRoleWithWebIdentity (unsigned, 900 s) with the projected token, then a presigned STS
  GetCallerIdentity URL at the region's STS endpoint, signed with header `x-k8s-aws-id: <clusterName>`;
  the token is `k8s-aws-v1.` + base64url (no padding) of the URL, as aws-cli and aws-iam-authenticator do.
- AKS (managed Entra ID): azure-identity's WorkloadIdentityCredential, scope of the AKS server
  application `6dae42f8-4368-4678-94ff-3960e28e3630/.default`.
- GKE: google-auth's identity-pool external account (STS exchange of the projected token), impersonating
  `serviceAccount` for scopes cloud-platform and userinfo.email, 3600 s.

A minted token is replaced at its expiry, or an hour after minting if it lives longer (Entra ID may give
up to 90 minutes), so no token stays in a Secret beyond an hour; one already within the margin is refused.
Workers are independent: one whose token cannot be minted or whose Secret cannot be written is reported on
one stderr line naming it, the others are still refreshed, and the command exits with status 1. The
Secrets are read and merge-patched through the in-cluster API server with the pod's own service-account
token, which needs `get` and `patch` on exactly those Secrets.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session
import google.auth.transport.requests
from azure.identity import WorkloadIdentityCredential
from botocore import UNSIGNED
from botocore.config import Config
from google.auth import identity_pool

from trainer.config import RefreshWorkersConfig
from trainer.errors import PartialFailure, UsageError

if TYPE_CHECKING:
    from types_boto3_sts import STSClient

_PREFIX = "trainer refresh-workers"
SECRET_KEY = "kubeconfig"
"""The Secret key MultiKueue reads the kubeconfig from."""
EXPIRY_ANNOTATION = "gpu-platform/token-expires-at"
DEFAULT_NAMESPACE = "kueue-system"
FEDERATED_DIR = "/var/run/secrets/gpu-platform"
"""Where the pod mounts one projected token per cloud (`infra/clouds/base.py` `token_path`)."""
MAX_LIFETIME = timedelta(hours=1)
"""The longest a token stays in a Secret before it is replaced."""

EKS_TOKEN_PREFIX = "k8s-aws-v1."
EKS_CLUSTER_HEADER = "x-k8s-aws-id"
EKS_TOKEN_VALIDITY = timedelta(minutes=14)
"""STS accepts the signed URL for 15 minutes after X-Amz-Date; aws-cli reports 14, a minute to spare."""
EKS_SESSION_SECONDS = 900
AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
"""The AKS server application's id, the same for every managed Entra ID cluster."""
AZURE_AUTHORITY = "https://login.microsoftonline.com"
GCP_TOKEN_URL = "https://sts.googleapis.com/v1/token"
GCP_IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
GCP_SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
)
GCP_TOKEN_LIFETIME_SECONDS = 3600
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"

KUBE_API = "https://kubernetes.default.svc"
KUBE_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
KUBE_CA_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"


# --- configuration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsFederation:
    role_arn: str
    cluster_name: str
    region: str
    token_path: str
    sts_endpoint: str | None = None  # None: botocore's own (the region's STS endpoint)


@dataclass(frozen=True)
class AzureFederation:
    tenant_id: str
    client_id: str
    token_path: str
    authority_host: str = AZURE_AUTHORITY


@dataclass(frozen=True)
class GcpFederation:
    audience: str
    service_account: str
    token_path: str
    token_url: str = GCP_TOKEN_URL
    iam_credentials_url: str = GCP_IAM_CREDENTIALS_URL


Federation = AwsFederation | AzureFederation | GcpFederation


@dataclass(frozen=True)
class Worker:
    """One worker cluster: where its API server is, the Secret that holds its kubeconfig, how to get in."""

    name: str
    cloud: str
    server: str
    ca_data: str
    secret: str
    federation: Federation


@dataclass(frozen=True)
class WorkersFile:
    namespace: str
    workers: list[Worker]


_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_EKS_CLUSTER = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_GCP_AUDIENCE = re.compile(
    r"//iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+"
)
_SERVICE_ACCOUNT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\.iam\.gserviceaccount\.com")
_CLOUDS = ("aws", "azure", "gcp")


class _Fields:
    """A JSON object being read: every key looked up is checked off, and any other key is an error."""

    def __init__(self, source: str, where: str, value: object) -> None:
        self.source, self.where = source, where
        if not isinstance(value, dict):
            raise self.error(where, value, "a JSON object")
        self.raw: dict[str, Any] = value
        self.seen: set[str] = set()

    def error(self, where: str, value: object, allowed: str) -> UsageError:
        shown = json.dumps(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return UsageError(f"--workers-file {self.source}: {where}: expected {allowed}, got {shown}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def text(self, name: str, pattern: re.Pattern[str] | None = None, allowed: str = "", **opt: str) -> str:
        self.seen.add(name)
        if name not in self.raw:
            if "default" in opt:
                return opt["default"]
            raise UsageError(f"--workers-file {self.source}: {self.key(name)} is missing ({allowed})")
        value = self.raw[name]
        if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
            raise self.error(self.key(name), value, allowed or "a non-empty string")
        return value

    def url(self, name: str, schemes: tuple[str, ...] = ("https",), **opt: str) -> str:
        allowed = f"a {' or '.join(schemes)} URL with a host"
        value = self.text(name, None, allowed, **opt)
        parsed = urllib.parse.urlsplit(value)
        if parsed.scheme not in schemes or not parsed.hostname:
            raise self.error(self.key(name), value, allowed)
        return value.rstrip("/")

    def path(self, name: str, default: str) -> str:
        value = self.text(name, None, "an absolute file path", default=default)
        if not value.startswith("/"):
            raise self.error(self.key(name), value, "an absolute file path")
        return value

    def done(self) -> None:
        extra = sorted(set(self.raw) - self.seen)
        if extra:
            name = extra[0]
            raise UsageError(
                f"--workers-file {self.source}: {self.key(name)}: unknown key (allowed here: "
                f"{', '.join(sorted(self.seen))})"
            )


def load_workers(path: str) -> WorkersFile:
    """Read and check the workers file; every problem is a one-line `UsageError` naming the key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--workers-file {path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--workers-file {path}: not JSON: {exc}") from None
    return parse_workers(raw, path)


def parse_workers(raw: object, source: str = "<workers>") -> WorkersFile:
    top = _Fields(source, "", raw)
    namespace = top.text("namespace", _DNS_LABEL, "a DNS label (a namespace)", default=DEFAULT_NAMESPACE)
    top.seen.add("workers")
    items = top.raw.get("workers")
    if not isinstance(items, list) or not items:
        raise top.error("workers", items, "a non-empty list of workers")
    top.done()
    workers: list[Worker] = []
    for index, item in enumerate(items):
        worker = _worker(_Fields(source, f"workers[{index}]", item))
        for other in workers:
            for attr, key in (("name", "name"), ("secret", "secret")):
                if getattr(other, attr) == getattr(worker, attr):
                    raise UsageError(
                        f"--workers-file {source}: workers[{index}].{key}: {getattr(worker, attr)!r} is "
                        f"already used by worker {other.name!r}; each worker needs its own"
                    )
        workers.append(worker)
    return WorkersFile(namespace, workers)


def _worker(fields: _Fields) -> Worker:
    name = fields.text("name", _DNS_LABEL, "a DNS label: lower-case letters, digits and '-'")
    cloud = fields.text("cloud", re.compile("|".join(_CLOUDS)), f"one of {', '.join(_CLOUDS)}")
    server = fields.url("server")
    ca_data = fields.text("caData", None, "base64 of a PEM certificate bundle")
    try:
        pem = base64.b64decode(ca_data, validate=True)
    except (binascii.Error, ValueError):
        pem = b""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise fields.error(fields.key("caData"), ca_data, "base64 of a PEM certificate bundle")
    secret = fields.text("secret", _DNS_SUBDOMAIN, "a Secret name (a DNS subdomain)")
    for other in _CLOUDS:
        if other != cloud and other in fields.raw:
            raise UsageError(
                f"--workers-file {fields.source}: {fields.key(other)}: a section for {other}, but cloud is "
                f"{cloud!r}; give only the {cloud!r} section"
            )
    fields.seen.add(cloud)
    section = _Fields(fields.source, fields.key(cloud), fields.raw.get(cloud))
    federation = _FEDERATIONS[cloud](section)
    section.done()
    fields.done()
    return Worker(name, cloud, server, ca_data, secret, federation)


def _aws(f: _Fields) -> AwsFederation:
    return AwsFederation(
        role_arn=f.text("roleArn", _ROLE_ARN, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"),
        cluster_name=f.text("clusterName", _EKS_CLUSTER, "an EKS cluster name"),
        region=f.text("region", _AWS_REGION, "an AWS region such as us-west-2"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/aws/token"),
        sts_endpoint=f.url("stsEndpoint", ("https", "http"), default="") or None,
    )


def _azure(f: _Fields) -> AzureFederation:
    return AzureFederation(
        tenant_id=f.text("tenantId", _GUID, "a GUID (the Entra tenant's id)"),
        client_id=f.text("clientId", _GUID, "a GUID (the identity's client id)"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/azure/token"),
        authority_host=f.url("authorityHost", default=AZURE_AUTHORITY),
    )


def _gcp(f: _Fields) -> GcpFederation:
    return GcpFederation(
        audience=f.text(
            "audience",
            _GCP_AUDIENCE,
            "a pool provider's full name (//iam.googleapis.com/projects/<number>/locations/global/"
            "workloadIdentityPools/<pool>/providers/<provider>)",
        ),
        service_account=f.text("serviceAccount", _SERVICE_ACCOUNT, "a service account's email"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/gcp/token"),
        token_url=f.url("tokenUrl", default=GCP_TOKEN_URL),
        iam_credentials_url=f.url("iamCredentialsUrl", default=GCP_IAM_CREDENTIALS_URL),
    )


_FEDERATIONS: dict[str, Callable[[_Fields], Federation]] = {"aws": _aws, "azure": _azure, "gcp": _gcp}


# --- timing ---------------------------------------------------------------------------------------------


def refresh_margin(interval_minutes: int) -> timedelta:
    """How much validity a Secret's token must have left to be kept: two runs of the CronJob and a minute,
    so that one failed or skipped run still leaves a valid token for the next."""
    return timedelta(minutes=2 * interval_minutes + 1)


def needs_refresh(expires_at: datetime | None, now: datetime, margin: timedelta) -> bool:
    """Whether a token expiring at `expires_at` (None: no token, or its expiry is unknown) must be replaced
    at `now`: when less than `margin` is left."""
    return expires_at is None or expires_at - now < margin


def recorded_expiry(secret: Mapping[str, Any], worker: Worker) -> tuple[datetime | None, str]:
    """The expiry recorded on `secret` for a token that is still for `worker`'s cluster, or None, with the
    reason a new token is needed then (for the log line)."""
    data = secret.get("data") or {}
    if not data.get(SECRET_KEY):
        return None, "no kubeconfig yet"
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    expires_at = parse_expiry(annotations.get(EXPIRY_ANNOTATION))
    if expires_at is None:
        return None, f"no readable {EXPIRY_ANNOTATION} annotation"
    try:
        current = json.loads(base64.b64decode(data[SECRET_KEY]))
        cluster = current["clusters"][0]["cluster"]
    except (ValueError, TypeError, KeyError, IndexError):
        return None, "the kubeconfig there is not one this command wrote"
    if cluster != {"server": worker.server, "certificate-authority-data": worker.ca_data}:
        return None, "the worker's server or CA changed"
    return expires_at, ""


def parse_expiry(text: object) -> datetime | None:
    """An ISO 8601 time with a zone (as `format_expiry` writes it), or None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def format_expiry(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replace_by(expires_at: datetime, now: datetime, margin: timedelta) -> datetime:
    """When a freshly minted token must be replaced: at its expiry, or an hour after minting if it lives
    longer (Entra ID may give 60 to 90 minutes, and its lifetime cannot be set for a managed identity), so
    no token stays in a Secret beyond an hour. Refuses a token already due for replacement."""
    expires_at = min(expires_at, now + MAX_LIFETIME)
    if needs_refresh(expires_at, now, margin):
        raise TokenError(
            f"the token is valid for only {_span(expires_at - now)}, less than the refresh margin of "
            f"{_span(margin)}: lower --interval-minutes"
        )
    return expires_at


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m{seconds:02d}s" if seconds and minutes < 5 else f"{sign}{minutes}m"


def _now() -> datetime:
    return datetime.now(UTC)


# --- tokens ---------------------------------------------------------------------------------------------


class TokenError(Exception):
    """A token that could not be minted, or that is not acceptable; the message is one line."""


def _read_token(path: str) -> str:
    """The projected service-account token, read afresh each time: the kubelet rotates it."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenError(f"cannot read the projected token {path}: {exc.strerror or exc}") from None
    if not token:
        raise TokenError(f"the projected token {path} is empty")
    return token


def mint_eks(federation: AwsFederation, session_name: str) -> tuple[str, datetime]:
    """An EKS bearer token: a presigned STS GetCallerIdentity URL naming the cluster, signed with the role's
    credentials from AssumeRoleWithWebIdentity."""
    session = botocore.session.Session()
    # The web identity token is the proof: STS takes this call unsigned, so no credentials are looked up.
    exchange: STSClient = session.create_client(  # type: ignore[assignment]  # typed by service
        "sts",
        region_name=federation.region,
        endpoint_url=federation.sts_endpoint,
        config=Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 3}),
    )
    response = exchange.assume_role_with_web_identity(
        RoleArn=federation.role_arn,
        RoleSessionName=session_name,
        WebIdentityToken=_read_token(federation.token_path),
        DurationSeconds=EKS_SESSION_SECONDS,
    )
    credentials = response["Credentials"]
    # The region's own STS endpoint, whatever AWS_ENDPOINT_URL says: the EKS authenticator accepts only
    # STS hosts, and nothing is sent there (the URL is only signed).
    signer: STSClient = session.create_client(  # type: ignore[assignment]
        "sts",
        region_name=federation.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(ignore_configured_endpoint_urls=True),  # type: ignore[call-arg]  # stubs lag
    )
    cluster = federation.cluster_name

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[EKS_CLUSTER_HEADER] = cluster

    signer.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    # ExpiresIn is ignored by the authenticator (15 minutes from signing); 60 is what aws-cli sends.
    url = signer.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    signed = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("X-Amz-Date", [""])[0]
    try:
        signed_at = datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise TokenError(f"the presigned URL has no readable X-Amz-Date: {signed!r}") from None
    token = EKS_TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    # A URL signed with temporary credentials is refused once they expire, whatever its own window.
    session_end = credentials["Expiration"]
    return token, min(signed_at + EKS_TOKEN_VALIDITY, session_end.astimezone(UTC))


def mint_aks(federation: AzureFederation) -> tuple[str, datetime]:
    """An Entra ID access token for the AKS server application, for the user-assigned identity that trusts
    the pod's projected token."""
    _read_token(federation.token_path)  # a clear error for a missing file, before azure-identity's own
    with WorkloadIdentityCredential(
        tenant_id=federation.tenant_id,
        client_id=federation.client_id,
        token_file_path=federation.token_path,
        authority=federation.authority_host,
    ) as credential:
        access = credential.get_token(AKS_SCOPE)
    return access.token, datetime.fromtimestamp(access.expires_on, UTC)


def mint_gke(federation: GcpFederation) -> tuple[str, datetime]:
    """A Google access token of `serviceAccount` (GKE wants an identity with an email, which a federated
    principal lacks): the projected token exchanged at STS, then the service account impersonated."""
    _read_token(federation.token_path)
    impersonation = (
        f"{federation.iam_credentials_url}/v1/projects/-/serviceAccounts/"
        f"{federation.service_account}:generateAccessToken"
    )
    info = {
        "type": "external_account",
        "audience": federation.audience,
        "subject_token_type": JWT_TOKEN_TYPE,
        "token_url": federation.token_url,
        "credential_source": {"file": federation.token_path, "format": {"type": "text"}},
        "service_account_impersonation_url": impersonation,
        "service_account_impersonation": {"token_lifetime_seconds": GCP_TOKEN_LIFETIME_SECONDS},
    }
    credentials = identity_pool.Credentials.from_info(info, scopes=list(GCP_SCOPES))  # type: ignore[no-untyped-call]
    credentials.refresh(google.auth.transport.requests.Request())
    if not credentials.token or credentials.expiry is None:
        raise TokenError("Google returned no token or no expiry")
    # google-auth keeps expiry as a naive UTC time.
    return str(credentials.token), credentials.expiry.replace(tzinfo=UTC)


def mint(worker: Worker) -> tuple[str, datetime]:
    """A new token for `worker`'s API server and the time it expires."""
    federation = worker.federation
    if isinstance(federation, AwsFederation):
        return mint_eks(federation, f"multikueue-{worker.name}")
    if isinstance(federation, AzureFederation):
        return mint_aks(federation)
    return mint_gke(federation)


# --- the Secret -----------------------------------------------------------------------------------------


def kubeconfig(worker: Worker, token: str) -> str:
    """The kubeconfig MultiKueue accepts: the server, its CA as data, a static token, nothing else. JSON,
    which is YAML, so that the next run can read back what it wrote."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": worker.name,
                "cluster": {"server": worker.server, "certificate-authority-data": worker.ca_data},
            }
        ],
        "users": [{"name": worker.name, "user": {"token": token}}],
        "contexts": [{"name": worker.name, "context": {"cluster": worker.name, "user": worker.name}}],
        "current-context": worker.name,
    }
    return json.dumps(config, indent=2) + "\n"


class KubeError(Exception):
    """A Kubernetes API call that failed; the message names the call and the object."""


@dataclass(frozen=True)
class KubeApi:
    """The in-cluster API server, spoken to with the standard library and the pod's service account."""

    server: str = KUBE_API
    token_file: str = KUBE_TOKEN_FILE
    ca_file: str = KUBE_CA_FILE
    timeout: float = 15.0

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
            token = Path(self.token_file).read_text(encoding="utf-8").strip()  # rotated by the kubelet
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise KubeError(f"{what}: cannot read the pod's service-account token or CA: {exc}") from None
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/merge-patch+json"
        request = urllib.request.Request(self.server + path, data=data, headers=headers, method=method)
        # No proxy: the API server is in-cluster, whatever HTTPS_PROXY the pod has for the clouds.
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
    return _one_line(message or str(exc.reason))


def write_token(
    api: KubeApi,
    namespace: str,
    worker: Worker,
    token: str,
    expires_at: datetime,
    *,
    resource_version: str | None = None,
) -> None:
    """Put `token` into the worker's Secret, with its expiry, in one merge patch. With `resource_version`
    (of the Secret as read) the patch is conditional: a change made since is refused, not overwritten."""
    metadata: dict[str, Any] = {"annotations": {EXPIRY_ANNOTATION: format_expiry(expires_at)}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    encoded = base64.b64encode(kubeconfig(worker, token).encode()).decode()
    api.patch_secret(namespace, worker.secret, {"metadata": metadata, "data": {SECRET_KEY: encoded}})


# --- the command ----------------------------------------------------------------------------------------


def run(cfg: RefreshWorkersConfig) -> None:
    workers = load_workers(cfg.workers_file)
    margin = refresh_margin(cfg.interval_minutes)
    if margin >= EKS_TOKEN_VALIDITY and any(w.cloud == "aws" for w in workers.workers):
        raise UsageError(
            f"--interval-minutes {cfg.interval_minutes}: EKS tokens last {_span(EKS_TOKEN_VALIDITY)}, less "
            f"than the refresh margin of {_span(margin)} (twice the interval and a minute); allowed with an "
            "aws worker: at most 6"
        )
    api = KubeApi(cfg.kube_api.rstrip("/"), cfg.kube_token_file, cfg.kube_ca_file)
    failed = [
        worker.name for worker in workers.workers if not refresh_one(api, workers.namespace, worker, margin)
    ]
    if failed:
        raise PartialFailure(f"not refreshed: {', '.join(failed)} (see above); the next run retries")


def refresh_one(
    api: KubeApi, namespace: str, worker: Worker, margin: timedelta, now: Callable[[], datetime] = _now
) -> bool:
    """Refresh one worker's Secret if its token is due; False (after one stderr line) if that failed."""
    label = f"worker {worker.name} (Secret {namespace}/{worker.secret})"
    try:
        secret = api.get_secret(namespace, worker.secret)
        expires_at, reason = recorded_expiry(secret, worker)
        started = now()
        if expires_at is not None and not needs_refresh(expires_at, started, margin):
            print(f"{label}: still valid, {_span(expires_at - started)} left", flush=True)
            return True
        if expires_at is not None:
            reason = f"{_span(expires_at - started)} left, under the margin of {_span(margin)}"
        token, valid_until = mint(worker)
        new_expiry = replace_by(valid_until, now(), margin)
        version = (secret.get("metadata") or {}).get("resourceVersion")
        write_token(api, namespace, worker, token, new_expiry, resource_version=version)
    except KubeError as exc:
        return _failed(label, str(exc))
    except Exception as exc:  # any cloud library's error: the other workers must still be refreshed
        return _failed(label, f"no token from {worker.cloud}: {_describe(exc)}")
    print(f"{label}: refreshed ({reason}), token valid until {format_expiry(new_expiry)}", flush=True)
    return True


def _failed(label: str, message: str) -> bool:
    print(f"{_PREFIX}: error: {label}: {message}", file=sys.stderr, flush=True)
    return False


def _describe(exc: BaseException) -> str:
    text = _one_line(str(exc))
    return text if isinstance(exc, TokenError) else f"{type(exc).__name__}: {text}"


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
