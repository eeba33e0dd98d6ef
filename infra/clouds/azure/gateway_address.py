"""The gateway's static public address on Azure: a Standard, Static, zone-redundant public IP that AKS's
public Standard load balancer takes as the frontend of the gateway's `LoadBalancer` Service.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network

from infra.clouds.azure.context import AzureContext, Grant, assign
from infra.clouds.base import GatewayAddress

PIP_ANNOTATION = "service.beta.kubernetes.io/azure-pip-name"
RESOURCE_GROUP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
ZONES = ["1", "2", "3"]
"""Zone-redundant: the address survives a zone's loss, as the load balancer's frontend does."""


@dataclass(frozen=True, kw_only=True)
class GatewayIpArgs:
    context: AzureContext
    resource_group_name: str
    """The address's own resource group, which the stack creates."""
    cluster_principal_id: pulumi.Input[str]
    """The cluster identity, which AKS's cloud provider acts as."""
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
            name,
            public_ip_address_name=name,
            resource_group_name=group.name,
            location=context.location,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=ZONES,
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
