"""The gateway's static public address on Azure: a Standard, Static public IP that AKS's public Standard load
balancer takes as the frontend of the gateway's `LoadBalancer` Service.

AKS finds the address by the Service's annotations `service.beta.kubernetes.io/azure-pip-name` (the
public IP's name, which Microsoft recommends over the deprecated `spec.loadBalancerIP`) and
`service.beta.kubernetes.io/azure-load-balancer-resource-group` (its resource group, when not the node
resource group), acting as the cluster (control-plane) identity. Microsoft's page grants that identity
Network Contributor on the group (learn.microsoft.com/azure/aks/static-ip), which could also create,
rewrite and delete any network resource there. What the cloud provider does with an address it did not
create is less (kubernetes-sigs/cloud-provider-azure, pkg/provider at v1.35.8, the release of AKS 1.35):

- it lists the group's public IPs to find the address by name (azure_publicip_repo.go `findMatchedPIP`
  and its cache, `PublicIPAddresses.List` of the group) and reads it: `publicIPAddresses/read`, on the
  group, since a list cannot be scoped to one resource;
- it puts the address in its load balancer's frontend, which ARM lets it do only with
  `publicIPAddresses/join/action` on the address (the "linked access check" of an address in another
  group, cloud-provider-azure's Azure Permissions page,
  kubernetes-sigs.github.io/cloud-provider-azure/topics/azure-permissions/);
- it never deletes, tags or otherwise writes it: an address without the provider's own
  `k8s-azure-service` (or legacy `service`) tag is "user-created" (azure_loadbalancer.go
  `serviceOwnsPublicIP`), is never released (`shouldReleaseExistingOwnedPublicIP` returns false for it)
  and gets none of the provider's tags (`ensurePIPTagged` runs only for the provider's own). It would PUT
  the address only to change what this one already is (a Standard SKU, IPv4, Static) or for a DNS label
  annotation, which the gateway's Service does not carry.

So the grant is a custom role of the stack with those two actions only (`ADDRESS_ACTIONS`), defined and
assignable in the address's own resource group, which holds nothing else: the stack's group holds the
VNet, the NAT gateway and its address, which the cluster identity must not reach. The node resource group
would need no grant, but AKS owns it and deletes it with the cluster, address included, which would change
the name's address behind DNS. The role's GUID, like the replicator's (`identity.data_role`), is derived
from the group's id, so a definition left behind by a lost state is updated in place.

Zones follow the cluster's `availabilityZones`, as the system and general pools do (`address_zones`):
none keeps the address non-zonal, which every region offers, those without availability zones included
(since network API 2020-08-01, a Standard address given no zone is created without one; the provider
speaks 2024-05-01); one zone makes it zonal there, sharing that zone's fate with the pools; more make it
zone-redundant, which only a region with availability zones offers and which always spans all of the
region's zones, so it is asked for as all three: Azure answers a request for two with three, a difference
that would make a later `pulumi up` replace the address (hashicorp/terraform-provider-azurerm#16470).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network

from infra import naming
from infra.clouds.azure.context import AzureContext, CustomRole, Grant, assign
from infra.clouds.base import GatewayAddress

PIP_ANNOTATION = "service.beta.kubernetes.io/azure-pip-name"
RESOURCE_GROUP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
ADDRESS_ACTIONS = (
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/publicIPAddresses/join/action",
)
"""What AKS's cloud provider does with a public IP it is pointed at and did not create: find it by listing
the group's, and join it to its load balancer's frontend. No write, no delete."""
ZONE_REDUNDANT = ["1", "2", "3"]
"""Every zone of a region with availability zones: the address survives a zone's loss."""


def address_zones(cluster_zones: Sequence[str]) -> list[str] | None:
    """The address's zones for the cluster's `availabilityZones`: None (no zone) for none, that zone for
    one, zone-redundant for more."""
    if not cluster_zones:
        return None
    if len(cluster_zones) == 1:
        return list(cluster_zones)
    return list(ZONE_REDUNDANT)


def address_role_guid(group_id: str) -> str:
    """The custom role's GUID: a uuid5 of the address group's ARM id, the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{group_id.lower()}/gpu-platform/gateway-address"))


def address_role(
    name: str, context: AzureContext, group_id: pulumi.Output[str], opts: pulumi.ResourceOptions
) -> azure_native.authorization.RoleDefinition:
    """The custom role the cluster identity gets on the address's group: `ADDRESS_ACTIONS`, defined and
    assignable there only. Role names are unique in the Entra tenant, hence the group's name and a hash
    of the subscription in it."""
    return azure_native.authorization.RoleDefinition(
        name,
        role_definition_id=group_id.apply(address_role_guid),
        scope=group_id,
        assignable_scopes=[group_id],
        role_name=pulumi.Output.all(group_id, context.subscription_id).apply(
            lambda a: f"gpu-platform gateway address {a[0].rsplit('/', 1)[-1]} {naming.short_hash(a[1])}"
        ),
        description=(
            f"gpu-platform {context.stack}: AKS's cloud provider finds the gateway's public IP in its group "
            "and joins it to its load balancer; it may not create, change or delete it."
        ),
        role_type="CustomRole",
        permissions=[azure_native.authorization.PermissionArgs(actions=list(ADDRESS_ACTIONS))],
        opts=opts,
    )


@dataclass(frozen=True, kw_only=True)
class GatewayIpArgs:
    context: AzureContext
    resource_group_name: str
    """The address's own resource group, which the stack creates."""
    cluster_principal_id: pulumi.Input[str]
    """The cluster identity, which AKS's cloud provider acts as."""
    zones: Sequence[str]
    """The cluster's `availabilityZones`; empty where the region has none, or the pools are regional."""
    protect: bool


class GatewayIp(pulumi.ComponentResource):
    """The address in its own resource group, and the cluster identity's custom role there; `address` is
    what DNS and the gateway's Service need."""

    address: GatewayAddress

    def __init__(self, name: str, args: GatewayIpArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:GatewayIp", name, None, opts)
        context, tags = args.context, args.context.tags("gateway")
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        group = azure_native.resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=context.location,
            tags=tags,
            opts=kept,
        )
        ip = network.PublicIPAddress(
            f"{name}-pip",
            public_ip_address_name=name,
            resource_group_name=group.name,
            location=context.location,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=address_zones(args.zones),
            tags=tags,
            opts=kept,
        )
        group_id = pulumi.Output.concat(
            "/subscriptions/", context.subscription_id, "/resourceGroups/", group.name
        )
        role = CustomRole(
            address_role(f"{name}-role", context, group_id, pulumi.ResourceOptions(parent=self)),
            "the gateway address's public IPs, read and join (custom role)",
        )
        grant = assign(f"{name}-network", context, Grant(role, args.cluster_principal_id, group_id), self)
        self.address = GatewayAddress(
            ips=ip.ip_address.apply(lambda a: [a] if a else []),
            annotations={PIP_ANNOTATION: ip.name, RESOURCE_GROUP_ANNOTATION: group.name},
            # The cloud provider is refused the address until the grant exists.
            ready=(grant,),
        )
        self.register_outputs({"ip": ip.ip_address, "resourceGroup": group.name})
