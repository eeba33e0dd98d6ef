"""The GKE cluster: private nodes, VPC-native, Dataplane V2, workload identity, KMS-encrypted secrets,
Binary Authorization, managed upgrades from a release channel; its node pools, node service account,
kubeconfig and Kubernetes provider."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.clouds.gcp import kubeconfig, nodepools
from infra.clouds.gcp.context import CLOUD_PLATFORM_SCOPE, account_id, children, protected
from infra.config.gcp import GcpConfig
from infra.config.types import WEEKDAYS, GpuPool, MaintenanceWindow

NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Google's least-privilege node role (logging and metric writers, monitoring viewer, resource metadata
writer, autoscaling metrics): CIS GKE 2.0 5.2.1. Image pulls are granted on the repository only."""
REGIONAL_DEFAULT_ZONES = 3
ISSUER_PREFIX = "https://container.googleapis.com/v1/projects/"
"""The issuer of a GKE cluster's service-account tokens is `<this><project id>/locations/<location>/clusters/
<name>`, the cluster's location a region or (zonal) a zone."""
LOG_COMPONENTS = ("SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER")
# DCGM: GPU utilisation and memory metrics from the GKE-managed exporter (needs managed Prometheus).
METRIC_COMPONENTS = ("SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "DCGM")


@dataclass(frozen=True, kw_only=True)
class GpuClusterArgs:
    """What the cluster is built from: the GCP section, the pools, the network, the keys and their grants."""

    stack: str
    gcp: GcpConfig
    pools: Sequence[GpuPool]
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    pods_range: str
    services_range: str
    secrets_key: pulumi.Input[str]
    boot_disk_key: pulumi.Input[str]
    secrets_key_grant: pulumi.Resource
    """The GKE agent's grant on the secrets key: GKE checks it when it creates the cluster."""
    boot_disk_key_grant: pulumi.Resource
    """The Compute Engine agent's grant on the disk key: every node's boot disk uses it, the cluster's
    transient default pool's too."""
    node_tag: str
    labels: Mapping[str, str]
    protect: bool
    api_admit: pulumi.Input[Sequence[str]] = ()
    """Single addresses the API's authorized networks admit beside `apiAccess.authorizedCidrs`: the
    MultiKueue manager's egress addresses where this cluster is a worker."""


class GpuCluster(pulumi.ComponentResource):
    """The GKE cluster with its node account and pools; `kubeconfig` and `provider` reach it."""

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:GpuCluster", name, None, opts)
        child = children(self, opts)
        self.node_account, node_roles = self._node_account(name, args, child)
        cluster = self._cluster(name, args, _after(child, args.secrets_key_grant, args.boot_disk_key_grant))
        self.cluster = cluster
        self.cluster_name = cluster.name
        # Google serves the issuer's discovery document and keys at this URL, not the cluster's API server
        # (a private endpoint does not hide them). The cluster resource does not report the issuer, and its
        # self link says `zones/` for a zonal cluster.
        self.oidc_issuer = pulumi.Output.concat(
            ISSUER_PREFIX, args.gcp.project, "/locations/", cluster.location, "/clusters/", cluster.name
        )
        # Nodes log and report metrics with their account's role from their first boot.
        system, *gpu = self._pools(name, args, cluster, _after(child, args.boot_disk_key_grant, *node_roles))
        self.node_pools = [system, *gpu]
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
            ).apply(_kubeconfig)
        )
        # Kubernetes objects wait for the system pool, which runs GKE's add-ons and the general workloads
        # (and backs a load balancer), but not for the GPU pools: what runs there (the training Job,
        # serving on GPUs) is created without awaiting its pods, which wait for their nodes themselves.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[system]),
        )
        self.register_outputs(
            {
                "name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "nodeServiceAccount": self.node_account.email,
            }
        )

    def _cluster(
        self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions
    ) -> gcp.container.Cluster:
        cfg = args.gcp
        return gcp.container.Cluster(
            f"{name}-cluster",
            name=f"{args.stack}-gpu-platform",
            location=cfg.cluster_zone or cfg.region,
            node_locations=list(cfg.node_zones) or None,
            **_cluster_settings(args),
            node_config=_transient_node_config(self.node_account.email, args.boot_disk_key),
            opts=pulumi.ResourceOptions.merge(
                protected(opts, args.protect),
                # The default pool's config is only used while that pool briefly exists; after its
                # removal the API reports another, and a diff here would replace the whole cluster.
                pulumi.ResourceOptions(ignore_changes=["nodeConfig"]),
            ),
        )

    def _pools(
        self, name: str, args: GpuClusterArgs, cluster: gcp.container.Cluster, opts: pulumi.ResourceOptions
    ) -> list[gcp.container.NodePool]:
        cfg = args.gcp
        defaults = nodepools.NodeDefaults(
            cluster=cluster.name,
            location=cfg.cluster_zone or cfg.region,
            zones=len(cfg.cluster_zones) or REGIONAL_DEFAULT_ZONES,
            cluster_zones=cfg.cluster_zones,
            service_account=self.node_account.email,
            boot_disk_key=args.boot_disk_key,
            node_tag=args.node_tag,
            resource_labels=args.labels,
            driver_version=cfg.gpu_driver_version,
        )
        system = nodepools.system_pool(f"{name}-system", defaults, cfg.system_pool, opts)
        gpu = [nodepools.gpu_pool(f"{name}-{p.name}", defaults, p, cfg.region, opts) for p in args.pools]
        return [system, *gpu]

    def _node_account(
        self, name: str, args: GpuClusterArgs, child: pulumi.ResourceOptions
    ) -> tuple[gcp.serviceaccount.Account, list[pulumi.Resource]]:
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=args.gcp.project,
            account_id=account_id(args.stack, "gke-nodes"),
            display_name=f"GKE nodes of {args.stack}",
            opts=child,
        )
        roles: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1].split('.')[-1].lower()}",
                project=args.gcp.project,
                role=role,
                member=account.member,
                opts=child,
            )
            for role in NODE_ROLES
        ]
        return account, roles


