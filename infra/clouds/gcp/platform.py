"""The GCP platform component: one explicit provider, the project APIs, then keys, network, cluster,
storage, registry and workload identity, returned as the `base.CloudPlatform` contract."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from infra.catalog import Cloud
from infra.clouds import settle
from infra.clouds.base import (
    ApiAccess,
    CloudPlatform,
    EgressRule,
    FederatedAccess,
    ForeignWorkload,
    GatewayAddress,
    PlatformArgs,
    Registry,
    RegistryPull,
    model_prefix,
)
from infra.clouds.gcp import api_access, gateway_address
from infra.clouds.gcp.admission import binary_authorization_policy
from infra.clouds.gcp.cluster import GpuCluster, GpuClusterArgs
from infra.clouds.gcp.context import CLOUD, gcp_labels
from infra.clouds.gcp.federation import FederatedTrust, FederatedTrustArgs
from infra.clouds.gcp.identity import WorkloadIdentity, WorkloadIdentityArgs
from infra.clouds.gcp.keys import Keys, KeysArgs
from infra.clouds.gcp.network import Network, NetworkArgs
from infra.clouds.gcp.pull import RegistryPuller, RegistryPullerArgs
from infra.clouds.gcp.registry import ContainerRegistry, ContainerRegistryArgs
from infra.clouds.gcp.services import ProjectServices, ProjectServicesArgs
from infra.clouds.gcp.storage import ObjectStore, ObjectStoreArgs
from infra.config import StackConfig
from infra.config.gcp import GcpConfig

INTERNAL_LB = {"networking.gke.io/load-balancer-type": "Internal"}
"""GKE's internal passthrough Network Load Balancer (cloud.google.com/kubernetes-engine/docs/how-to/
internal-load-balancing); without it a LoadBalancer Service gets an external one."""
METADATA_SERVER = (EgressRule("169.254.169.254/32", 80), EgressRule("169.254.169.252/32", 988))
"""The GKE metadata server, which serves Workload Identity tokens; with network policy enforced, pods must be
allowed to reach both addresses (cloud.google.com/kubernetes-engine/docs/how-to/workload-identity)."""

SPOT_NOTICE_SECONDS = 15
"""Compute Engine stops a Spot VM 30 seconds after its notice, and GKE's graceful node shutdown gives the
first 15 of them to ordinary pods, the rest to system-critical ones
(cloud.google.com/kubernetes-engine/docs/concepts/spot-vms)."""


class GcpPlatform(pulumi.ComponentResource):
    """The whole GCP side of a stack, under one explicit provider; `contract()` hands it to the workloads."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:gcp:Platform", name, None, opts)
        # `args.admit` goes unused: the bucket has no network firewall (no VPC Service Controls), so another
        # cloud's replicator needs the grant `federate` makes, not an address rule.
        self._name, self._cfg, cfg = name, args.cfg, args.cfg
        self._trusts: dict[Cloud, FederatedTrust] = {}
        g = cfg.section(GcpConfig)
        self.provider = gcp.Provider(
            f"{name}-provider", project=g.project, region=g.region, opts=pulumi.ResourceOptions(parent=self)
        )
        self.time = settle.provider(name, self)
        self.services = ProjectServices(
            f"{name}-services", ProjectServicesArgs(project=g.project), self._opts()
        )
        apis = self.services.apis
        keys = self._keys(name, cfg)
        node_tag = f"{cfg.stack}-gke-node"
        network = Network(
            f"{name}-network",
            NetworkArgs(project=g.project, region=g.region, ranges=g.network, node_tag=node_tag),
            self._opts(after=apis("compute")),
        )
        # The cluster enforces this policy from its first pod on.
        admission = binary_authorization_policy(
            f"{name}-binauthz",
            project=g.project,
            region=g.region,
            repository_id=g.registry_name,
            admit_image=args.admit_image,
            opts=self._opts(after=apis("binaryauthorization")),
        )
        # Logging and monitoring are configured on the cluster itself; `iam` is for the node service account.
        cluster_apis = apis("container", "compute", "logging", "monitoring", "iam")
        self.cluster = self._cluster(
            name,
            cfg=cfg,
            keys=keys,
            network=network,
            node_tag=node_tag,
            api_admit=args.api_admit,
            opts=self._opts(after=[*cluster_apis, admission]),
        )
        self._data(name, cfg, keys)
        self.network, self.subnetwork = network.network, network.subnetwork
        self.egress_ips = network.egress_ips
        self.register_outputs(
            {
                "clusterName": self.cluster.cluster_name,
                "bucketUri": self.store.uri,
                "registry": self.registry.repository,
                "network": self.network,
                "subnetwork": self.subnetwork,
            }
        )

    def _keys(self, name: str, cfg: StackConfig) -> Keys:
        g, apis = cfg.section(GcpConfig), self.services.apis
        args = KeysArgs(
            project=g.project,
            location=g.region,
            rotation_days=g.key_rotation_days,
            labels=gcp_labels(cfg.stack, "keys"),
            protect=cfg.protect,
            # A service agent exists once its API is enabled; a grant to it fails before that.
            agent_apis={
                "gke": apis("container"),
                "disk": apis("compute"),
                "gcs": apis("storage"),
                "registry": apis("artifactregistry"),
            },
        )
        return Keys(f"{name}-keys", args, self._opts(after=apis("cloudkms")))

    def _cluster(
        self,
        name: str,
        *,
        cfg: StackConfig,
        keys: Keys,
        network: Network,
        node_tag: str,
        api_admit: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions,
    ) -> GpuCluster:
        args = GpuClusterArgs(
            stack=cfg.stack,
            gcp=cfg.section(GcpConfig),
            pools=cfg.pools_on(CLOUD),
            network=network.network,
            subnetwork=network.subnetwork,
            pods_range=network.pods_range,
            services_range=network.services_range,
            secrets_key=keys.keys["gke"].id,
            boot_disk_key=keys.keys["disk"].id,
            secrets_key_grant=keys.grants["gke"],
            boot_disk_key_grant=keys.grants["disk"],
            node_tag=node_tag,
            api_admit=api_admit,
            labels=gcp_labels(cfg.stack, "cluster"),
            protect=cfg.protect,
        )
        return GpuCluster(f"{name}-gke", args, opts)

    def _data(self, name: str, cfg: StackConfig, keys: Keys) -> None:
        """The bucket, the registry and the workload identities that use them; none waits for the cluster
        except the identity bindings, which need its workload identity pool."""
        g = cfg.section(GcpConfig)
        apis = self.services.apis
        self.store = ObjectStore(
            f"{name}-storage",
            ObjectStoreArgs(
                project=g.project,
                region=g.region,
                bucket_name=g.bucket_name,
                kms_key=keys.keys["gcs"].id,
                key_grant=keys.grants["gcs"],
                retention=cfg.storage,
                labels=gcp_labels(cfg.stack, "storage"),
                protect=cfg.protect,
            ),
            self._opts(after=apis("storage")),
        )
        self.registry = ContainerRegistry(
            f"{name}-registry",
            ContainerRegistryArgs(
                project=g.project,
                region=g.region,
                repository_id=g.registry_name,
                kms_key=keys.keys["registry"].id,
                key_grant=keys.grants["registry"],
                reader=self.cluster.node_account.member,
                labels=gcp_labels(cfg.stack, "registry"),
                protect=cfg.protect,
            ),
            self._opts(after=apis("artifactregistry")),
        )
        self.identity = WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                project=g.project,
                stack=cfg.stack,
                namespace=cfg.namespace,
                bucket=self.store.bucket_name,
                replica_prefix=model_prefix(cfg.serving.model_name),
                cluster=self.cluster.cluster,
            ),
            self._opts(after=apis("iam", "iamcredentials")),
        )

    def federate(self, workload: ForeignWorkload) -> FederatedAccess:
        """Trust another cloud's workload for its prefix of the bucket (`federation.py`)."""
        return self._trust(workload).federate(workload, self.store.bucket_name)

    def admit_api(self, workload: ForeignWorkload) -> ApiAccess:
        """Trust another cloud's workload to sign in to the cluster (`api_access.py`), once the IAM
        Credentials API, which mints its service account's tokens, is on."""
        return api_access.admit_api(
            self._trust(workload),
            workload,
            cluster=self.cluster.cluster,
            after=self.services.apis("iamcredentials"),
        )

    def grant_pull(self, namespace: str, service_account: str) -> RegistryPull:
        """Let a workload of the cluster read the trainer repository (`pull.py`), once the IAM APIs, which
        its service account and the tokens the metadata server mints for it need, are on."""
        g = self._cfg.section(GcpConfig)
        puller = RegistryPuller(
            f"{self._name}-pull-{namespace}-{service_account}",
            RegistryPullerArgs(
                project=g.project,
                stack=self._cfg.stack,
                region=g.region,
                namespace=namespace,
                service_account=service_account,
                repository_id=self.registry.repository_id,
                host=self.registry.host,
                cluster=self.cluster.cluster,
            ),
            self._opts(after=self.services.apis("iam", "iamcredentials")),
        )
        return puller.pull

    def gateway_address(self) -> GatewayAddress:
        """Reserve the gateway's public address in the cluster's region (`gateway_address.py`), once the
        Compute Engine API is on."""
        g = self._cfg.section(GcpConfig)
        return gateway_address.reserve(
            f"{self._name}-gateway-ip",
            project=g.project,
            region=g.region,
            labels=gcp_labels(self._cfg.stack, "gateway"),
            # What DNS names: kept with the stack's other stateful resources.
            opts=pulumi.ResourceOptions.merge(
                self._opts(after=self.services.apis("compute")),
                pulumi.ResourceOptions(protect=self._cfg.protect),
            ),
        )

    def _trust(self, workload: ForeignWorkload) -> FederatedTrust:
        """The pool and provider of the workload's cluster, one per issuer however many of its workloads
        this cloud trusts, made once the project's IAM and Security Token Service APIs are on."""
        trust = self._trusts.get(workload.cloud)
        if trust is None:
            g = self._cfg.section(GcpConfig)
            trust = FederatedTrust(
                f"{self._name}-federation-{workload.cloud}",
                FederatedTrustArgs(
                    project=g.project, stack=self._cfg.stack, cloud=workload.cloud, issuer=workload.issuer
                ),
                self._opts(after=self.services.apis("iam", "sts")),
            )
            self._trusts[workload.cloud] = trust
        return trust

    def _opts(self, after: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        providers = {"gcp": self.provider, "time": self.time}
        return pulumi.ResourceOptions(parent=self, providers=providers, depends_on=list(after))

    def contract(self) -> CloudPlatform:
        """What the cloud-agnostic workloads get from GCP."""
        cfg = self._cfg
        g = cfg.section(GcpConfig)
        return CloudPlatform(
            cloud=CLOUD,
            region=g.region,
            cluster_name=self.cluster.cluster_name,
            kubeconfig=self.cluster.kubeconfig,
            k8s_provider=self.cluster.provider,
            bucket_uri=self.store.uri,
            registry=Registry(
                host=self.registry.host, repository=self.registry.repository, auth=self.registry.auth
            ),
            identities=self.identity.bindings,
            # Nodes come from the subnet, pods keep their VPC-native addresses from the pods range.
            internal_sources=(g.network.subnet_cidr, g.network.pods_cidr),
            oidc_issuer=self.cluster.oidc_issuer,
            egress_ips=self.egress_ips,
            federate=self.federate,
            admit_api=self.admit_api,
            grant_pull=self.grant_pull,
            gateway_address=self.gateway_address,
            spot_notice_seconds=SPOT_NOTICE_SECONDS,
            # GKE installs the NVIDIA driver and device plugin on GPU nodes: nothing is missing.
            missing={},
            service_annotations=INTERNAL_LB if cfg.serving.exposure == "internal" else {},
            network={"network": self.network, "subnetwork": self.subnetwork},
            identity_egress=METADATA_SERVER,
        )


def build(args: PlatformArgs) -> CloudPlatform:
    """The stack's GCP platform, as the contract the workloads are built on."""
    return GcpPlatform(f"{args.cfg.stack}-{CLOUD}", args).contract()
