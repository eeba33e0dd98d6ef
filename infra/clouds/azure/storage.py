"""The object store: a StorageV2 account reachable only from the AKS node subnets (and, where another cloud
trains, that cluster's NAT addresses) and only with Entra ID (shared keys off), blob and container soft
delete, versioning with a lifecycle rule for old versions, and one private container for data,
checkpoints and models.

With a customer-managed key (ST-12), the account encrypts with our Key Vault key through a user-assigned
identity, granted before the account exists so the first write already uses the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import storage

from infra.clouds.azure.context import AzureContext, Grant, assign
from infra.clouds.settle import settle


@dataclass(frozen=True)
class CustomerKey:
    """The Key Vault key the storage account encrypts with (ST-12)."""

    vault_uri: pulumi.Input[str]
    key: azure_native.keyvault.Key


@dataclass(frozen=True, kw_only=True)
class ObjectStoreArgs:
    """The storage account and its container, the node subnets that may reach it, retention, and its key."""

    context: AzureContext
    account_name: str
    sku: str
    container_name: str
    node_subnet_ids: list[pulumi.Input[str]]
    admit: pulumi.Input[Sequence[str]] = ()
    """Public addresses the firewall also lets through: another cloud's cluster egress, whose replicator
    writes models here (`PlatformArgs.admit`)."""
    soft_delete_days: int
    noncurrent_version_days: int
    customer_key: CustomerKey | None
    """None when the stack waives ST-12: Microsoft-managed keys."""
    protect: bool


def ip_rules(addresses: Sequence[str]) -> list[storage.IPRuleArgs] | None:
    """One Allow rule per address, each a single IPv4 address: the firewall refuses /31 and /32 ranges.
    None without addresses, so that a stack no other cloud writes to keeps its rule set as it was."""
    rules = [storage.IPRuleArgs(i_p_address_or_range=a, action="Allow") for a in addresses]
    return rules or None


class ObjectStore(pulumi.ComponentResource):
    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    container_id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    bucket_uri: pulumi.Output[str]

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:ObjectStore", name, None, opts)
        self._name, self._args = name, args
        account = self._account()
        common = {"account_name": account.name, "resource_group_name": args.context.resource_group_name}
        self._data_protection(common)
        container = storage.BlobContainer(
            f"{name}-container",
            container_name=args.container_name,
            public_access="None",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            **common,
        )
        self.account_id = account.id
        self.account_name = account.name
        self.container_id = container.id
        self.blob_endpoint = account.primary_endpoints.apply(lambda e: e.blob)
        self.bucket_uri = pulumi.Output.from_input(f"az://{args.container_name}")
        self.register_outputs(
            {
                "accountName": self.account_name,
                "blobEndpoint": self.blob_endpoint,
                "bucketUri": self.bucket_uri,
            }
        )

    def _data_protection(self, common: dict[str, pulumi.Input[str]]) -> None:
        """Soft delete for blobs and containers, versioning, and a lifecycle rule for old versions."""
        name, child = self._name, pulumi.ResourceOptions(parent=self)
        days = self._args.soft_delete_days
        storage.BlobServiceProperties(
            f"{name}-blob-service",
            blob_services_name="default",
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=days),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=days),
            is_versioning_enabled=True,
            opts=child,
            **common,
        )
        storage.ManagementPolicy(
            f"{name}-lifecycle",
            management_policy_name="default",
            policy=self._lifecycle(),
            opts=child,
            **common,
        )

    def _account(self) -> storage.StorageAccount:
        a, cmk = self._args, self._args.customer_key
        identity = self._cmk_identity(cmk) if cmk else None
        return storage.StorageAccount(
            f"{self._name}-account",
            account_name=a.account_name,
            resource_group_name=a.context.resource_group_name,
            location=a.context.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name=a.sku),
            access_tier="Hot",
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            public_network_access="Enabled",
            # The public endpoint answers only the node subnets (service endpoint), the home cluster's NAT
            # addresses and trusted Azure services; everything else is refused before authentication.
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action="Deny",
                bypass="AzureServices",
                virtual_network_rules=[
                    storage.VirtualNetworkRuleArgs(virtual_network_resource_id=s, action="Allow")
                    for s in a.node_subnet_ids
                ],
                ip_rules=pulumi.Output.from_input(a.admit).apply(ip_rules),
            ),
            identity=(
                storage.IdentityArgs(type="UserAssigned", user_assigned_identities=[identity[0].id])
                if identity
                else None
            ),
            encryption=self._encryption(cmk, identity[0] if identity else None),
            tags=a.context.tags("storage"),
            # The account reads the key as it is created: the grant must have propagated by then.
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=a.protect,
                depends_on=[settle(f"{self._name}-cmk-settle", [identity[1]], "2m", self)]
                if identity
                else [],
            ),
        )

    def _cmk_identity(
        self, cmk: CustomerKey
    ) -> tuple[azure_native.managedidentity.UserAssignedIdentity, pulumi.Resource]:
        context = self._args.context
        uai = azure_native.managedidentity.UserAssignedIdentity(
            f"{self._name}-cmk",
            resource_name_=f"{self._name}-cmk",
            resource_group_name=context.resource_group_name,
            location=context.location,
            tags=context.tags("storage"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        grant = Grant("Key Vault Crypto Service Encryption User", uai.principal_id, cmk.key.id)
        return uai, assign(f"{self._name}-cmk-crypto", context, grant, self)

    def _encryption(
        self, cmk: CustomerKey | None, identity: azure_native.managedidentity.UserAssignedIdentity | None
    ) -> storage.EncryptionArgs:
        services = storage.EncryptionServicesArgs(
            blob=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
            file=storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
        )
        if cmk is None or identity is None:
            return storage.EncryptionArgs(
                key_source="Microsoft.Storage", require_infrastructure_encryption=True, services=services
            )
        return storage.EncryptionArgs(
            key_source="Microsoft.Keyvault",
            # No key version: the account follows the key's rotation on its own.
            key_vault_properties=storage.KeyVaultPropertiesArgs(
                key_name=cmk.key.name, key_vault_uri=cmk.vault_uri
            ),
            encryption_identity=storage.EncryptionIdentityArgs(encryption_user_assigned_identity=identity.id),
            require_infrastructure_encryption=True,
            services=services,
        )

    def _lifecycle(self) -> storage.ManagementPolicySchemaArgs:
        expire = storage.DateAfterCreationArgs(
            days_after_creation_greater_than=self._args.noncurrent_version_days
        )
        return storage.ManagementPolicySchemaArgs(
            rules=[
                storage.ManagementPolicyRuleArgs(
                    name="expire-noncurrent-versions",
                    type="Lifecycle",
                    enabled=True,
                    definition=storage.ManagementPolicyDefinitionArgs(
                        filters=storage.ManagementPolicyFilterArgs(blob_types=["blockBlob"]),
                        actions=storage.ManagementPolicyActionArgs(
                            version=storage.ManagementPolicyVersionArgs(delete=expire)
                        ),
                    ),
                )
            ]
        )
