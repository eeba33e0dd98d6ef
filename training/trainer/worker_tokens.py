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

The workers file (`--workers-file`, a ConfigMap the Pulumi program writes) is described in `workers_file`;
with a `registry` there, the same run also keeps a registry pull Secret in each worker (`pull_secrets`).

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
one stderr line naming it, the others are still refreshed, and the command exits with status 1. So are
pull Secrets: one that cannot be read or written is reported on one line naming the worker and the
namespace; a registry credential that cannot be minted is reported once, naming every pull Secret left
unwritten, and the kubeconfigs are refreshed all the same. The kubeconfig Secrets are read and
merge-patched through the in-cluster API server with the pod's own service-account token, which needs
`get` and `patch` on exactly those Secrets (`kube_api`).
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session
import google.auth.transport.requests
from azure.identity import WorkloadIdentityCredential
from botocore import UNSIGNED
from botocore.config import Config
from google.auth import identity_pool

from trainer import token_timing as timing
from trainer.config import RefreshWorkersConfig
from trainer.errors import PartialFailure, UsageError, one_line
from trainer.kube_api import KubeApi, KubeError
from trainer.pull_secrets import MintFailed, OnceCredential, refresh_pull_secret
from trainer.registry_tokens import mint_registry
from trainer.token_timing import EXPIRY_ANNOTATION, TokenError, format_expiry, parse_expiry, span
from trainer.workers_file import (
    AwsFederation,
    AzureFederation,
    GcpFederation,
    Registry,
    Worker,
    WorkersFile,
    load_workers,
)

if TYPE_CHECKING:
    from types_boto3_sts import STSClient

_PREFIX = "trainer refresh-workers"
SECRET_KEY = "kubeconfig"
"""The Secret key MultiKueue reads the kubeconfig from."""

EKS_TOKEN_PREFIX = "k8s-aws-v1."
EKS_CLUSTER_HEADER = "x-k8s-aws-id"
EKS_TOKEN_VALIDITY = timedelta(minutes=14)
"""STS accepts the signed URL for 15 minutes after X-Amz-Date; aws-cli reports 14, a minute to spare."""
EKS_SESSION_SECONDS = 900
AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
"""The AKS server application's id, the same for every managed Entra ID cluster."""
GCP_SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
)
GCP_TOKEN_LIFETIME_SECONDS = 3600
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"


# --- the kubeconfig Secret's state ----------------------------------------------------------------------


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


def _kept_token(secret: Mapping[str, Any]) -> str:
    """The token in a kubeconfig Secret that `recorded_expiry` found still valid."""
    current = json.loads(base64.b64decode(secret["data"][SECRET_KEY]))
    return str(current["users"][0]["user"]["token"])


# --- tokens ---------------------------------------------------------------------------------------------


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


# --- the command ----------------------------------------------------------------------------------------


def run(cfg: RefreshWorkersConfig) -> None:
    workers = load_workers(cfg.workers_file)
    margin = timing.refresh_margin(cfg.interval_minutes)
    if margin >= EKS_TOKEN_VALIDITY and any(w.cloud == "aws" for w in workers.workers):
        raise UsageError(
            f"--interval-minutes {cfg.interval_minutes}: EKS tokens last {span(EKS_TOKEN_VALIDITY)}, less "
            f"than the refresh margin of {span(margin)} (twice the interval and a minute); allowed with an "
            "aws worker: at most 6"
        )
    api = KubeApi.in_cluster(cfg.kube_api.rstrip("/"), cfg.kube_token_file, cfg.kube_ca_file)
    failed = refresh_all(api, workers, margin)
    if failed:
        raise PartialFailure(f"not refreshed: {', '.join(failed)} (see above); the next run retries")


def refresh_all(
    api: KubeApi, workers: WorkersFile, margin: timedelta, now: Callable[[], datetime] = timing.now
) -> list[str]:
    """Every worker's kubeconfig Secret, then its pull Secrets; what failed (each reported above)."""
    registry = workers.registry
    credential = (
        OnceCredential(lambda: mint_registry(registry), margin, now) if registry is not None else None
    )
    failed: list[str] = []
    unminted: list[str] = []
    for worker in workers.workers:
        token = refresh_one(api, workers.namespace, worker, margin, now)
        if token is None:
            failed.append(worker.name)
        if registry is None or credential is None:
            continue
        for namespace in registry.namespaces:
            where = f"{worker.name}/{namespace}"
            label = f"worker {worker.name} (pull Secret {namespace}/{registry.secret})"
            if token is None:
                _failed(label, "no valid API token for the worker (see above)")
                failed.append(where)
                continue
            worker_api = KubeApi.with_token(worker.server, worker.ca_data, token)
            try:
                done = refresh_pull_secret(worker_api, namespace, registry, credential, margin=margin)
            except MintFailed:
                unminted.append(where)
                continue
            except KubeError as exc:
                _failed(label, str(exc))
                failed.append(where)
                continue
            print(f"{label}: {done}", flush=True)
    if registry is not None and credential is not None and credential.error is not None:
        _failed(
            _registry_label(registry),
            f"no pull credential from {registry.cloud}: {_describe(credential.error)}; not written: "
            f"{', '.join(unminted)}",
        )
        failed.extend(unminted)
    return failed


def _registry_label(registry: Registry) -> str:
    return f"registry {registry.host} (pull Secrets {registry.secret})"


def refresh_one(
    api: KubeApi, namespace: str, worker: Worker, margin: timedelta, now: Callable[[], datetime] = timing.now
) -> str | None:
    """Refresh one worker's Secret if its token is due; the token valid there now, or None (after one
    stderr line) if that failed."""
    label = f"worker {worker.name} (Secret {namespace}/{worker.secret})"
    try:
        secret = api.get_secret(namespace, worker.secret)
        expires_at, reason = recorded_expiry(secret, worker)
        started = now()
        if expires_at is not None and not timing.needs_refresh(expires_at, started, margin):
            kept = _kept_token(secret)
            print(f"{label}: still valid, {span(expires_at - started)} left", flush=True)
            return kept
        if expires_at is not None:
            reason = f"{span(expires_at - started)} left, under the margin of {span(margin)}"
        token, valid_until = mint(worker)
        new_expiry = timing.replace_by(valid_until, now(), margin)
        version = (secret.get("metadata") or {}).get("resourceVersion")
        write_token(api, namespace, worker, token, new_expiry, resource_version=version)
    except KubeError as exc:
        _failed(label, str(exc))
        return None
    except Exception as exc:  # any cloud library's error: the other workers must still be refreshed
        _failed(label, f"no token from {worker.cloud}: {_describe(exc)}")
        return None
    print(f"{label}: refreshed ({reason}), token valid until {format_expiry(new_expiry)}", flush=True)
    return token


def _failed(label: str, message: str) -> None:
    print(f"{_PREFIX}: error: {label}: {message}", file=sys.stderr, flush=True)


def _describe(exc: BaseException) -> str:
    text = one_line(str(exc))
    return text if isinstance(exc, TokenError) else f"{type(exc).__name__}: {text}"
