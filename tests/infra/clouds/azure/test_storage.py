"""The storage account and its container: hardening, network lock-down, recovery, and the customer key
that prod uses and dev waives in config (ST-09..12)."""

from __future__ import annotations

import ipaddress

from infra.clouds.azure.context import ROLE_IDS
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import KEY, STORAGE_ACCOUNT, azure, named, one, role_ids
from tests.plans import stack_values, waits_for


def account(plan: Plan) -> dict[str, object]:
    return one(plan, STORAGE_ACCOUNT).inputs


def test_st09_account_hardening(stack_plan: Plan) -> None:
    inputs = account(stack_plan)
    assert inputs["kind"] == "StorageV2"
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["accountName"] == stack_values(stack_plan.stack)["gpu-platform:azure"]["storageAccountName"]


def test_st10_network_default_deny_except_the_node_subnets(stack_plan: Plan) -> None:
    rules = one(stack_plan, STORAGE_ACCOUNT).inputs["networkRuleSet"]
    subnets = sorted(r["virtualNetworkResourceId"].rsplit("/", 1)[1] for r in rules["virtualNetworkRules"])
    assert rules["defaultAction"] == "Deny"
    assert subnets == ["gpu", "system"]
    # Beside them, single addresses only: the home cluster's NAT, where Azure is a target (test_federation).
    assert all(ipaddress.ip_address(r["iPAddressOrRange"]) for r in rules.get("ipRules", []))
    for name in ("-net-system", "-net-gpu"):
        endpoints = named(stack_plan, "azure-native:network:Subnet", name).inputs["serviceEndpoints"]
        assert {"service": "Microsoft.Storage"} in endpoints


def test_st11_soft_delete_versioning_and_private_container(stack_plan: Plan) -> None:
    service = one(stack_plan, "azure-native:storage:BlobServiceProperties").inputs
    days = stack_values(stack_plan.stack).get("gpu-platform:storage", {}).get("softDeleteDays", 7)
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": days}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": days}
    assert service["isVersioningEnabled"] is True
    container = one(stack_plan, "azure-native:storage:BlobContainer").inputs
    assert container["publicAccess"] == "None"
    assert container["containerName"] == "ml"


def test_old_versions_expire(stack_plan: Plan) -> None:
    (rule,) = one(stack_plan, "azure-native:storage:ManagementPolicy").inputs["policy"]["rules"]
    assert rule["definition"]["actions"]["version"]["delete"]["daysAfterCreationGreaterThan"] > 0


def test_st12_prod_encrypts_with_its_key_vault_key(prod_plan: Plan) -> None:
    encryption = account(prod_plan)["encryption"]
    assert isinstance(encryption, dict)
    assert encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["requireInfrastructureEncryption"] is True
    assert encryption["keyVaultProperties"]["keyName"] == "storage-cmk"
    assert encryption["keyVaultProperties"]["keyVaultUri"] == "https://kv-gpu-platform-prod.vault.azure.net/"
    assert encryption["encryptionIdentity"]["encryptionUserAssignedIdentity"].endswith("-store-cmk")
    named(prod_plan, KEY, "-storage-cmk")


def test_st12_storage_identity_may_use_only_its_key_and_comes_first(prod_plan: Plan) -> None:
    (grant,) = role_ids(prod_plan, ROLE_IDS["Key Vault Crypto Service Encryption User"])
    assert grant.inputs["scope"].endswith("/keys/storage-cmk")
    assert waits_for(prod_plan, one(prod_plan, STORAGE_ACCOUNT), grant)


def test_st12_waived_in_dev_through_config_only(dev_plan: Plan) -> None:
    """dev's stack file waives ST-12 with a reason: Microsoft-managed keys, no storage key or identity."""
    waivers = stack_values("dev")["gpu-platform:waivers"]
    assert any(w["control"] == "ST-12" and "azure" in w["clouds"] for w in waivers)
    encryption = account(dev_plan)["encryption"]
    assert isinstance(encryption, dict)
    assert encryption["keySource"] == "Microsoft.Storage"
    assert encryption["requireInfrastructureEncryption"] is True
    assert [k.inputs["keyName"] for k in azure(dev_plan, KEY)] == ["aks-kms"]
    assert role_ids(dev_plan, ROLE_IDS["Key Vault Crypto Service Encryption User"]) == []
    assert "identity" not in account(dev_plan)


def test_prod_has_no_azure_waiver() -> None:
    assert not [w for w in stack_values("prod").get("gpu-platform:waivers", []) if "azure" in w["clouds"]]


def test_bucket_is_protected_per_config(dev_plan: Plan, prod_plan: Plan) -> None:
    assert one(dev_plan, STORAGE_ACCOUNT).protect is False
    assert one(prod_plan, STORAGE_ACCOUNT).protect is True
    assert one(prod_plan, "azure-native:storage:BlobContainer").protect is True
