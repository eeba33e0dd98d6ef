"""Keyless sign-in to the AKS API server for a workload of another cloud's cluster (MultiKueue's token
refresher): a user-assigned identity of its own whose one federated credential trusts that cluster's
issuer for exactly the refresher's service account, and no Azure role at all.

The refresher exchanges its projected token (audience `api://AzureADTokenExchange`) at Entra ID for the
identity's token of scope `6dae42f8-4368-4678-94ff-3960e28e3630/.default`, the AKS server application
(`kubeconfig.AKS_SERVER_ID`), which it sends to the API server as a bearer token. The cluster's Entra ID
authentication takes an app-only token's `oid` as the username when it has no `upn`, so Kubernetes RBAC
sees the identity's object id (its principal id): a ClusterRoleBinding names it as a `User`.
Sources: https://github.com/kubeguard/guard (auth/providers/azure/azure.go: `upn`, else `oid`);
https://azure.github.io/kubelogin/topics/sp.html ("the user in rolebinding should be the SP's Object ID")

Kubernetes RBAC authorizes it although the cluster has Azure RBAC for Kubernetes authorization on: AKS
lets both models grant on one cluster, Entra principals included.
Sources: https://learn.microsoft.com/azure/aks/concepts-cluster-authorization ("You can use both models
on the same cluster"); https://learn.microsoft.com/azure/aks/entra-id-authorization (Entra users,
groups or service principals as Kubernetes RBAC subjects; role assignments and "any Kubernetes RBAC
bindings" managed separately)

So the identity gets no Azure role: not Azure Kubernetes Service Cluster User Role, which grants only
`listClusterUserCredential` (downloading the kubeconfig, which the refresher never does), and no AKS RBAC
data role, which would grant in every namespace what the ClusterRole grants exactly.
Source: https://learn.microsoft.com/azure/aks/control-kubeconfig-access
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.clouds.azure.context import CLOUD, AzureContext
from infra.clouds.azure.federation import trusted_identity
from infra.clouds.azure.identity import TOKEN_AUDIENCE
from infra.clouds.base import ApiAccess, ForeignWorkload, RbacSubject, token_path


@dataclass(frozen=True, kw_only=True)
class ApiTrustArgs:
    """The foreign workload to trust, and the API server it signs in to."""

    context: AzureContext
    workload: ForeignWorkload
    server: pulumi.Output[str]
    ca_data: pulumi.Output[str]


class ApiTrust(pulumi.ComponentResource):
    """The Azure side of one foreign workload's sign-in to the cluster; `access` is what it needs."""

    access: ApiAccess

    def __init__(self, name: str, args: ApiTrustArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:azure:ApiTrust", name, None, opts)
        identity, credential = trusted_identity(name, args.context, args.workload, "api-access", self)
        self.access = ApiAccess(
            server=args.server,
            ca_data=args.ca_data,
            audience=TOKEN_AUDIENCE,
            token={
                "tenantId": identity.tenant_id,
                "clientId": identity.client_id,
                "tokenPath": token_path(CLOUD),
            },
            subject=RbacSubject(kind="User", name=identity.principal_id),
            # Entra refuses the exchange until the credential exists; nothing on Azure's side grants more.
            ready=(credential,),
        )
        self.register_outputs({"clientId": identity.client_id, "principalId": identity.principal_id})
