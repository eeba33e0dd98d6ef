"""What every Azure component shares: where resources go (`AzureContext`), tags, and RBAC role assignments.

Role definition ids are Azure's built-in role GUIDs (stable across tenants), expanded to the
subscription-scoped id that `Microsoft.Authorization/roleAssignments` expects.
Source: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
A grant may instead name a custom role the stack defines (a `RoleDefinition`): a role definition is a
subscription-level resource wherever it is created, so its assignments name it by the same
subscription-scoped id, made from the definition's GUID (its `name`).
Source: https://learn.microsoft.com/azure/role-based-access-control/custom-roles
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_azure_native as azure_native

from infra import naming
from infra.catalog import Cloud
from infra.clouds.settle import settle

CLOUD: Cloud = "azure"


BuiltInRole = Literal[
    "AcrPull",
    "AcrPush",
    "Azure Kubernetes Service RBAC Cluster Admin",
    "Key Vault Contributor",
    "Key Vault Crypto Service Encryption User",
    "Key Vault Crypto User",
    "Managed Identity Operator",
    "Network Contributor",
    "Storage Blob Data Contributor",
    "Storage Blob Data Reader",
]
ROLE_IDS: dict[BuiltInRole, str] = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
}


@dataclass(frozen=True)
class CustomRole:
    """A role the stack defines, which a `Grant` may name instead of a built-in role; `label` says what it
    is in its assignments' descriptions."""

    definition: azure_native.authorization.RoleDefinition
    label: str


@dataclass(frozen=True, kw_only=True)
class AzureContext:
    """The resource group, location and subscription every Azure child resource lands in."""

    stack: str
    location: str
    resource_group_name: pulumi.Output[str]
    subscription_id: pulumi.Output[str]
    provider: azure_native.Provider

    def tags(self, component: str) -> dict[str, str]:
        return naming.tags(self.stack, CLOUD, component)

    @property
    def resource_group_id(self) -> pulumi.Output[str]:
        """The ARM id of the stack's resource group."""
        return pulumi.Output.concat(
            "/subscriptions/", self.subscription_id, "/resourceGroups/", self.resource_group_name
        )

    def role_definition_id(self, role: BuiltInRole | CustomRole) -> pulumi.Output[str]:
        """The subscription-scoped id of a built-in role, or of a custom role the stack defines (made from
        the definition's `name`, its GUID, so that the id depends on the definition)."""
        guid = pulumi.Output.from_input(
            role.definition.name if isinstance(role, CustomRole) else ROLE_IDS[role]
        )
        return pulumi.Output.concat(
            "/subscriptions/",
            self.subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            guid,
        )

    def invoke_opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(provider=self.provider, depends_on=list(depends_on))


@dataclass(frozen=True)
class Grant:
    """One role assignment: who (`principal_id`) gets `role` (built-in, or a custom role the stack defines)
    on exactly `on` (an ARM resource id)."""

    role: BuiltInRole | CustomRole
    principal_id: pulumi.Input[str]
    on: pulumi.Input[str]
    condition: str | None = None
    principal_type: pulumi.Input[str] = "ServicePrincipal"
    """ServicePrincipal for managed identities: ARM then skips the directory lookup that fails on a fresh
    identity. ARM refuses a type that does not match the principal (UnmatchedPrincipalType)."""


def principal_type(access_token: str) -> str:
    """`User` or `ServicePrincipal`, read from an Entra access token's claims: a delegated (user) token
    carries the `scp` claim, an app-only one (a service principal, a managed identity, a CI's federated
    identity) does not. The signature is not checked: the token is our own, fresh from the SDK."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ValueError(
            "the Azure access token is not a JWT; cannot tell the deployer's principal type"
        ) from exc
    return "User" if "scp" in claims else "ServicePrincipal"


@dataclass(frozen=True)
class Deployer:
    """The principal running `pulumi up`, which the program grants what the deployment itself needs."""

    object_id: pulumi.Output[str]
    principal_type: pulumi.Output[str]
    access_token: pulumi.Output[str]
    """Its current Entra token (ARM audience), a secret."""

    def grant(self, role: BuiltInRole, on: pulumi.Input[str]) -> Grant:
        return Grant(role, self.object_id, on, principal_type=self.principal_type)


def deployer(object_id: pulumi.Output[str], provider: azure_native.Provider) -> Deployer:
    """The caller (`getClientConfig`'s object id) with its token, from which its principal type comes."""
    opts = pulumi.InvokeOutputOptions(provider=provider)
    token = azure_native.authorization.get_client_token_output(opts=opts).token
    return Deployer(object_id, token.apply(principal_type), pulumi.Output.secret(token))


def assign(
    name: str, context: AzureContext, grant: Grant, parent: pulumi.Resource
) -> azure_native.authorization.RoleAssignment:
    """`grant` as a role assignment. One of a custom role waits a minute after its definition is created:
    a definition reaches Azure's role assignment checks some time after the call that made it returns."""
    role = grant.role
    label: str = role.label if isinstance(role, CustomRole) else role
    definition = (
        [settle(f"{name}-role-settle", [role.definition], "1m", parent)]
        if isinstance(role, CustomRole)
        else []
    )
    return azure_native.authorization.RoleAssignment(
        name,
        principal_id=grant.principal_id,
        principal_type=grant.principal_type,
        role_definition_id=context.role_definition_id(role),
        scope=grant.on,
        condition=grant.condition,
        condition_version="2.0" if grant.condition else None,
        description=f"gpu-platform {context.stack}: {label}",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=definition),
    )
