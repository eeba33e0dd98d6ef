"""The Azure network: a VNet, a subnet for the system and general pools, one for the GPU pools, one
delegated to the AKS API server; an NSG on each; a Standard NAT gateway with a static public IP as the
node subnets' only way out (AKS `outboundType: userAssignedNATGateway`).

Pods use Azure CNI Overlay, so their addresses come from the cluster's pod CIDR outside the VNet and no
pod subnet is needed.

AKS never edits a subnet's own NSG (it writes `loadBalancerSourceRanges` into the NSG it manages on the
node NICs), and both are evaluated: with `serving.exposure: public`, the node subnets' NSGs admit the
serving ports from `serving.sourceCidrs` themselves, or Azure's default deny-inbound drops every request.
With `serving.domain` the system subnet's NSG admits the gateway's ports (80, 443) from the same sources
instead; the GPU subnet's does not: the gateway's proxies run on the general pool only (their node
selector, `infra/workloads`), whose nodes are in the system subnet, and tolerate no GPU taint, and with
the Service's `externalTrafficPolicy: Local` the load balancer sends its traffic only to nodes whose
health probe answers, those running a proxy. TF Serving may run on a GPU pool (`serving.pool`), so its
own rule stays on both.

Which ports: AKS's load-balancing rules use floating IP unless a Service opts out
(`service.beta.kubernetes.io/azure-disable-load-balancer-floating-ip`), so a packet reaches the node
with the frontend address and the Service's port as its destination (kube-proxy maps it to the pods),
not a NodePort; cloud-provider-azure's own NSG rules are accordingly the Service port to the frontend
address (kubernetes-sigs/cloud-provider-azure tests/e2e/network/network_security_group.go). Azure's
load balancer does not rewrite the source either, so the rules match the client's address whatever the
Service's `externalTrafficPolicy`: `Local` for the gateway (Envoy Gateway's default, the EnvoyProxy
CRD's `envoyService.externalTrafficPolicy`), whose health probes come from `AzureLoadBalancer`, which
Azure's default rule `AllowAzureLoadBalancerInBound` admits.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from infra.clouds.azure.context import AzureContext
from infra.clouds.base import GATEWAY_PORTS, SERVING_PORTS

API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters"
STORAGE_SERVICE_ENDPOINT = "Microsoft.Storage"


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """The VNet's address plan, and who may reach the serving ports when serving is public."""

    context: AzureContext
    vnet_cidr: str
    system_subnet_cidr: str
    gpu_subnet_cidr: str
    api_server_subnet_cidr: str
    public_serving_sources: tuple[str, ...] = ()
    """Set when serving is public: who may reach the serving ports from the internet."""
    gateway_sources: tuple[str, ...] = ()
    """Set when `serving.domain` is: who may reach the gateway's ports (`serving.sourceCidrs`)."""


SERVING_RULE_PRIORITY = 200
GATEWAY_RULE_PRIORITY = 210
GATEWAY_SUBNET = "system"
"""The subnet of the system and general pools (`cluster.py`): the only one the gateway's proxies run in."""


@dataclass(frozen=True)
class _SubnetPlan:
    role: str
    cidr: str
    nodes: bool
    """Node subnets leave through the NAT gateway and reach Storage by service endpoint; the API server
    subnet is delegated to AKS instead."""


