"""A stand-in for the Google APIs preflight reads, and the OAuth token endpoint ADC refreshes against.

Every API lives under one root here (`PREFLIGHT_GCP_ENDPOINT`), each at its discovery service path, and
answers with the resource shapes of its REST reference. Requests must carry the token the token endpoint
handed out, as the real APIs require.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.preflight.standins import Handler, Reply, Request, Route

TOKEN = "ya29.stand-in-token"
PROJECT, NUMBER = "acme-gpu-platform-dev", "123456789012"
DEPLOYER = f"deployer@{PROJECT}.iam.gserviceaccount.com"


@functools.cache
def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


def key_file(directory: Path, token_uri: str) -> Path:
    """A service account key file (ADC's `service_account` type) whose token endpoint is the stand-in's.

    A person's ADC file (`authorized_user`) would not do: google-auth always sends its refresh to Google.
    """
    doc = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": _private_key(),
        "client_email": DEPLOYER,
        "client_id": "105000000000000000001",
        "token_uri": token_uri,
    }
    path = directory / "deployer-key.json"
    path.write_text(json.dumps(doc))
    return path


@dataclass
class GcpWorld:
    project_state: str = "ACTIVE"
    channels: dict[str, list[str]] = field(
        default_factory=lambda: {
            "REGULAR": ["1.35.5-gke.1080000", "1.35.4-gke.1350000", "1.34.9-gke.1010000"],
            "STABLE": ["1.34.9-gke.1010000"],
        }
    )
    quotas: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "NVIDIA_T4_GPUS": (4, 0),
            "PREEMPTIBLE_NVIDIA_T4_GPUS": (2, 0),
            "CPUS": (24, 2),
        }
    )
    """us-central1's quotas: metric -> (limit, usage)."""
    all_regions: float = 4
    accelerators: dict[str, list[str]] = field(
        default_factory=lambda: {"us-central1-a": ["nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100"]}
    )
    buckets: dict[str, str] = field(default_factory=dict)
    """Bucket -> its project number; any other bucket is missing, except `someone-elses-*` (403)."""
    services: dict[str, str] = field(
        default_factory=lambda: {
            "serviceusage.googleapis.com": "ENABLED",
            "cloudresourcemanager.googleapis.com": "ENABLED",
        }
    )


def _error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Reply:
    # The error model of Google APIs: cloud.google.com/apis/design/errors#http_mapping
    code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}[status]
    return Reply(
        {"error": {"code": status, "message": message, "status": code, "details": details or []}}, status
    )


def routes(world: GcpWorld) -> list[Route]:
    def token(request: Request) -> Reply:
        # The refresh-token grant's answer: developers.google.com/identity/protocols/oauth2/web-server#offline
        return Reply(
            {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer", "scope": "cloud-platform"}
        )

    def authorized(handler: Handler) -> Handler:
        def check(request: Request) -> Reply:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return _error(401, "Request had invalid authentication credentials.")
            return handler(request)

        return check

    def project(request: Request) -> Reply:
        # cloud.google.com/resource-manager/reference/rest/v1/projects#Project
        if request.match["p"] != PROJECT:
            return _error(403, "The caller does not have permission")
        body = {
            "projectNumber": NUMBER,
            "projectId": PROJECT,
            "lifecycleState": world.project_state,
            "name": "dev",
        }
        return Reply(body)

    def server_config(request: Request) -> Reply:
        # cloud.google.com/kubernetes-engine/docs/reference/rest/v1/ServerConfig
        channels = [
            {"channel": name, "defaultVersion": versions[0], "validVersions": versions}
            for name, versions in world.channels.items()
        ]
        return Reply({"defaultClusterVersion": "1.35.5-gke.1080000", "channels": channels})

    def quotas(metrics: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
        return [{"metric": m, "limit": limit, "usage": usage} for m, (limit, usage) in metrics.items()]

    def region(request: Request) -> Reply:
        # cloud.google.com/compute/docs/reference/rest/v1/regions (Region.quotas[])
        name = request.match["r"]
        return Reply({"kind": "compute#region", "name": name, "status": "UP", "quotas": quotas(world.quotas)})

    def compute_project(request: Request) -> Reply:
        # cloud.google.com/compute/docs/reference/rest/v1/projects (Project.quotas[])
        body = {
            "kind": "compute#project",
            "name": PROJECT,
            "quotas": quotas({"GPUS_ALL_REGIONS": (world.all_regions, 0)}),
        }
        return Reply(body)

    def accelerator_types(request: Request) -> Reply:
        # cloud.google.com/compute/docs/reference/rest/v1/acceleratorTypes/list (AcceleratorTypeList)
        zone = request.match["z"]
        items = [
            {
                "kind": "compute#acceleratorType",
                "name": n,
                "zone": f"projects/{PROJECT}/zones/{zone}",
                "maximumCardsPerInstance": 4,
            }
            for n in world.accelerators.get(zone, [])
        ]
        return Reply({"kind": "compute#acceleratorTypeList", "items": items})

    def bucket(request: Request) -> Reply:
        # cloud.google.com/storage/docs/json_api/v1/buckets/get: 404 for a missing bucket, 403 for one the
        # caller may not read (cloud.google.com/storage/docs/json_api/v1/status-codes)
        name = request.match["b"]
        if name.startswith("someone-elses-"):
            return _error(
                403,
                f"caller does not have storage.buckets.get access to the Google Cloud Storage bucket {name}.",
            )
        if name not in world.buckets:
            return _error(404, "The specified bucket does not exist.")
        return Reply(
            {
                "kind": "storage#bucket",
                "name": name,
                "projectNumber": world.buckets[name],
                "location": "US-CENTRAL1",
            }
        )

    def service(request: Request) -> Reply:
        # cloud.google.com/service-usage/docs/reference/rest/v1/services/get; with Service Usage itself off,
        # every call is a 403 with a google.rpc.ErrorInfo whose reason is SERVICE_DISABLED.
        if world.services.get("serviceusage.googleapis.com") != "ENABLED":
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {"service": "serviceusage.googleapis.com", "consumer": f"projects/{NUMBER}"},
            }
            return _error(
                403, "Service Usage API has not been used in project before or it is disabled.", [info]
            )
        name = request.match["s"]
        state = world.services.get(name, "DISABLED")
        return Reply(
            {"name": f"projects/{NUMBER}/services/{name}", "parent": f"projects/{NUMBER}", "state": state}
        )

    return [
        ("POST", "/token", token),
        ("GET", r"/v1/projects/(?P<p>[^/]+)", authorized(project)),
        ("GET", r"/v1/projects/(?P<p>[^/]+)/locations/(?P<l>[^/]+)/serverConfig", authorized(server_config)),
        ("GET", r"/compute/v1/projects/(?P<p>[^/]+)/regions/(?P<r>[^/]+)", authorized(region)),
        ("GET", r"/compute/v1/projects/(?P<p>[^/]+)", authorized(compute_project)),
        (
            "GET",
            r"/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/acceleratorTypes",
            authorized(accelerator_types),
        ),
        ("GET", r"/storage/v1/b/(?P<b>[^/]+)", authorized(bucket)),
        ("GET", r"/v1/projects/(?P<p>[^/]+)/services/(?P<s>[^/]+)", authorized(service)),
    ]
