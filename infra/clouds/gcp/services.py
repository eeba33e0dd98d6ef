"""The project APIs the platform calls, enabled before any resource that needs them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "storage.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
    # Workload identity exchanges the pod's token for the GSA's through the credentials API.
    "iamcredentials.googleapis.com",
    # Another cloud's replicator exchanges its cluster's token for a federated one at the STS API.
    "sts.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "binaryauthorization.googleapis.com",
)
"""`serviceusage` and `cloudresourcemanager` are prerequisites (docs/gcp.md): enabling APIs needs them."""


@dataclass(frozen=True, kw_only=True)
class ProjectServicesArgs:
    """The project whose APIs are enabled."""

    project: str


class ProjectServices(pulumi.ComponentResource):
    """Enables each API; never disables one on destroy, since other workloads in the project (and the
    project's own default resources) may rely on it, and disabling `container` deletes every cluster."""

    def __init__(self, name: str, args: ProjectServicesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:ProjectServices", name, None, opts)
        self.by_api = {
            api.split(".")[0]: gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in APIS
        }
        self.services = list(self.by_api.values())
        self.register_outputs({"services": [s.service for s in self.services]})

    def apis(self, *names: str) -> list[gcp.projects.Service]:
        """The services a component needs, by short name (`compute`, `container`...): each component
        waits for its own APIs only, so a bucket never waits for the container API, say."""
        unknown = [n for n in names if n not in self.by_api]
        if unknown:
            raise KeyError(f"unknown APIs {unknown}; enabled here: {', '.join(self.by_api)}")
        return [self.by_api[n] for n in names]
