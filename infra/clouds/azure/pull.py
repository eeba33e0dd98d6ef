"""Pull access to the trainer repository for a workload of the cluster that hands short-lived, read-only
credentials to clusters of other clouds (MultiKueue's token refresher: the workers run the manager's Jobs
unchanged, so they pull the trainer image from here).

A user-assigned identity of its own, whose one federated credential trusts the cluster's OIDC issuer for
exactly that service account (as `identity.py` does for the workload roles), with AcrPull on the registry.
The pod exchanges its projected token at Entra ID for the identity's token, and that at the registry's
`/oauth2/exchange` for an ACR refresh token (`acr_token.py`), which it hands out as the password of the
all-zero user; the registry accepts it only for what the identity may do, pulls.

On the registry, not the repository: a condition that limits a role assignment to one repository is
honored only in the registry's "RBAC Registry + ABAC Repository Permissions" mode, with the ABAC-enabled
roles (Container Registry Repository Reader), and AcrPull is not honored there at all. The registry
(`registry.py`) keeps the default mode, RBAC Registry Permissions, where a condition would not narrow
AcrPull, so the identity may pull any repository of the stack's registry, and do nothing else.
Source: https://learn.microsoft.com/azure/container-registry/container-registry-rbac-abac-repository-permissions
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.clouds.azure.context import AzureContext, Grant, assign
from infra.clouds.azure.identity import CLIENT_ID_ANNOTATION, USE_LABEL, federated_identity
from infra.clouds.base import IdentityBinding, RegistryPull


@dataclass(frozen=True, kw_only=True)
class RegistryPullerArgs:
    """The workload to trust, the issuer of its cluster, and the registry it may pull from."""

    context: AzureContext
    namespace: str
    service_account: str
    oidc_issuer_url: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    login_server: pulumi.Output[str]


class RegistryPuller(pulumi.ComponentResource):
    """The puller's identity, its one federated credential and its AcrPull; `pull` is what it needs."""

    pull: RegistryPull

    def __init__(self, name: str, args: RegistryPullerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:azure:RegistryPuller", name, None, opts)
        context, child = args.context, pulumi.ResourceOptions(parent=self)
        ns, sa = args.namespace, args.service_account
        identity, credential = federated_identity(
            context,
            name=f"{name}-identity",
            credential=f"{name}-federation",
            credential_name=f"{ns}-{sa}",
            issuer=args.oidc_issuer_url,
            subject=f"system:serviceaccount:{ns}:{sa}",
            component="registry",
            opts=child,
        )
        grant = assign(
            f"{name}-acr-pull", context, Grant("AcrPull", identity.principal_id, args.registry_id), self
        )
        self.pull = RegistryPull(
            host=args.login_server,
            token={
                "tenantId": identity.tenant_id,
                "clientId": identity.client_id,
                "loginServer": args.login_server,
            },
            binding=IdentityBinding(
                service_account=sa,
                annotations={CLIENT_ID_ANNOTATION: identity.client_id},
                pod_labels={USE_LABEL: "true"},
                # Entra refuses the exchange until the credential exists, the registry the pulls until the
                # assignment does.
                ready=(credential, grant),
            ),
        )
        self.register_outputs({"clientId": identity.client_id, "principalId": identity.principal_id})
