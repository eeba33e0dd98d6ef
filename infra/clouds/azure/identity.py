"""Workload identity: one user-assigned identity per workload role, trusted only for its own Kubernetes
service account through a federated credential on the cluster's OIDC issuer (ID-05), with Azure RBAC on
the bucket's container, never wider (ID-06).

The trainer reads and writes the container. Serving may only read, and only under `models/`: an Azure
ABAC condition on the Storage Blob Data Reader assignment limits both blob reads (by path) and listings
(by prefix). See https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac-examples
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from infra.clouds.azure.context import AzureContext, BuiltInRole, Grant, assign
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, IdentityBinding, WorkloadRole

TOKEN_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"
ROLES: dict[WorkloadRole, BuiltInRole] = {
    "trainer": "Storage Blob Data Contributor",
    "serving": "Storage Blob Data Reader",
    "replicator": "Storage Blob Data Reader",  # it writes other clouds' buckets, never this one
}
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_WRITES = ("write", "add/action", "delete")
READ_WRITE_ACTIONS: tuple[str, ...] = tuple(f"{BLOBS}/{action}" for action in ("read", *_WRITES))
"""The blob data actions `read_write_under` gates: every one is allowed only under its prefix."""


def _under(prefix: str, *writes: str) -> str:
    """An ABAC condition: blob reads, and the `writes` data actions, only at paths under `prefix`; listings
    only of prefixes under it (the container's root cannot be listed)."""
    read = f"ActionMatches{{'{BLOBS}/read'}}"
    gated = " AND ".join(
        [f"!({read} AND NOT SubOperationMatches{{'Blob.List'}})"]
        + [f"!(ActionMatches{{'{BLOBS}/{action}'}})" for action in writes]
    )
    return (
        f"(({gated})"
        f" OR (@Resource[{BLOBS}:path] StringStartsWith '{prefix}'))"
        f" AND ((!({read} AND SubOperationMatches{{'Blob.List'}}))"
        f" OR (@Request[{BLOBS}:prefix] StringStartsWith '{prefix}'))"
    )


def read_only_under(prefix: str) -> str:
    """Blob reads only at paths, and listings only of prefixes, under `prefix`."""
    return _under(prefix)


def read_write_under(prefix: str) -> str:
    """Blob reads, writes (`write`, `add/action`) and deletes only at paths under `prefix`, and listings
    only of prefixes under it: the data actions of Storage Blob Data Contributor but `move/action`, which
    only accounts with a hierarchical namespace serve."""
    return _under(prefix, *_WRITES)


CONDITIONS: dict[WorkloadRole, str] = {
    "serving": read_only_under(MODELS_PREFIX),
    "replicator": read_only_under(MODELS_PREFIX),
}


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    """Who trusts the workload identities (the cluster's OIDC issuer, for the stack's namespace) and what they
    are granted on (the bucket's container)."""

    context: AzureContext
    namespace: str
    oidc_issuer_url: pulumi.Input[str]
    container_id: pulumi.Input[str]
    account_name: pulumi.Input[str]


class WorkloadIdentity(pulumi.ComponentResource):
    bindings: dict[WorkloadRole, IdentityBinding]

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gpu-platform:azure:WorkloadIdentity", name, None, opts)
        self._name, self._args = name, args
        self.bindings = {role: self._bind(role, sa) for role, sa in SERVICE_ACCOUNTS.items()}
        self.register_outputs(
            {role: b.annotations[CLIENT_ID_ANNOTATION] for role, b in self.bindings.items()}
        )

    def _bind(self, role: WorkloadRole, service_account: str) -> IdentityBinding:
        a, child = self._args, pulumi.ResourceOptions(parent=self)
        uai = managedidentity.UserAssignedIdentity(
            f"{self._name}-{role}",
            resource_name_=f"{self._name}-{role}",
            resource_group_name=a.context.resource_group_name,
            location=a.context.location,
            tags=a.context.tags("identity"),
            opts=child,
        )
        federation = managedidentity.FederatedIdentityCredential(
            f"{self._name}-{role}-federation",
            federated_identity_credential_resource_name=f"{a.namespace}-{service_account}",
            resource_name_=uai.name,
            resource_group_name=a.context.resource_group_name,
            issuer=a.oidc_issuer_url,
            subject=f"system:serviceaccount:{a.namespace}:{service_account}",
            audiences=[TOKEN_AUDIENCE],
            opts=child,
        )
        grant = Grant(ROLES[role], uai.principal_id, a.container_id, condition=CONDITIONS.get(role))
        storage = assign(f"{self._name}-{role}-storage", a.context, grant, self)
        return IdentityBinding(
            service_account=service_account,
            annotations={CLIENT_ID_ANNOTATION: uai.client_id},
            pod_labels={USE_LABEL: "true"},
            # Entra ID refuses the pod's token exchange until the federated credential exists.
            ready=(federation, storage),
        )
