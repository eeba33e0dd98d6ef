"""The gateway's static public address on Azure: a Standard, Static public IP that AKS's public Standard load
balancer takes as the frontend of the gateway's `LoadBalancer` Service.

AKS finds the address by the Service's annotations `service.beta.kubernetes.io/azure-pip-name` (the
public IP's name, which Microsoft recommends over the deprecated `spec.loadBalancerIP`) and
`service.beta.kubernetes.io/azure-load-balancer-resource-group` (its resource group, when not the node
resource group); the cluster identity needs Network Contributor on that resource group
(learn.microsoft.com/azure/aks/static-ip). Not the resource itself: the cloud provider lists the group's
public IPs to find it by name (kubernetes-sigs/cloud-provider-azure, `findMatchedPIP`).

So the address has a resource group of its own, holding nothing else, and the grant is scoped to it: the
stack's group holds the VNet, the NAT gateway and its address, which the cluster identity must not
rewrite. The node resource group would need no grant, but AKS owns it and deletes it with the cluster,
address included, which would change the name's address behind DNS.

Zones follow the cluster's `availabilityZones`, as the system and general pools do (`address_zones`):
none keeps the address non-zonal, which every region offers, those without availability zones included
(since network API 2020-08-01, a Standard address given no zone is created without one; the provider
speaks 2024-05-01); one zone makes it zonal there, sharing that zone's fate with the pools; more make it
zone-redundant, which only a region with availability zones offers and which always spans all of the
region's zones, so it is asked for as all three: Azure answers a request for two with three, a difference
that would make a later `pulumi up` replace the address (hashicorp/terraform-provider-azurerm#16470).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network

from infra.clouds.azure.context import AzureContext, Grant, assign
from infra.clouds.base import GatewayAddress

PIP_ANNOTATION = "service.beta.kubernetes.io/azure-pip-name"
RESOURCE_GROUP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
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
    """The address in its own resource group and the cluster identity's grant there; `address` is what
    DNS and the gateway's Service need."""

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
        grant = assign(
            f"{name}-network",
            context,
            Grant("Network Contributor", args.cluster_principal_id, group_id),
            self,
        )
        self.address = GatewayAddress(
            ips=ip.ip_address.apply(lambda a: [a] if a else []),
            annotations={PIP_ANNOTATION: ip.name, RESOURCE_GROUP_ANNOTATION: group.name},
            # The cloud provider is refused the address until the grant exists.
            ready=(grant,),
        )
        self.register_outputs({"ip": ip.ip_address, "resourceGroup": group.name})
