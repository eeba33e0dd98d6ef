"""The Key Vault and its customer-managed keys: one for AKS KMS (etcd secrets), one for the storage
account, unless the stack waives that control (ST-12) with a reason.

The vault uses Azure RBAC (no access policies), soft delete with purge protection, and refuses public
network access: AKS reaches it through the private link KMS creates (`keyVaultNetworkAccess: Private`,
which needs API Server VNet Integration), and the storage service through the trusted-services bypass.
Keys are created through ARM, which the vault firewall does not apply to, so a deployment needs no
network path to the vault's data plane.
See https://learn.microsoft.com/azure/aks/use-kms-etcd-encryption
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from infra.clouds.azure.context import AzureContext

SOFT_DELETE_DAYS = 90
ROTATE_AFTER = "P90D"
KEY_EXPIRY = "P1Y"
"""New key versions expire a year after creation; rotation makes a new one every 90 days first."""


@dataclass(frozen=True, kw_only=True)
class KeyVaultArgs:
    """The vault's name and tenant, and whether it holds a storage key."""

    context: AzureContext
    vault_name: str
    tenant_id: str
    storage_cmk: bool
    """False when the stack waives ST-12: no storage key is created."""
    protect: bool


class KeyVault(pulumi.ComponentResource):
    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    aks_key: keyvault.Key
    storage_key: keyvault.Key | None

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:KeyVault", name, None, opts)
        context = args.context
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=context.resource_group_name,
            location=context.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name="standard"),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=SOFT_DELETE_DAYS,
                enable_purge_protection=True,
                public_network_access="Disabled",
                network_acls=keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
            ),
            tags=context.tags("keys"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.vault_id = vault.id
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri)
        self.aks_key = self._key(name, "aks-kms", vault, context, args.protect)
        self.storage_key = (
            self._key(name, "storage-cmk", vault, context, args.protect) if args.storage_cmk else None
        )
        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultUri": self.vault_uri,
                "aksKeyId": self.aks_key.key_uri_with_version,
                "storageKeyName": self.storage_key.name if self.storage_key else None,
            }
        )

    def _key(
        self, name: str, role: str, vault: keyvault.Vault, context: AzureContext, protect: bool
    ) -> keyvault.Key:
        return keyvault.Key(
            f"{name}-{role}",
            key_name=role,
            vault_name=vault.name,
            resource_group_name=context.resource_group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty="RSA",
                key_size=2048,
                key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                rotation_policy=keyvault.RotationPolicyArgs(
                    attributes=keyvault.KeyRotationPolicyAttributesArgs(expiry_time=KEY_EXPIRY),
                    lifetime_actions=[
                        keyvault.LifetimeActionArgs(
                            action=keyvault.ActionArgs(type="rotate"),
                            trigger=keyvault.TriggerArgs(time_after_create=ROTATE_AFTER),
                        )
                    ],
                ),
            ),
            tags=context.tags("keys"),
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
