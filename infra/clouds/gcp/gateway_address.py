"""The gateway's static public address on GCP: one regional external address, reserved by the stack, that
GKE's external passthrough Network Load Balancer takes for the gateway's `LoadBalancer` Service.

GKE assigns a reserved address to a Service's forwarding rule by the annotation
`networking.gke.io/load-balancer-ip-addresses`, which names the address resource (not its value), GKE
1.29 and later; `spec.loadBalancerIP` is the older way, deprecated by Kubernetes since 1.24 and IPv4 only
(cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer-parameters, "Static IP
addresses"). Only the backend service-based load balancer reads that annotation (ingress-gce's L4 NetLB
controller, `pkg/l4/annotations`); before GKE 1.37 a LoadBalancer Service gets the older target-pool one
unless it says `cloud.google.com/l4-rbs: enabled` (cloud.google.com/kubernetes-engine/docs/how-to/
external-svc-lb-rbs, GKE 1.25.5 and later, with the HttpLoadBalancing add-on, which the stack's clusters
keep on), and the target-pool controller reads `spec.loadBalancerIP` only: without `l4-rbs` the proxies
would get an ephemeral address and the DNS names would point at the reserved one, which nothing answers.
So the contract's annotations carry both. Envoy Gateway's EnvoyProxy could set `envoyService.
loadBalancerIP` instead (deprecated in Kubernetes): the annotations are what GKE documents today, and
they leave the address to the contract's `annotations` like every other cloud's.

The address is regional (an external passthrough load balancer's forwarding rule is), in the cluster's
region, and in the Premium tier, which a Service gets unless `cloud.google.com/network-tier` says
otherwise: GKE refuses an address whose region or tier differs from the forwarding rule's.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from infra.clouds.base import GatewayAddress

ADDRESSES_ANNOTATION = "networking.gke.io/load-balancer-ip-addresses"
BACKEND_SERVICE_ANNOTATION = {"cloud.google.com/l4-rbs": "enabled"}
"""A backend service-based external passthrough load balancer, the kind that takes a reserved address."""
NETWORK_TIER = "PREMIUM"


def reserve(
    name: str, *, project: str, region: str, labels: dict[str, str], opts: pulumi.ResourceOptions
) -> GatewayAddress:
    """The reserved address and the annotation that names it."""
    address = gcp.compute.Address(
        name,
        project=project,
        region=region,
        address_type="EXTERNAL",
        network_tier=NETWORK_TIER,
        description="The serving gateway's load balancer, named in DNS",
        labels=labels,
        opts=opts,
    )
    return GatewayAddress(
        ips=pulumi.Output.all(address.address),
        annotations={**BACKEND_SERVICE_ANNOTATION, ADDRESSES_ANNOTATION: address.name},
    )
