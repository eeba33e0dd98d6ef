"""The VPC: custom-mode, one regional subnetwork with the GKE pod and service ranges, Cloud NAT for the
private nodes on a reserved address, and firewall rules that deny ingress unless a rule below allows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.context import children
from infra.config.gcp import GcpNetwork

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
"""Google's load-balancer health-check sources (cloud.google.com/load-balancing/docs/health-checks)."""
WEBHOOK_PORTS = ("443", "8443", "9443", "10250", "15017")
"""Ports admission webhooks and the kubelet listen on; GKE's own rule opens only 443 and 10250 to the
control plane, so webhooks on other ports (cert-manager, operators) would silently time out."""
DENY_ALL_PRIORITY = 65534
"""Just above the implied deny (65535), so the explicit rule logs what it drops and every allow wins."""


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """The project, the region, the address ranges from config, and the nodes' network tag."""

    project: str
    region: str
    ranges: GcpNetwork
    node_tag: str
    """Network tag on every node, the target of the control-plane and health-check rules."""


class Network(pulumi.ComponentResource):
    """The VPC the cluster runs in; `network`, `subnetwork` and the secondary range names are its outputs."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:Network", name, None, opts)
        child = children(self, opts)
        vpc = gcp.compute.Network(
            f"{name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            region=args.region,
            network=vpc.id,
            ip_cidr_range=args.ranges.subnet_cidr,
            secondary_ip_ranges=[
                {"range_name": PODS_RANGE, "ip_cidr_range": args.ranges.pods_cidr},
                {"range_name": SERVICES_RANGE, "ip_cidr_range": args.ranges.services_cidr},
            ],
            # Private nodes reach Google APIs (GCS, Artifact Registry) without NAT or public IPs.
            private_ip_google_access=True,
            log_config={
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
            opts=child,
        )
        self.egress_ips = self._nat(name, args, vpc, subnet, child)
        self._firewall(name, args, vpc, child)
        self.network = vpc.self_link
        self.subnetwork = subnet.self_link
        self.pods_range = PODS_RANGE
        self.services_range = SERVICES_RANGE
        self.register_outputs({"network": self.network, "subnetwork": self.subnetwork})

    def _nat(
        self,
        name: str,
        args: NetworkArgs,
        vpc: gcp.compute.Network,
        subnet: gcp.compute.Subnetwork,
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[list[str]]:
        """Cloud NAT on one reserved static address, which it returns: what other clouds' storage firewalls
        admit for the replicator. `AUTO_ONLY` addresses may change whenever Cloud NAT reallocates them.
        One address is enough: its 64,512 ports at Cloud NAT's default 64 per VM serve 1,008 nodes, far
        above the pools' maxima; more would be more addresses for every firewall to admit."""
        address = gcp.compute.Address(
            f"{name}-nat-ip",
            project=args.project,
            region=args.region,
            address_type="EXTERNAL",
            description="Cloud NAT egress of the cluster's nodes and pods",
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router", project=args.project, region=args.region, network=vpc.id, opts=child
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[address.self_link],
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=child,
        )
        return pulumi.Output.all(address.address)

    def _firewall(
        self, name: str, args: NetworkArgs, vpc: gcp.compute.Network, child: pulumi.ResourceOptions
    ) -> None:
        r = args.ranges
        all_traffic = [{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}]
        rules: Mapping[str, tuple[Sequence[str], Sequence[Mapping[str, object]], Sequence[str]]] = {
            "allow-internal": ((r.subnet_cidr, r.pods_cidr), all_traffic, ()),
            "allow-control-plane": (
                (r.master_cidr,),
                [{"protocol": "tcp", "ports": list(WEBHOOK_PORTS)}],
                (args.node_tag,),
            ),
            "allow-health-checks": (HEALTH_CHECK_RANGES, [{"protocol": "tcp"}], (args.node_tag,)),
        }
        for role, (sources, allows, targets) in rules.items():
            gcp.compute.Firewall(
                f"{name}-{role}",
                project=args.project,
                network=vpc.self_link,
                direction="INGRESS",
                priority=1000,
                source_ranges=list(sources),
                allows=list(allows),
                target_tags=list(targets) or None,
                opts=child,
            )
        gcp.compute.Firewall(
            f"{name}-deny-all-ingress",
            project=args.project,
            network=vpc.self_link,
            direction="INGRESS",
            priority=DENY_ALL_PRIORITY,
            source_ranges=["0.0.0.0/0"],
            denies=[{"protocol": "all"}],
            # Logged (unlike the allow rules, whose volume would cost more than it tells): a drop here is
            # the first thing to look at when a new component cannot reach a node.
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            opts=child,
        )
