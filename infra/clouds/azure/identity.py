"""Workload identity: one user-assigned identity per workload role, trusted only for its own Kubernetes
service account through a federated credential on the cluster's OIDC issuer (ID-05), with Azure RBAC on
the bucket's container, never wider (ID-06).

The trainer reads and writes the container. Serving may only read, and only under `models/`: an Azure
ABAC condition on the Storage Blob Data Reader assignment limits both blob reads (by path) and listings
(by prefix). The replicator reads and writes one model's prefix (a version another cloud exported is
copied in here too), through the custom role of blob data actions that other clouds' replicators get
(`data_role`): Storage Blob Data Contributor carries container management actions no condition limits.
See https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac-examples
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from infra import naming
from infra.clouds.azure.context import CLOUD, AzureContext, BuiltInRole, CustomRole, Grant, assign
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, IdentityBinding, WorkloadRole

TOKEN_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"
ROLES: dict[WorkloadRole, BuiltInRole] = {
    "trainer": "Storage Blob Data Contributor",
    "serving": "Storage Blob Data Reader",
}
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_WRITES = ("write", "add/action", "delete")
READ_WRITE_ACTIONS: tuple[str, ...] = tuple(f"{BLOBS}/{action}" for action in ("read", *_WRITES))
"""The blob data actions `read_write_under` gates: every one is allowed only under its prefix."""


def federated_identity(
    context: AzureContext,
    *,
    name: str,
    credential: str,
    credential_name: str,
    issuer: pulumi.Input[str],
    subject: str,
    component: str,
    opts: pulumi.ResourceOptions,
) -> tuple[managedidentity.UserAssignedIdentity, managedidentity.FederatedIdentityCredential]:
    """A user-assigned identity `name` of its own, and the one federated credential (`credential`, named
    `credential_name` on the identity) that trusts `issuer` for exactly `subject`: the issuer exactly as
    the tokens carry it (Entra compares it as a string), and the one audience Entra accepts for a federated
    credential."""
    identity = managedidentity.UserAssignedIdentity(
        name,
        resource_name_=name,
        resource_group_name=context.resource_group_name,
        location=context.location,
        tags=context.tags(component),
        opts=opts,
    )
    trust = managedidentity.FederatedIdentityCredential(
        credential,
        federated_identity_credential_resource_name=credential_name,
        resource_name_=identity.name,
        resource_group_name=context.resource_group_name,
        issuer=issuer,
        subject=subject,
        audiences=[TOKEN_AUDIENCE],
        opts=opts,
    )
    return identity, trust


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


CONDITIONS: dict[WorkloadRole, str] = {"serving": read_only_under(MODELS_PREFIX)}


def role_guid(group_id: str, cloud: str) -> str:
    """The custom role's GUID: a uuid5 of the resource group's ARM id and the replicator's cloud, the same on
    every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{group_id.lower()}/gpu-platform/replicator-from-{cloud}"))


def data_role(
    name: str, context: AzureContext, cloud: str, opts: pulumi.ResourceOptions
) -> authorization.RoleDefinition:
    """The custom role a replicator's identity gets, another cloud's (`cloud`) or this cluster's own: the
    blob data actions `read_write_under` limits to a prefix, and no management action. Defined and
    assignable in the stack's resource group only.

    Its id is a GUID of our own, derived from the resource group's id and the cloud, so that a definition
    left behind (a lost state) is updated in place by the next create rather than colliding with it: role
    names are unique in the Entra tenant, which is also why the name carries the resource group, the cloud
    and a hash of the subscription (resource group names repeat across subscriptions).
    """
    group = context.resource_group_id
    return authorization.RoleDefinition(
        name,
        role_definition_id=group.apply(lambda g: role_guid(g, cloud)),
        scope=group,
        assignable_scopes=[group],
        role_name=pulumi.Output.all(context.resource_group_name, context.subscription_id).apply(
            lambda a: f"gpu-platform replicator from {cloud} {a[0]} {naming.short_hash(a[1])}"
        ),
        description=(
            f"gpu-platform {context.stack}: blob reads, writes and deletes for the {cloud} cluster's "
            "replicator, kept to one prefix by its assignment's condition; no container management."
        ),
        role_type="CustomRole",
        permissions=[authorization.PermissionArgs(actions=[], data_actions=list(READ_WRITE_ACTIONS))],
        opts=opts,
    )


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    """Who trusts the workload identities (the cluster's OIDC issuer, for the stack's namespace) and what they
    are granted on (the bucket's container)."""

    context: AzureContext
    namespace: str
    oidc_issuer_url: pulumi.Input[str]
    container_id: pulumi.Input[str]
    account_name: pulumi.Input[str]
    replica_prefix: str
    """Where the replicator may write: `models/<model>/` of the one model it copies (`model_prefix`), as
    the other clouds grant it."""


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
        a = self._args
        uai, federation = federated_identity(
            a.context,
            name=f"{self._name}-{role}",
            credential=f"{self._name}-{role}-federation",
            credential_name=f"{a.namespace}-{service_account}",
            issuer=a.oidc_issuer_url,
            subject=f"system:serviceaccount:{a.namespace}:{service_account}",
            component="identity",
            opts=pulumi.ResourceOptions(parent=self),
        )
        grant = self._grant(role, uai.principal_id)
        storage = assign(f"{self._name}-{role}-storage", a.context, grant, self)
        return IdentityBinding(
            service_account=service_account,
            annotations={CLIENT_ID_ANNOTATION: uai.client_id},
            pod_labels={USE_LABEL: "true"},
            # Entra ID refuses the pod's token exchange until the federated credential exists.
            ready=(federation, storage),
        )

    def _grant(self, role: WorkloadRole, principal_id: pulumi.Input[str]) -> Grant:
        a = self._args
        if role != "replicator":
            return Grant(ROLES[role], principal_id, a.container_id, condition=CONDITIONS.get(role))
        definition = data_role(
            f"{self._name}-replicator-role", a.context, CLOUD, pulumi.ResourceOptions(parent=self)
        )
        custom = CustomRole(definition, "blob data of this cluster's replicator (custom role)")
        return Grant(custom, principal_id, a.container_id, condition=read_write_under(a.replica_prefix))
