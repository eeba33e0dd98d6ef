"""A stand-in for Azure Resource Manager and an App Service managed-identity endpoint.

azure-identity's DefaultAzureCredential gets its token from the managed-identity endpoint
(`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`), and the azure-mgmt clients call ARM at `PREFLIGHT_ARM_ENDPOINT`
with it, over HTTPS (azure-core sends bearer tokens only over TLS). Each route answers with the shape of
its REST reference; ARM requests must carry the token the identity endpoint handed out.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from preflight.checks.azure import PROVIDERS
from tests.preflight.standins import Handler, Reply, Request, Route

TENANT = "00000000-0000-0000-0000-000000000000"
SUBSCRIPTION = "4a1b2c3d-0000-4000-8000-00000000a2e5"
IDENTITY_HEADER = "stand-in-identity-header"
SUB = rf"(?i)/subscriptions/{SUBSCRIPTION}"
FEATURE = "Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost"


def _jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT carrying `claims`: preflight reads who is signed in from it, as ARM would."""

    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.stand-in"


TOKEN = _jwt({"tid": TENANT, "oid": "5e1f0000-0000-4000-8000-000000000001", "upn": "deployer@acme.example"})


def _sku(
    name: str, family: str, vcpus: int, zones: list[str], restricted: list[str] | None = None
) -> dict[str, Any]:
    """A ResourceSku: learn.microsoft.com/rest/api/compute/resource-skus/list (ResourceSku)."""
    restrictions = [
        {
            "type": "Zone",
            "values": ["eastus"],
            "restrictionInfo": {"locations": ["eastus"], "zones": restricted},
            "reasonCode": "NotAvailableForSubscription",
        }
    ] if restricted else []  # fmt: skip
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "size": name.removeprefix("Standard_"),
        "family": family,
        "locations": ["eastus"],
        "locationInfo": [{"location": "eastus", "zones": zones, "zoneDetails": []}],
        "capabilities": [
            {"name": "vCPUs", "value": str(vcpus)},
            {"name": "EncryptionAtHostSupported", "value": "True"},
        ],
        "restrictions": restrictions,
    }


@dataclass
class AzureWorld:
    kubernetes: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "1.35": {
                "isPreview": False,
                "capabilities": {"supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
            },
            "1.36": {"isPreview": False, "capabilities": {"supportPlan": ["KubernetesOfficial"]}},
        }
    )
    skus: list[dict[str, Any]] = field(
        default_factory=lambda: [
            _sku("Standard_B2s", "standardBSFamily", 2, ["1", "2", "3"]),
            _sku("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4, ["1", "2", "3"], restricted=["3"]),
            {"resourceType": "disks", "name": "Premium_LRS", "locations": ["eastus"]},
        ]
    )
    usages: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"standardBSFamily": (20, 2), "lowPriorityCores": (10, 0), "cores": (20, 2)}
    )
    feature_state: str = "Registered"
    providers: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(PROVIDERS, "Registered") | {"Microsoft.Sql": "NotRegistered"}
    )
    group_resources: list[tuple[str, str]] | None = None
    """(type, name) in the stack's resource group; None: the group does not exist."""
    taken: set[str] = field(default_factory=set)
    """Names someone holds, whatever the resource type."""


def _error(status: int, code: str, message: str) -> Reply:
    # ARM's error body: learn.microsoft.com/rest/api/azure/#error-response
    return Reply({"error": {"code": code, "message": message}}, status)


def routes(world: AzureWorld) -> list[Route]:
    def identity(request: Request) -> Reply:
        # App Service's managed-identity endpoint, api-version 2019-08-01:
        # learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
        if request.headers.get("x-identity-header") != IDENTITY_HEADER:
            return Reply({"statusCode": 400, "message": "missing X-IDENTITY-HEADER"}, 400)
        expires = str(int(time.time()) + 3600)
        resource = request.arg("resource")
        return Reply(
            {"access_token": TOKEN, "expires_on": expires, "resource": resource, "token_type": "Bearer"}
        )

    def authorized(handler: Handler) -> Handler:
        def check(request: Request) -> Reply:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return _error(401, "InvalidAuthenticationToken", "The access token is invalid.")
            return handler(request)

        return check

    def subscription(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/resources/subscriptions/get
        return Reply({
            "id": f"/subscriptions/{SUBSCRIPTION}", "subscriptionId": SUBSCRIPTION, "tenantId": TENANT,
            "displayName": "gpu-platform-dev", "state": "Enabled", "authorizationSource": "RoleBased",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "spendingLimit": "Off"},
        })  # fmt: skip

    def kubernetes_versions(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/aks/managed-clusters/list-kubernetes-versions
        values = [
            {"version": v, "patchVersions": {f"{v}.2": {"upgrades": []}}, **props}
            for v, props in world.kubernetes.items()
        ]
        return Reply({"values": values})

    def skus(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/compute/resource-skus/list ($filter=location eq '<location>')
        return Reply({"value": world.skus})

    def usages(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/compute/usage/list
        value = [
            {
                "unit": "Count",
                "currentValue": used,
                "limit": limit,
                "name": {"value": name, "localizedValue": name},
            }
            for name, (limit, used) in world.usages.items()
        ]
        return Reply({"value": value})

    def feature(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/resources/features/get
        return Reply({
            "properties": {"state": world.feature_state},
            "id": f"/subscriptions/{SUBSCRIPTION}/providers/{FEATURE}",
            "name": "Microsoft.Compute/EncryptionAtHost",
            "type": "Microsoft.Features/providers/features",
        })  # fmt: skip

    def providers(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/resources/providers/list
        value = [
            {
                "id": f"/subscriptions/{SUBSCRIPTION}/providers/{ns}",
                "namespace": ns,
                "registrationState": state,
            }
            for ns, state in world.providers.items()
        ]
        return Reply({"value": value})

    def group_resources(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/resources/resources/list-by-resource-group
        if world.group_resources is None:
            return _error(
                404, "ResourceGroupNotFound", f"Resource group '{request.match['g']}' could not be found."
            )
        return Reply(
            {
                "value": [
                    {"id": f"/x/{n}", "name": n, "type": t, "location": "eastus"}
                    for t, n in world.group_resources
                ]
            }
        )

    def name_check(request: Request) -> Reply:
        # learn.microsoft.com/rest/api/storagerp/storage-accounts/check-name-availability,
        # learn.microsoft.com/rest/api/containerregistry/registries/check-name-availability,
        # learn.microsoft.com/rest/api/keyvault/keyvault/vaults/check-name-availability
        name = request.json().get("name", "")
        if name in world.taken:
            return Reply(
                {
                    "nameAvailable": False,
                    "reason": "AlreadyExists",
                    "message": f"The name {name} is already in use.",
                }
            )
        return Reply({"nameAvailable": True})

    arm = {
        "": subscription,
        "/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions": kubernetes_versions,
        "/providers/Microsoft.Compute/skus": skus,
        "/providers/Microsoft.Compute/locations/eastus/usages": usages,
        f"/providers/{FEATURE}": feature,
        "/providers": providers,
        "/resourceGroups/(?P<g>[^/]+)/resources": group_resources,
    }
    checks = r"/providers/Microsoft\.(Storage|ContainerRegistry|KeyVault)/checkNameAvailability"
    return [
        ("GET", "/msi/token", identity),
        *[("GET", f"{SUB}{path}", authorized(handler)) for path, handler in arm.items()],
        ("POST", f"{SUB}{checks}", authorized(name_check)),
    ]
