"""Keyless trust for a workload of another cloud's cluster (the home cloud's replicator): a user-assigned
identity whose one federated credential trusts that cluster's token issuer for exactly its service
account, with a custom role of blob data actions only on the container, limited by an ABAC condition to
its prefix.

Not Storage Blob Data Contributor: besides its blob data actions that role carries the management actions
`containers/delete`, `containers/write` and `containers/read` (and `generateUserDelegationKey`), and
Azure Storage supports role assignment conditions on data actions only, "not for management Actions
through the Storage resource provider". With it a foreign token could delete the whole container through
ARM, whatever the condition says. The custom role grants exactly the blob data actions the condition
gates by path (`READ_WRITE_ACTIONS`) and no action at all.
Sources: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage,
https://learn.microsoft.com/azure/storage/blobs/storage-auth-abac

The pod presents a projected service-account token of audience `api://AzureADTokenExchange`;
azure-identity's `WorkloadIdentityCredential` exchanges it at Entra ID for the identity's token, reading
the file again as the kubelet renews it. The storage account's firewall admits the home cluster's NAT
addresses (`storage.py`), or it would refuse the writes before authorization.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from infra.clouds.azure.context import CLOUD, AzureContext, CustomRole, Grant, assign
from infra.clouds.azure.identity import TOKEN_AUDIENCE, data_role, federated_identity, read_write_under
from infra.clouds.base import FederatedAccess, ForeignWorkload, token_path

AUTHORITY = "https://login.microsoftonline.com/"
"""Entra ID's public-cloud authority, where the token exchange happens."""


def trusted_identity(
    name: str, context: AzureContext, workload: ForeignWorkload, component: str, parent: pulumi.Resource
) -> tuple[managedidentity.UserAssignedIdentity, managedidentity.FederatedIdentityCredential]:
    """A user-assigned identity of its own for `workload`, and the one federated credential that trusts
    the foreign issuer for exactly its service account.

    Nothing here is one per issuer: a credential belongs to its identity, and Entra asks only that the
    issuer and subject pair be unique on that identity (at most 20 credentials each), so the replicator's
    and the refresher's identities each trust the same issuer with their own credential.
    Source: https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations
    """
    return federated_identity(
        context,
        name=f"{name}-identity",
        credential=f"{name}-credential",
        credential_name=f"{workload.cloud}-{workload.namespace}-{workload.service_account}",
        issuer=workload.issuer,
        subject=workload.subject,
        component=component,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True, kw_only=True)
class FederatedTrustArgs:
    """The foreign workload to trust, and the container (in its account) it may use a prefix of."""

    context: AzureContext
    workload: ForeignWorkload
    container_id: pulumi.Input[str]
    account_name: pulumi.Input[str]


class FederatedTrust(pulumi.ComponentResource):
    """The Azure side of one foreign workload's federation; `access` is what its pod needs."""

    access: FederatedAccess

    def __init__(self, name: str, args: FederatedTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:azure:FederatedTrust", name, None, opts)
        context, workload = args.context, args.workload
        child = pulumi.ResourceOptions(parent=self)
        identity, credential = trusted_identity(name, context, workload, "federation", self)
        role = CustomRole(
            data_role(f"{name}-role", context, workload.cloud, child),
            f"blob data of the {workload.cloud} cluster's replicator (custom role)",
        )
        grant = Grant(
            role,
            identity.principal_id,
            args.container_id,
            condition=read_write_under(workload.prefix),
        )
        assignment = assign(f"{name}-storage", context, grant, self)
        self.access = FederatedAccess(
            audience=TOKEN_AUDIENCE,
            env={
                "AZURE_CLIENT_ID": identity.client_id,
                "AZURE_TENANT_ID": identity.tenant_id,
                "AZURE_FEDERATED_TOKEN_FILE": token_path(CLOUD),
                "AZURE_AUTHORITY_HOST": AUTHORITY,
                # DefaultAzureCredential tries this one alone: no probe of the home cloud's metadata server.
                "AZURE_TOKEN_CREDENTIALS": "WorkloadIdentityCredential",
                # adlfs reads the account here, and with anon off takes DefaultAzureCredential.
                "AZURE_STORAGE_ACCOUNT_NAME": args.account_name,
                "AZURE_STORAGE_ANON": "false",
            },
            # Entra refuses the exchange until the credential exists, Storage the writes until the assignment
            # (which itself waits for its role's definition).
            ready=(credential, assignment),
        )
        self.register_outputs({"clientId": identity.client_id, "principalId": identity.principal_id})
