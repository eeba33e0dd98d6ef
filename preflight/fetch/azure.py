"""Azure facts with azure-identity's DefaultAzureCredential (az login, environment, managed or workload
identity) and the azure-mgmt-* clients.

Every call is a read (Reader on the subscription covers them all): the subscription, AKS's Kubernetes
versions, Resource SKUs and compute usages of the location, the EncryptionAtHost feature, the resource
providers, the resources already in the stack's resource group, and the name-availability checks of
Storage, Container Registry and Key Vault. With `PREFLIGHT_ARM_ENDPOINT` set, the clients call it instead
of `https://management.azure.com` (their `base_url`), which is how the tests point them at a local server.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import RegistryNameCheckRequest
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import VaultCheckNameAvailabilityParameters
from azure.mgmt.resource.features import FeatureClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import StorageAccountCheckNameAvailabilityParameters

from infra.config import StackConfig
from infra.config.azure import AzureConfig
from preflight.facts import AksVersion, AzureFacts, AzureSku, AzureSubscription, Name, Quota, Read
from preflight.fetch import LoginError, attempt

ARM_ENV = "PREFLIGHT_ARM_ENDPOINT"
ARM = "https://management.azure.com"
SCOPE = "https://management.azure.com/.default"
READER = "Reader on the subscription"
T = TypeVar("T")
ERRORS = (AzureError,)
LOGIN_HINT = "run az login, or set AZURE_CLIENT_ID and AZURE_TENANT_ID with a secret or a federated token"


@dataclass(frozen=True)
class AzureLogin:
    credential: TokenCredential
    subscription_id: str
    principal: str
    tenant: str


def login(configured_subscription: str | None) -> AzureLogin:
    """DefaultAzureCredential, proven by an ARM token; the subscription as the azure-native provider picks
    it: `azure-native:subscriptionId`, then ARM_SUBSCRIPTION_ID, then the Azure CLI's default."""
    credential = DefaultAzureCredential()
    try:
        token = credential.get_token(SCOPE)
    except ClientAuthenticationError:
        raise LoginError("azure", f"no credentials found: {LOGIN_HINT}") from None
    subscription = configured_subscription or os.environ.get("ARM_SUBSCRIPTION_ID") or cli_subscription()
    if not subscription:
        hint = "run az account set --subscription ID, or set ARM_SUBSCRIPTION_ID"
        raise LoginError("azure", f"no subscription selected: {hint}")
    claims = token_claims(token.token)
    name = next(
        (claims[c] for c in ("upn", "preferred_username", "app_displayname", "appid") if c in claims), ""
    )
    principal = f"{name or 'a principal'} (object id {claims.get('oid', 'unknown')})"
    return AzureLogin(credential, subscription, principal, str(claims.get("tid", "")))