def _after(child: pulumi.ResourceOptions, *grants: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(grants)))


def _kubeconfig(values: list[Any]) -> str:
    name, endpoint, ca_data = values
    return kubeconfig.render(str(name), str(endpoint), str(ca_data))


def _cluster_settings(args: GpuClusterArgs) -> dict[str, Any]:
    return {**_networking(args), **_security(args), **_operations(args)}


def _networking(args: GpuClusterArgs) -> dict[str, Any]:
    cfg = args.gcp
    cidrs = cfg.api_access.authorized_cidrs
    return {
        "network": args.network,
        "subnetwork": args.subnetwork,
        "networking_mode": "VPC_NATIVE",
        "ip_allocation_policy": {
            "cluster_secondary_range_name": args.pods_range,
            "services_secondary_range_name": args.services_range,
        },
        "private_cluster_config": {
            "enable_private_nodes": True,
            "enable_private_endpoint": cfg.api_access.private_endpoint,
            "master_ipv4_cidr_block": cfg.network.master_cidr,
        },
        "master_authorized_networks_config": {
            "cidr_blocks": _authorized(cidrs, args.api_admit),
            "gcp_public_cidrs_access_enabled": False,
        },
        "datapath_provider": "ADVANCED_DATAPATH",
    }


def _authorized(
    cidrs: Sequence[str], managers: pulumi.Input[Sequence[str]]
) -> list[dict[str, str]] | pulumi.Output[list[dict[str, str]]]:
    """A plain list unless the managers' addresses are still to resolve (another cloud's NAT addresses)."""
    if isinstance(managers, (list, tuple)) and not any(isinstance(m, pulumi.Output) for m in managers):
        return authorized_blocks(cidrs, managers)
    return pulumi.Output.from_input(managers).apply(lambda known: authorized_blocks(cidrs, known))


