"""GCP facts with Google's discovery clients (google-api-python-client) and Application Default
Credentials (google-auth), the credentials the gcp provider and the kubeconfig use.

Every call is a read: Cloud Resource Manager projects.get, GKE getServerConfig, Compute regions.get,
projects.get and acceleratorTypes.list, Cloud Storage buckets.get, Service Usage services.get. With
`PREFLIGHT_GCP_ENDPOINT` set, every API is called under that root instead of `https://<api>.googleapis.com`
(each client's `client_options` endpoint), which is how the tests point them at a local server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any

import google.auth
import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
from google.auth.transport.requests import Request
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from infra.config import StackConfig
from infra.config.gcp import GcpConfig
from preflight.checks.gcp import PREREQUISITE_APIS, pool_zones
from preflight.facts import GcpFacts, GcpProject, Name, Quota
from preflight.fetch import LoginError, attempt, first_line
from preflight.pools import gpu_machines

ENDPOINT_ENV = "PREFLIGHT_GCP_ENDPOINT"
APIS = {
    "cloudresourcemanager": ("v1", ""),
    "compute": ("v1", "compute/v1/"),
    "container": ("v1", ""),
    "serviceusage": ("v1", ""),
    "storage": ("v1", "storage/v1/"),
}
"""API -> (version, its service path under the root), as in each API's discovery document."""
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
LOGIN_HINT = "run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS"
ERRORS = (HttpError, GoogleAuthError, httplib2.HttpLib2Error, OSError)


@dataclass(frozen=True)
class GcpLogin:
    credentials: Credentials
    principal: str


def login() -> GcpLogin:
    """Application Default Credentials, proven by fetching an access token."""
    try:
        credentials, _ = google.auth.default(scopes=[SCOPE])
    except DefaultCredentialsError:
        raise LoginError("gcp", f"no credentials found: {LOGIN_HINT}") from None
    try:
        credentials.refresh(Request())  # type: ignore[no-untyped-call]  # google-auth leaves it untyped
    except (GoogleAuthError, OSError) as exc:
        raise LoginError("gcp", f"credentials refused ({first_line(str(exc))}): {LOGIN_HINT}") from None
    return GcpLogin(credentials, _principal(credentials))


def _principal(credentials: Credentials) -> str:
    """A service account's email, or the account a person's ADC file names."""
    for attribute in ("service_account_email", "account"):
        value = getattr(credentials, attribute, None)
        if isinstance(value, str) and value:
            return value
    return "(not named by the credentials)"


def client(api: str, credentials: Credentials) -> Any:
    version, path = APIS[api]
    root = os.environ.get(ENDPOINT_ENV)
    options = {"api_endpoint": f"{root.rstrip('/')}/{path}"} if root else None
    return discovery.build(
        api,
        version,
        credentials=credentials,
        client_options=options,
        cache_discovery=False,
        static_discovery=True,
    )


def describe(exc: Exception) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.status_code}: {exc.reason}"
    return str(exc)


def fetch(login: GcpLogin, cfg: StackConfig) -> GcpFacts:
    gcp = cfg.gcp
    if gcp is None:
        raise ValueError("the stack does not enable gcp")
    crm, container, compute, storage, usage = (
        client(api, login.credentials)
        for api in ("cloudresourcemanager", "container", "compute", "storage", "serviceusage")
    )
    p = gcp.project
    project = attempt(partial(_project, crm, p), "resourcemanager.projects.get", ERRORS, describe)
    number = project.number if isinstance(project, GcpProject) else None
    zones = dict.fromkeys(z for m in gpu_machines(cfg, "gcp") for z in pool_zones(m, gcp))
    return GcpFacts(
        principal=login.principal,
        project=project,
        channel_versions=attempt(
            partial(_channel_versions, container, gcp), "roles/container.viewer", ERRORS, describe
        ),
        quotas=attempt(
            partial(_region_quotas, compute, p, gcp.region), "compute.regions.get", ERRORS, describe
        ),
        project_quotas=attempt(
            partial(_project_quotas, compute, p), "compute.projects.get", ERRORS, describe
        ),
        accelerators={
            z: attempt(
                partial(_accelerators, compute, p, z), "compute.acceleratorTypes.list", ERRORS, describe
            )
            for z in zones
        },
        bucket=attempt(
            partial(_bucket, storage, gcp.bucket_name, number), "storage.buckets.get", ERRORS, describe
        ),
        services={
            api: attempt(partial(_enabled, usage, p, api), "serviceusage.services.get", ERRORS, describe)
            for api in PREREQUISITE_APIS
        },
    )


def _project(crm: Any, project: str) -> GcpProject:
    found = crm.projects().get(projectId=project).execute()
    return GcpProject(str(found.get("projectNumber", "")), str(found.get("lifecycleState", "")))


def _channel_versions(container: Any, gcp: GcpConfig) -> tuple[str, ...]:
    name = f"projects/{gcp.project}/locations/{gcp.cluster_zone or gcp.region}"
    config = container.projects().locations().getServerConfig(name=name).execute()
    channels: list[dict[str, Any]] = config.get("channels", [])
    channel = next((c for c in channels if c.get("channel") == gcp.release_channel), {})
    return tuple(channel.get("validVersions", []))


def _quotas(resource: dict[str, Any]) -> dict[str, Quota]:
    return {
        q["metric"]: Quota(float(q.get("limit", 0)), float(q.get("usage", 0)))
        for q in resource.get("quotas", [])
    }


def _region_quotas(compute: Any, project: str, region: str) -> dict[str, Quota]:
    return _quotas(compute.regions().get(project=project, region=region).execute())


def _project_quotas(compute: Any, project: str) -> dict[str, Quota]:
    return _quotas(compute.projects().get(project=project).execute())


def _accelerators(compute: Any, project: str, zone: str) -> frozenset[str]:
    names: set[str] = set()
    request = compute.acceleratorTypes().list(project=project, zone=zone)
    while request is not None:
        response = request.execute()
        names |= {a["name"] for a in response.get("items", [])}
        request = compute.acceleratorTypes().list_next(request, response)
    return frozenset(names)


def _bucket(storage: Any, name: str, our_number: str | None) -> Name:
    """buckets.get: 404 free, 403 someone else's, 200 ours when it is in the stack's project."""
    try:
        bucket = storage.buckets().get(bucket=name).execute()
    except HttpError as exc:
        if exc.status_code == 404:
            return Name("free")
        if exc.status_code == 403:
            return Name("taken", "buckets.get answers 403")
        raise
    number = str(bucket.get("projectNumber", ""))
    if number == our_number:
        return Name("ours", f"in project {number}")
    return Name("taken", f"readable, but in project {number}")


def _enabled(usage: Any, project: str, api: str) -> bool:
    try:
        service = usage.services().get(name=f"projects/{project}/services/{api}").execute()
    except HttpError as exc:
        if _disabled_service(exc) == api:  # Service Usage answers only once it is enabled itself
            return False
        raise
    return bool(service.get("state") == "ENABLED")


def _disabled_service(exc: HttpError) -> str | None:
    """The API a 403 SERVICE_DISABLED error names (google.rpc.ErrorInfo), if it is one."""
    details = exc.error_details if isinstance(exc.error_details, list) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("reason") == "SERVICE_DISABLED":
            return str(detail.get("metadata", {}).get("service", ""))
    return None
