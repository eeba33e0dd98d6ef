"""The AWS platform: keys, network, EKS with its node groups and autoscaler, bucket, registry and
workload identity, tied together into the `CloudPlatform` contract.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra import naming
from infra.catalog import Cloud
from infra.clouds.aws import gateway_address, nodepools, route53
from infra.clouds.aws.autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from infra.clouds.aws.cluster import GpuCluster, GpuClusterArgs
from infra.clouds.aws.context import CLOUD, make_context
from infra.clouds.aws.dns01 import Dns01Solver, Dns01SolverArgs, federated
from infra.clouds.aws.federation import FederatedTrust, FederatedTrustArgs
from infra.clouds.aws.identity import WorkloadIdentity, WorkloadIdentityArgs
from infra.clouds.aws.keys import Keys, KeysArgs
from infra.clouds.aws.network import Network, NetworkArgs
from infra.clouds.aws.pull import RegistryPuller, RegistryPullerArgs
from infra.clouds.aws.registry import ContainerRegistry, ContainerRegistryArgs
from infra.clouds.aws.route53 import ServingRecords, ServingRecordsArgs
from infra.clouds.aws.storage import ObjectStore, ObjectStoreArgs
from infra.clouds.base import (
    ApiAccess,
    Capability,
    CloudPlatform,
    EgressRule,
    FederatedAccess,
    ForeignWorkload,
    GatewayAddress,
    PlatformArgs,
    RegistryPull,
    ServingZone,
    model_prefix,
)
from infra.config.aws import AwsConfig
from infra.gateway.dns01 import Dns01Access, SolverCluster

NLB = gateway_address.NLB
MISSING = {
    Capability.GPU_DEVICE_PLUGIN: (
        "EKS's AL2023 NVIDIA AMI ships the driver and container toolkit but not the NVIDIA device "
        "plugin, so nodes advertise no nvidia.com/gpu until it is installed"
    )
}
SPOT_NOTICE_SECONDS = 120
"""EC2 warns two minutes before it reclaims a Spot instance; the node is drained in that time
(docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html)."""
POD_IDENTITY_AGENT = (EgressRule("169.254.170.23/32", 80),)
"""The EKS Pod Identity agent, a node-local endpoint that hands pods their role credentials; a default-deny
NetworkPolicy must let pods reach it (docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html)."""


def cluster_name(stack: str) -> str:
    """Fixed, not auto-named: the log group, subnet tags and autoscaler tags must know it in advance."""
    return naming.resource_name(naming.PROJECT, stack)


def service_annotations(exposure: str, tags: dict[str, str]) -> dict[str, str]:
    """Annotations that give a LoadBalancer Service an NLB from the cloud provider's service controller;
    internal unless serving is public (its Service then limits sources with `loadBalancerSourceRanges`)."""
    annotations = {
        f"{NLB}-type": "nlb",
        f"{NLB}-additional-resource-tags": ",".join(f"{k}={v}" for k, v in sorted(tags.items())),
    }
    if exposure == "internal":
        annotations[f"{NLB}-internal"] = "true"
    return annotations


class AwsPlatform(pulumi.ComponentResource):
    """Every AWS component of a stack under one parent; `contract()` is what the workloads get."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:Platform", name, None, opts)
        # `args.admit` (the home cluster's NAT addresses) limits what a federated role may do to requests
        # from there: a token or a session that leaks elsewhere is refused by S3.
        self._name, self._cfg, self._admit = name, args.cfg, args.admit
        # `args.api_admit` (the MultiKueue manager's NAT addresses) joins the API's public access list.
        self._api_admit = args.api_admit
        self._trusts: dict[Cloud, FederatedTrust] = {}
        self._aws = aws_cfg = args.cfg.section(AwsConfig)
        self._context = make_context(name, stack=self._cfg.stack, region=aws_cfg.region, parent=self)
        self._child = pulumi.ResourceOptions(parent=self, providers={"aws": self._context.provider})
        self.cluster_name = cluster_name(self._cfg.stack)
        self.keys = Keys(
            f"{name}-keys",
            KeysArgs(
                context=self._context,
                alias_prefix=f"{naming.PROJECT}/{self._cfg.stack}",
                deletion_window_days=30 if self._cfg.protect else 7,
                protect=self._cfg.protect,
            ),
            opts=self._child,
        )
        self.network = self._network()
        self.cluster = self._cluster()
        self.autoscaler = ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                context=self._context,
                cluster_name=self.cluster_name,
                cluster=self.cluster.cluster_name,
                image=aws_cfg.autoscaler_image(),
                k8s_provider=self.cluster.provider,
            ),
            opts=self._child,
        )
        self._data()
        self.network_ids: dict[str, pulumi.Output[object]] = {
            "vpcId": self.network.vpc_id,
            "privateSubnetIds": self.network.private_subnet_ids,
            "publicSubnetIds": self.network.public_subnet_ids,
        }
        self.register_outputs(
            {
                "clusterName": self.cluster.cluster_name,
                "bucketUri": self.store.uri,
                "registry": self.registry.registry.repository,
                **self.network_ids,
            }
        )

    def contract(self) -> CloudPlatform:
        """What the cloud-agnostic workloads build on: the cluster, its provider, bucket and identities."""
        cfg, aws_cfg = self._cfg, self._aws
        return CloudPlatform(
            cloud=CLOUD,
            region=aws_cfg.region,
            cluster_name=self.cluster.cluster_name,
            kubeconfig=self.cluster.kubeconfig,
            k8s_provider=self.cluster.provider,
            bucket_uri=self.store.uri,
            registry=self.registry.registry,
            identities=self.identity.bindings,
            # Pods have VPC addresses (VPC CNI), so the VPC range covers in-cluster and in-VPC clients alike.
            internal_sources=(aws_cfg.vpc_cidr,),
            oidc_issuer=self.cluster.oidc_issuer,
            egress_ips=self.network.egress_ips,
            federate=self.federate,
            admit_api=self.admit_api,
            grant_pull=self.grant_pull,
            gateway_address=self.gateway_address,
            spot_notice_seconds=SPOT_NOTICE_SECONDS,
            missing=MISSING,
            service_annotations=service_annotations(
                cfg.serving.exposure, naming.tags(cfg.stack, CLOUD, "serving")
            ),
            network=self.network_ids,
            # s3fs and rclone take the region from here, their credentials from the Pod Identity agent.
            storage_env={"AWS_REGION": aws_cfg.region, "AWS_DEFAULT_REGION": aws_cfg.region},
            identity_egress=POD_IDENTITY_AGENT,
            serving_zone=self._serving_zone(),
        )

    def _serving_zone(self) -> ServingZone | None:
        """The serving zone's declarations, where `serving.dns` names a zone in this account."""
        dns = self._cfg.serving.dns
        if dns is None or dns.cloud != CLOUD:
            return None
        return ServingZone(
            dns01=self.dns01, records=self.serving_records, failover_seconds=route53.FAILOVER_SECONDS
        )

    def federate(self, workload: ForeignWorkload) -> FederatedAccess:
        """Trust another cloud's workload for its prefix of the bucket (`federation.py`)."""
        return self._trust(workload).replicator(
            workload,
            bucket_arn=self.store.bucket_arn,
            bucket_key_arn=self.keys.arn("storage"),
            sources=self._admit,
        )

    def admit_api(self, workload: ForeignWorkload) -> ApiAccess:
        """Trust another cloud's workload to sign in to the cluster's API server (`federation.py`)."""
        return self._trust(workload).api_client(workload, self.cluster.cluster)

    def grant_pull(self, namespace: str, service_account: str) -> RegistryPull:
        """Let a workload of the cluster read the trainer repository (`pull.py`)."""
        puller = RegistryPuller(
            f"{self._name}-pull-{namespace}-{service_account}",
            RegistryPullerArgs(
                context=self._context,
                cluster_name=self.cluster_name,
                cluster=self.cluster.cluster_name,
                namespace=namespace,
                service_account=service_account,
                repository=self.registry.repository,
                host=self.registry.host,
            ),
            opts=self._child,
        )
        return puller.pull

    def gateway_address(self) -> GatewayAddress:
        """Reserve an Elastic IP per public subnet for the gateway's internet-facing NLB
        (`gateway_address.py`), from the controller that gives serving its NLB."""
        tags = naming.tags(self._cfg.stack, CLOUD, "gateway")
        return gateway_address.reserve(
            f"{self._name}-gateway-eip",
            public_subnets=self.network.public_subnets,
            nlb_annotations=service_annotations("public", tags),
            tags=tags,
            # Public addresses of the VPC: allocated after its internet gateway, released before it goes
            # (the gateway cannot be detached while an address is mapped), as the NAT's are.
            opts=pulumi.ResourceOptions.merge(
                self._child,
                pulumi.ResourceOptions(depends_on=[self.network.internet_gateway], protect=self._cfg.protect),
            ),
        )

    def dns01(self, cluster: SolverCluster) -> Dns01Access:
        """Let `cluster`'s cert-manager answer ACME DNS-01 in the serving zone (`dns01.py`). Not part of
        the contract: the zone is this account's whichever cluster asks, so this platform declares every
        cluster's access, the others' through the one trust per issuer that `federate` also uses."""
        zone, domain = self._zone("DNS-01")
        if cluster.cloud != CLOUD:
            workload = cluster.foreign()
            return federated(
                self._trust(workload), workload, context=self._context, zone_id=zone, domain=domain
            )
        solver = Dns01Solver(
            f"{self._name}-dns01",
            Dns01SolverArgs(
                context=self._context,
                zone_id=zone,
                domain=domain,
                cluster=cluster,
                cluster_name=self.cluster_name,
                cluster_output=self.cluster.cluster_name,
            ),
            opts=self._child,
        )
        return solver.access

    def serving_records(self, addresses: Mapping[Cloud, pulumi.Input[list[str]]]) -> ServingRecords:
        """Declare `<cloud>.<domain>` and the health-routed `<domain>` in the serving zone for each cloud's
        gateway `addresses` (`route53.py`). Not part of the contract, like `dns01`: the zone is this
        account's, and it names every cloud's gateway."""
        zone, domain = self._zone("the serving names")
        return ServingRecords(
            f"{self._name}-records",
            ServingRecordsArgs(
                context=self._context,
                zone_id=zone,
                domain=domain,
                model_name=self._cfg.serving.model_name,
                addresses=addresses,
            ),
            opts=self._child,
        )

    def _zone(self, what: str) -> tuple[str, str]:
        """The serving zone's id and the domain, which only a stack with a Route 53 zone has."""
        serving = self._cfg.serving
        if serving.domain is None or serving.dns is None or serving.dns.cloud != CLOUD:
            raise ValueError(f"{what} in Route 53: set serving.domain and serving.dns with provider route53")
        return serving.dns.zone_id, serving.domain

    def _trust(self, workload: ForeignWorkload) -> FederatedTrust:
        """The one trust, with the one OIDC provider, for the cluster `workload` runs on: IAM refuses a
        second provider for the same issuer. Its name is the one the replicator's trust always had, so
        the provider and the replicator's role keep their URNs."""
        if workload.cloud not in self._trusts:
            self._trusts[workload.cloud] = FederatedTrust(
                f"{self._name}-federation-{workload.cloud}",
                FederatedTrustArgs(context=self._context, cloud=workload.cloud, issuer=workload.issuer),
                opts=self._child,
            )
        return self._trusts[workload.cloud]

    def _network(self) -> Network:
        aws_cfg = self._aws
        return Network(
            f"{self._name}-network",
            NetworkArgs(
                context=self._context,
                cidr=aws_cfg.vpc_cidr,
                zones=aws_cfg.availability_zones,
                nat_gateways=aws_cfg.nat_gateways,
                cluster_name=self.cluster_name,
                logs_key_arn=self.keys.arn("logs"),
                log_retention_days=aws_cfg.log_retention_days,
            ),
            opts=self._child,
        )

    def _cluster(self) -> GpuCluster:
        cfg, aws_cfg = self._cfg, self._aws
        return GpuCluster(
            f"{self._name}-cluster",
            GpuClusterArgs(
                context=self._context,
                cluster_name=self.cluster_name,
                version=aws_cfg.kubernetes_version,
                vpc_id=self.network.vpc_id,
                subnet_ids=self.network.private_subnet_ids,
                subnet_zones=self.network.private_subnet_zones,
                node_egress=self.network.private_egress,
                api_access=aws_cfg.api_access,
                api_admit=self._api_admit,
                deployer_principal_arn=aws_cfg.deployer_principal_arn,
                addons=aws_cfg.pinned_addons(),
                secrets_key_arn=self.keys.arn("secrets"),
                logs_key_arn=self.keys.arn("logs"),
                disks_key_arn=self.keys.arn("disks"),
                log_retention_days=aws_cfg.log_retention_days,
                system_pool=nodepools.system_spec(aws_cfg.system_pool),
                gpu_pools=[nodepools.gpu_spec(p, aws_cfg.region) for p in cfg.pools_on(CLOUD)],
                protect=cfg.protect,
            ),
            opts=self._child,
        )

    def _data(self) -> None:
        """The bucket, the registry, and the workload identities that reach the bucket."""
        cfg, aws_cfg, context = self._cfg, self._aws, self._context
        self.store = ObjectStore(
            f"{self._name}-storage",
            ObjectStoreArgs(
                context=context,
                bucket_name=aws_cfg.bucket_name,
                key_arn=self.keys.arn("storage"),
                noncurrent_version_days=cfg.storage.noncurrent_version_days,
                abort_multipart_days=cfg.storage.abort_multipart_days,
                protect=cfg.protect,
            ),
            opts=self._child,
        )
        self.registry = ContainerRegistry(
            f"{self._name}-registry",
            ContainerRegistryArgs(
                context=context,
                repository_name=aws_cfg.registry_name,
                key_arn=self.keys.arn("registry"),
                protect=cfg.protect,
            ),
            opts=self._child,
        )
        self.identity = WorkloadIdentity(
            f"{self._name}-identity",
            WorkloadIdentityArgs(
                context=context,
                cluster_name=self.cluster_name,
                cluster=self.cluster.cluster_name,
                namespace=cfg.namespace,
                bucket_arn=self.store.bucket_arn,
                bucket_key_arn=self.keys.arn("storage"),
                replica_prefix=model_prefix(cfg.serving.model_name),
            ),
            opts=self._child,
        )


def build(args: PlatformArgs) -> CloudPlatform:
    """The stack's AWS platform, as the contract the workloads build on."""
    return AwsPlatform(f"{args.cfg.stack}-{CLOUD}", args).contract()