def cli_subscription() -> str | None:
    """The Azure CLI's default subscription (`az account show`), from its profile file."""
    directory = Path(os.environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
    try:
        profile = json.loads((directory / "azureProfile.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return next((str(s["id"]) for s in profile.get("subscriptions", []) if s.get("isDefault")), None)


def token_claims(token: str) -> dict[str, Any]:
    """The claims of an Entra access token (a JWT), read to say who is signed in; not verified."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def fetch(login: AzureLogin, cfg: StackConfig) -> AzureFacts:
    azure = cfg.azure
    if azure is None:
        raise ValueError("the stack does not enable azure")
    cred, sub, base_url = login.credential, login.subscription_id, os.environ.get(ARM_ENV, ARM)
    compute = ComputeManagementClient(cred, sub, base_url)
    resources = ResourceManagementClient(cred, sub, base_url)
    loc = azure.location

    ours = _read(partial(_ours, resources, azure.resource_group_name))
    checks = _name_checks(azure, login.credential, sub, base_url)
    names = {key: _read(partial(_name, check, ours)) for key, check in checks.items()}
    return AzureFacts(
        principal=login.principal,
        tenant=login.tenant,
        subscription=_read(partial(_subscription, SubscriptionClient(cred, base_url), sub)),
        kubernetes_versions=_read(partial(_aks_versions, ContainerServiceClient(cred, sub, base_url), loc)),
        skus=_read(partial(_skus, compute, loc)),
        usages=_read(partial(_usages, compute, loc)),
        encryption_at_host_feature=_read(partial(_feature, FeatureClient(cred, sub, base_url))),
        providers=_read(partial(_providers, resources)),
        names=names,
    )


NameCheck = tuple[Any, Any, str, str]
"""The provider's checkNameAvailability, its request, and the resource type and name it asks about."""


def _name_checks(azure: AzureConfig, *args: Any) -> dict[str, NameCheck]:
    """Config key -> the check of each globally unique name; `args` are the clients' (credential,
    subscription, base_url)."""
    storage, registry, vault = azure.storage_account_name, azure.registry_name, azure.key_vault_name
    registry_type = "Microsoft.ContainerRegistry/registries"
    return {
        "storageAccountName": (
            StorageManagementClient(*args).storage_accounts.check_name_availability,
            StorageAccountCheckNameAvailabilityParameters(name=storage),
            "Microsoft.Storage/storageAccounts",
            storage,
        ),
        "registryName": (
            ContainerRegistryManagementClient(*args).registries.check_name_availability,
            RegistryNameCheckRequest(name=registry, type=registry_type),
            registry_type,
            registry,
        ),
        "keyVaultName": (
            KeyVaultManagementClient(*args).vaults.check_name_availability,
            VaultCheckNameAvailabilityParameters(name=vault),
            "Microsoft.KeyVault/vaults",
            vault,
        ),
    }


def _read(call: Callable[[], T]) -> Read[T]:
    return attempt(call, READER, ERRORS, describe)


def describe(exc: Exception) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return f"{code}: {getattr(error, 'message', exc)}" if code else str(exc)


def _text(value: Any) -> str:
    """An enum's value or a plain string (the SDK keeps values it has no enum member for as strings)."""
    return str(getattr(value, "value", value) or "")


def _subscription(client: SubscriptionClient, subscription_id: str) -> AzureSubscription:
    found = client.subscriptions.get(subscription_id)
    return AzureSubscription(
        subscription_id, found.display_name or "", _text(found.state), found.tenant_id or ""
    )


def _aks_versions(client: ContainerServiceClient, location: str) -> dict[str, AksVersion]:
    result = client.managed_clusters.list_kubernetes_versions(location)
    return {
        v.version: AksVersion(
            bool(v.is_preview),
            tuple(_text(p) for p in (v.capabilities.support_plan or [])) if v.capabilities else (),
        )
        for v in result.values_property or []
        if v.version
    }


def _skus(client: ComputeManagementClient, location: str) -> dict[str, AzureSku]:
    found = {}
    for sku in client.resource_skus.list(filter=f"location eq '{location}'"):
        if sku.resource_type != "virtualMachines" or not sku.name:
            continue
        info = next(
            (i for i in sku.location_info or [] if (i.location or "").lower() == location.lower()), None
        )
        restricted: list[str] = []
        location_restriction = None
        for r in sku.restrictions or []:
            if _text(r.type) == "Zone" and r.restriction_info:
                restricted += r.restriction_info.zones or []
            elif _text(r.type) == "Location":
                location_restriction = _text(r.reason_code) or "restricted"
        capabilities = {c.name: c.value for c in sku.capabilities or []}
        found[sku.name] = AzureSku(
            family=sku.family or "",
            zones=tuple(sorted(info.zones or [])) if info else (),
            restricted_zones=tuple(sorted(restricted)),
            location_restriction=location_restriction,
            encryption_at_host=str(capabilities.get("EncryptionAtHostSupported", "")).lower() == "true",
        )
    return found


def _usages(client: ComputeManagementClient, location: str) -> dict[str, Quota]:
    return {
        u.name.value: Quota(float(u.limit or 0), float(u.current_value or 0))
        for u in client.usage.list(location)
        if u.name and u.name.value
    }


def _feature(client: FeatureClient) -> str:
    result = client.features.get("Microsoft.Compute", "EncryptionAtHost")
    return _text(result.properties.state if result.properties else None) or "unknown"


def _providers(client: ResourceManagementClient) -> dict[str, str]:
    return {p.namespace: _text(p.registration_state) for p in client.providers.list() if p.namespace}


def _ours(client: ResourceManagementClient, group: str) -> frozenset[tuple[str, str]]:
    """(type, name) of what the stack's resource group holds, lowercased; nothing before it exists."""
    try:
        return frozenset(
            (_text(r.type).lower(), _text(r.name).lower())
            for r in client.resources.list_by_resource_group(group)
        )
    except ResourceNotFoundError:
        return frozenset()


def _name(check: NameCheck, ours: Read[frozenset[tuple[str, str]]]) -> Name:
    """A name-availability answer: available is free; taken is ours when our resource group holds it."""
    call, request, resource_type, name = check
    result = call(request)
    if result.name_available:
        return Name("free")
    if isinstance(ours, frozenset) and (resource_type.lower(), name.lower()) in ours:
        return Name("ours", "in the stack's resource group")
    reason = _text(result.reason)
    return Name("taken" if reason == "AlreadyExists" else "invalid", result.message or reason)