def authorized_blocks(cidrs: Sequence[str], managers: Sequence[str]) -> list[dict[str, str]]:
    """The configured CIDRs, then each MultiKueue manager address as a single-address (/32) block."""
    blocks = [{"cidr_block": c, "display_name": f"authorized-{i}"} for i, c in enumerate(cidrs)]
    for i, address in enumerate(managers):
        ip = ipaddress.ip_address(address)  # a bare address, not a range
        if ip.version != 4:
            raise ValueError(f"MultiKueue manager address {address} is not IPv4")
        blocks.append({"cidr_block": f"{ip}/32", "display_name": f"multikueue-manager-{i}"})
    return blocks


def _security(args: GpuClusterArgs) -> dict[str, Any]:
    return {
        "workload_identity_config": {"workload_pool": f"{args.gcp.project}.svc.id.goog"},
        "enable_shielded_nodes": True,
        "database_encryption": {"state": "ENCRYPTED", "key_name": args.secrets_key},
        "binary_authorization": {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
        "enable_legacy_abac": False,
        "master_auth": {"client_certificate_config": {"issue_client_certificate": False}},
        "deletion_protection": args.protect,
    }


def _operations(args: GpuClusterArgs) -> dict[str, Any]:
    return {
        # The default pool cannot be configured like ours; GKE needs one node to create it, then it goes.
        "remove_default_node_pool": True,
        "initial_node_count": 1,
        "release_channel": {"channel": args.gcp.release_channel},
        # The stack installs the Gateway API's CRDs with Envoy Gateway's release (infra/gateway): GKE's
        # managed channel would install its own copies, and creating ours would then fail.
        "gateway_api_config": {"channel": "CHANNEL_DISABLED"},
        "maintenance_policy": {"recurring_window": recurring_window(args.gcp.maintenance_window)},
        "min_master_version": args.gcp.kubernetes_version,
        # loggingService/monitoringService cannot be set together with these (API 400); these also turn
        # on the control-plane logs that the service fields cannot.
        "logging_config": {"enable_components": list(LOG_COMPONENTS)},
        "monitoring_config": {
            "enable_components": list(METRIC_COMPONENTS),
            "managed_prometheus": {"enabled": True},
        },
        "resource_labels": dict(args.labels),
    }


RRULE_DAYS = {day: day[:2].upper() for day in WEEKDAYS}
FIRST_MONDAY = datetime.date(2026, 1, 5)
"""The week of the first window, which lies in the past: GKE takes the time of day and the duration from
it, and the days from the rule."""


def recurring_window(window: MaintenanceWindow) -> dict[str, str]:
    """GKE's recurring window: RFC 3339 start and end in UTC (GKE reports UTC, so any other offset would
    show a diff on every refresh) and a weekly RFC 5545 rule."""
    hour, minute = (int(part) for part in window.start_time.split(":"))
    first_day = FIRST_MONDAY + datetime.timedelta(days=WEEKDAYS.index(window.days[0]))
    start = datetime.datetime.combine(first_day, datetime.time(hour, minute))
    end = start + datetime.timedelta(hours=window.duration_hours)
    days = ",".join(RRULE_DAYS[d] for d in window.days)
    return {
        "start_time": f"{start.isoformat()}Z",
        "end_time": f"{end.isoformat()}Z",
        "recurrence": f"FREQ=WEEKLY;BYDAY={days}",
    }


def _transient_node_config(service_account: pulumi.Input[str], disk_key: pulumi.Input[str]) -> dict[str, Any]:
    """The removed default pool still boots for a moment: keep it off the Compute Engine default account
    (often disabled by org policy) and off the node metadata server, and encrypt its disk with our key, or
    an org policy that requires CMEK for Compute Engine refuses the whole cluster."""
    return {
        "service_account": service_account,
        "boot_disk_kms_key": disk_key,
        "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
    }