class Network(pulumi.ComponentResource):
    vnet_id: pulumi.Output[str]
    system_subnet_id: pulumi.Output[str]
    gpu_subnet_id: pulumi.Output[str]
    api_server_subnet_id: pulumi.Output[str]
    egress_ip: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:Network", name, None, opts)
        self._name, self._context, self._args = name, args.context, args
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"{name}-vnet",
            address_space=network.AddressSpaceArgs(address_prefixes=[args.vnet_cidr]),
            **self._common(),
        )
        ip, nat = self._nat_gateway()
        plans = [
            _SubnetPlan("system", args.system_subnet_cidr, nodes=True),
            _SubnetPlan("gpu", args.gpu_subnet_cidr, nodes=True),
            _SubnetPlan("apiserver", args.api_server_subnet_cidr, nodes=False),
        ]
        subnets: dict[str, network.Subnet] = {}
        previous: list[pulumi.Resource] = []
        for plan in plans:
            # One subnet after another: ARM refuses concurrent writes to a VNet (AnotherOperationInProgress).
            subnets[plan.role] = self._subnet(plan, vnet, nat, previous)
            previous = [subnets[plan.role]]
        self.vnet_id = vnet.id
        self.system_subnet_id = subnets["system"].id
        self.gpu_subnet_id = subnets["gpu"].id
        self.api_server_subnet_id = subnets["apiserver"].id
        self.egress_ip = ip.ip_address.apply(lambda a: a or "")
        self.register_outputs(
            {
                "vnetId": self.vnet_id,
                "systemSubnetId": self.system_subnet_id,
                "gpuSubnetId": self.gpu_subnet_id,
                "apiServerSubnetId": self.api_server_subnet_id,
                "egressIp": self.egress_ip,
            }
        )

    def _common(self) -> dict[str, object]:
        return {
            "resource_group_name": self._context.resource_group_name,
            "location": self._context.location,
            "tags": self._context.tags("network"),
            "opts": pulumi.ResourceOptions(parent=self),
        }

    def _nat_gateway(self) -> tuple[network.PublicIPAddress, network.NatGateway]:
        ip = network.PublicIPAddress(
            f"{self._name}-nat-ip",
            public_ip_address_name=f"{self._name}-nat-ip",
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            **self._common(),
        )
        nat = network.NatGateway(
            f"{self._name}-nat",
            nat_gateway_name=f"{self._name}-nat",
            sku=network.NatGatewaySkuArgs(name="Standard"),
            public_ip_addresses=[network.SubResourceArgs(id=ip.id)],
            idle_timeout_in_minutes=4,
            **self._common(),
        )
        return ip, nat

    def _serving_rules(self, role: str) -> list[network.SecurityRuleArgs] | None:
        """The inbound rules of a node subnet's NSG: TF Serving's ports on both, the gateway's on the
        system subnet's only, where the general pool and so the gateway's proxies run."""
        wanted = [
            (
                "allow-serving-inbound",
                "TF Serving",
                SERVING_RULE_PRIORITY,
                self._args.public_serving_sources,
                SERVING_PORTS,
            ),
            (
                "allow-gateway-inbound",
                "The gateway",
                GATEWAY_RULE_PRIORITY,
                self._args.gateway_sources if role == GATEWAY_SUBNET else (),
                GATEWAY_PORTS,
            ),
        ]
        rules = [
            network.SecurityRuleArgs(
                name=name,
                description=f"{what} from serving.sourceCidrs (the load balancer keeps client addresses)",
                priority=priority,
                direction="Inbound",
                access="Allow",
                protocol="Tcp",
                source_address_prefixes=list(sources),
                source_port_range="*",
                # The load balancer's frontend address (floating IP) reaches the nodes: any destination.
                destination_address_prefix="*",
                destination_port_ranges=[str(p) for p in ports],
            )
            for name, what, priority, sources, ports in wanted
            if sources
        ]
        return rules or None

    def _subnet(
        self,
        plan: _SubnetPlan,
        vnet: network.VirtualNetwork,
        nat: network.NatGateway,
        after: list[pulumi.Resource],
    ) -> network.Subnet:
        # Node subnets get NSGs with Azure's default rules: VNet and load-balancer traffic in, nothing from
        # the internet. The delegated API server subnet gets none: AKS runs the API server's load balancer
        # there and documents no rule set for a custom NSG on it.
        nsg = (
            network.NetworkSecurityGroup(
                f"{self._name}-{plan.role}-nsg",
                network_security_group_name=f"{self._name}-{plan.role}-nsg",
                security_rules=self._serving_rules(plan.role),
                **self._common(),
            )
            if plan.nodes
            else None
        )
        endpoints = [network.ServiceEndpointPropertiesFormatArgs(service=STORAGE_SERVICE_ENDPOINT)]
        delegation = network.DelegationArgs(name="aks-apiserver", service_name=API_SERVER_DELEGATION)
        return network.Subnet(
            f"{self._name}-{plan.role}",
            subnet_name=plan.role,
            resource_group_name=self._context.resource_group_name,
            virtual_network_name=vnet.name,
            address_prefix=plan.cidr,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id) if nsg else None,
            nat_gateway=network.SubResourceArgs(id=nat.id) if plan.nodes else None,
            service_endpoints=endpoints if plan.nodes else None,
            delegations=None if plan.nodes else [delegation],
            default_outbound_access=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
