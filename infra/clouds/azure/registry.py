"""The container registry: ACR Premium without the admin user or anonymous pull, untagged manifests
expired by a retention policy, and a firewall that admits only the cluster's NAT address and the
operators' CIDRs (RG-03). The kubelet identity gets AcrPull and the deployer AcrPush, both scoped to
this registry.

Premium wherever RG-03 holds, because the retention policy, network rules and private endpoints exist only
in that SKU; Basic and Standard registries are always open to the internet. A stack that waives RG-03 (dev,
with its reason in the stack file) gets Basic instead: still no admin user and no anonymous pull, every
pull and push authenticated with Entra ID, but reachable from any address and without retention.

Push credentials: the deployer's Entra token (`authorization.getClientToken`), exchanged at the registry
for an ACR refresh token (`acr_token.RefreshToken`), the password of the all-zero user; never the admin
user or a stored key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry as cr

from infra.clouds.azure import acr_token
from infra.clouds.azure.context import AzureContext, Deployer, Grant, assign
from infra.clouds.base import Registry as RegistryContract
from infra.clouds.base import RegistryAuth

REPOSITORY = "trainer"


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    """The registry, who may reach it, and the principals that pull from it (kubelet) and push (deployer)."""

    context: AzureContext
    registry_name: str
    retention_days: int
    allowed_cidrs: Sequence[pulumi.Input[str]]
    """Who may reach the registry: the cluster's egress address and the operators' CIDRs."""
    kubelet_principal_id: pulumi.Input[str]
    deployer: Deployer
    tenant_id: str
    protect: bool
    locked_down: bool = True
    """False when the stack waives RG-03: Basic, no firewall and no retention policy."""


class ContainerRegistry(pulumi.ComponentResource):
    registry_id: pulumi.Output[str]
    login_server: pulumi.Output[str]
    contract: RegistryContract

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:Registry", name, None, opts)
        context = args.context
        registry = self._registry(name, args)
        assign(
            f"{name}-kubelet-pull", context, Grant("AcrPull", args.kubelet_principal_id, registry.id), self
        )
        push_grant = assign(
            f"{name}-deployer-push", context, args.deployer.grant("AcrPush", registry.id), self
        )
        refresh = acr_token.RefreshToken(
            f"{name}-push-token",
            login_server=registry.login_server,
            tenant=args.tenant_id,
            access_token=args.deployer.access_token,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[push_grant]),
        )
        self.registry_id = registry.id
        self.login_server = registry.login_server
        self.contract = RegistryContract(
            host=registry.login_server,
            repository=registry.login_server.apply(lambda host: f"{host}/{REPOSITORY}"),
            auth=RegistryAuth(
                address=registry.login_server,
                username=acr_token.USERNAME,
                password=pulumi.Output.secret(refresh.refresh_token),
            ),
            push_after=(push_grant,),
        )
        self.register_outputs({"loginServer": self.login_server, "repository": self.contract.repository})

    def _registry(self, name: str, args: RegistryArgs) -> cr.Registry:
        context, locked = args.context, args.locked_down
        firewall = cr.NetworkRuleSetArgs(
            default_action="Deny",
            ip_rules=[cr.IPRuleArgs(i_p_address_or_range=c, action="Allow") for c in args.allowed_cidrs],
        )
        return cr.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            resource_group_name=context.resource_group_name,
            location=context.location,
            sku=cr.SkuArgs(name="Premium" if locked else "Basic"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Enabled",
            network_rule_set=firewall if locked else None,
            network_rule_bypass_options="AzureServices" if locked else None,
            policies=cr.PoliciesArgs(
                retention_policy=(
                    cr.RetentionPolicyArgs(status="enabled", days=args.retention_days) if locked else None
                ),
                # The push token is exchanged from an ARM-audience Entra token; keep ACR accepting it.
                azure_ad_authentication_as_arm_policy=cr.AzureADAuthenticationAsArmPolicyArgs(
                    status="enabled"
                ),
            ),
            tags=context.tags("registry"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
