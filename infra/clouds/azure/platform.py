"""The Azure platform: one explicit azure-native provider, the stack's resource group, and the
capability components wired together, returned as the cloud contract (`base.CloudPlatform`).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from infra import naming
from infra.clouds import settle
from infra.clouds.azure import admission
from infra.clouds.azure.api_access import ApiTrust, ApiTrustArgs
from infra.clouds.azure.cluster import GpuCluster, GpuClusterArgs
from infra.clouds.azure.context import CLOUD, AzureContext, Deployer, deployer
from infra.clouds.azure.federation import FederatedTrust, FederatedTrustArgs
from infra.clouds.azure.gateway_address import GatewayIp, GatewayIpArgs
from infra.clouds.azure.identity import WorkloadIdentity, WorkloadIdentityArgs
from infra.clouds.azure.keys import KeyVault, KeyVaultArgs
from infra.clouds.azure.network import Network, NetworkArgs
from infra.clouds.azure.nodepools import SPOT_TOLERATION
from infra.clouds.azure.pull import RegistryPuller, RegistryPullerArgs
from infra.clouds.azure.registry import ContainerRegistry, RegistryArgs
from infra.clouds.azure.storage import CustomerKey, ObjectStore, ObjectStoreArgs
from infra.clouds.base import (
    DEVICE_PLUGIN_NAMESPACE,
    ApiAccess,
    Capability,
    CloudPlatform,
    FederatedAccess,
    ForeignWorkload,
    GatewayAddress,
    PlatformArgs,
    RegistryPull,
    model_prefix,
)
from infra.config import StackConfig
from infra.config.azure import AzureConfig

CONTAINER = "ml"
INTERNAL_LB = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
NO_DEVICE_PLUGIN = (
    "AKS installs the NVIDIA driver on GPU pools (gpuProfile.driver=Install) but not the NVIDIA device "
    "plugin, so nodes advertise no nvidia.com/gpu until the workloads deploy it."
)

SPOT_NOTICE_SECONDS = 30
"""Azure's Scheduled Events announce a Spot eviction at least 30 seconds ahead
(learn.microsoft.com/azure/virtual-machines/linux/scheduled-events)."""


class AzurePlatform(pulumi.ComponentResource):
    """The stack's Azure side: its resource group and every capability component in it, parented here so
    that they share one provider and the program reads them as one contract."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:Platform", name, None, opts)
        cfg = args.cfg
        az = cfg.section(AzureConfig)
        provider = azure_native.Provider(
            f"{name}-provider", location=az.location, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, providers=[provider, settle.provider(name, self)])
        client = azure_native.authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(provider=provider)
        )
        group = azure_native.resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=az.resource_group_name,
            location=az.location,
            tags=naming.tags(cfg.stack, CLOUD, "platform"),
            opts=pulumi.ResourceOptions(parent=self, providers=[provider], protect=cfg.protect),
        )
        context = AzureContext(
            stack=cfg.stack,
            location=az.location,
            resource_group_name=group.name,
            subscription_id=client.subscription_id,
            provider=provider,
        )
        caller = deployer(client.object_id, provider)
        network = Network(f"{name}-net", _network_args(context, cfg), child)
        keys = KeyVault(f"{name}-keys", _keys_args(context, cfg), child)
        cluster = GpuCluster(f"{name}-cluster", _cluster_args(context, args, network, keys, caller), child)
        store = ObjectStore(f"{name}-store", _store_args(context, args, network, keys), child)
        registry = ContainerRegistry(
            f"{name}-registry", _registry_args(context, cfg, network, cluster, caller), child
        )
        admission.assignments(
            f"{name}-admission",
            context,
            cluster_id=cluster.cluster_id,
            login_server=registry.login_server,
            admit_image=args.admit_image,
            node_agent_namespaces=(DEVICE_PLUGIN_NAMESPACE,),
            opts=child,
        )
        identity = WorkloadIdentity(f"{name}-identity", _identity_args(context, cfg, cluster, store), child)
        # What `contract()` and `federate()` read.
        self._name, self._context, self._child = name, context, child
        self._cfg, self._network, self._cluster = cfg, network, cluster
        self._store, self._registry, self._identity = store, registry, identity
        self.register_outputs(
            {
                "resourceGroup": group.name,
                "blobEndpoint": store.blob_endpoint,
                "vnetId": network.vnet_id,
                "subnetIds": {"system": network.system_subnet_id, "gpu": network.gpu_subnet_id},
                "waivers": [w.control for w in cfg.waivers if CLOUD in w.clouds],
            }
        )

    def contract(self) -> CloudPlatform:
        """What the workloads get from Azure: the cluster, the bucket, the registry and the identities."""
        cfg, az = self._cfg, self._cfg.section(AzureConfig)
        network, store = self._network, self._store
        return CloudPlatform(
            cloud=CLOUD,
            region=az.location,
            cluster_name=self._cluster.cluster_name,
            kubeconfig=self._cluster.kubeconfig,
            k8s_provider=self._cluster.provider,
            bucket_uri=store.bucket_uri,
            registry=self._registry.contract,
            identities=self._identity.bindings,
            # Pods leave the node with its VNet address (CNI overlay), so the VNet range covers them.
            internal_sources=(az.vnet_cidr,),
            oidc_issuer=self._cluster.oidc_issuer_url,
            egress_ips=network.egress_ip.apply(lambda a: [a] if a else []),
            federate=self.federate,
            admit_api=self.admit_api,
            grant_pull=self.grant_pull,
            gateway_address=self.gateway_address,
            spot_notice_seconds=SPOT_NOTICE_SECONDS,
            missing={Capability.GPU_DEVICE_PLUGIN: NO_DEVICE_PLUGIN},
            service_annotations=INTERNAL_LB if cfg.serving.exposure == "internal" else {},
            # adlfs reads the account from the environment; `AZURE_STORAGE_ANON=false` makes it use
            # DefaultAzureCredential, which picks up the token the workload-identity webhook mounts.
            storage_env={"AZURE_STORAGE_ACCOUNT_NAME": store.account_name, "AZURE_STORAGE_ANON": "false"},
            spot_tolerations=(SPOT_TOLERATION,),
            network={
                "vnet": network.vnet_id,
                "systemSubnet": network.system_subnet_id,
                "gpuSubnet": network.gpu_subnet_id,
            },
        )

    def federate(self, workload: ForeignWorkload) -> FederatedAccess:
        """Trust another cloud's workload for its prefix of the container (`federation.py`)."""
        trust = FederatedTrust(
            f"{self._name}-federation-{workload.cloud}",
            FederatedTrustArgs(
                context=self._context,
                workload=workload,
                container_id=self._store.container_id,
                account_name=self._store.account_name,
            ),
            self._child,
        )
        return trust.access

    def admit_api(self, workload: ForeignWorkload) -> ApiAccess:
        """Trust another cloud's workload to sign in to the cluster's API server (`api_access.py`)."""
        trust = ApiTrust(
            f"{self._name}-api-{workload.cloud}",
            ApiTrustArgs(
                context=self._context,
                workload=workload,
                server=self._cluster.api_server,
                ca_data=self._cluster.ca_data,
            ),
            self._child,
        )
        return trust.access

    def grant_pull(self, namespace: str, service_account: str) -> RegistryPull:
        """Let a workload of the cluster pull from the registry (`pull.py`)."""
        puller = RegistryPuller(
            f"{self._name}-pull-{namespace}-{service_account}",
            RegistryPullerArgs(
                context=self._context,
                namespace=namespace,
                service_account=service_account,
                oidc_issuer_url=self._cluster.oidc_issuer_url,
                registry_id=self._registry.registry_id,
                login_server=self._registry.login_server,
            ),
            self._child,
        )
        return puller.pull

    def gateway_address(self) -> GatewayAddress:
        """Reserve the gateway's public address in a resource group of its own (`gateway_address.py`)."""
        az = self._cfg.section(AzureConfig)
        ip = GatewayIp(
            f"{self._name}-gateway-ip",
            GatewayIpArgs(
                context=self._context,
                resource_group_name=f"{az.resource_group_name}-gateway",
                cluster_principal_id=self._cluster.control_plane_principal_id,
                zones=az.availability_zones,
                protect=self._cfg.protect,
            ),
            self._child,
        )
        return ip.address


def build(args: PlatformArgs) -> CloudPlatform:
    """The stack's Azure platform, as the contract the workloads are built on."""
    return AzurePlatform(f"{args.cfg.stack}-{CLOUD}", args).contract()


def _network_args(context: AzureContext, cfg: StackConfig) -> NetworkArgs:
    az, serving = cfg.section(AzureConfig), cfg.serving
    return NetworkArgs(
        context=context,
        vnet_cidr=az.vnet_cidr,
        system_subnet_cidr=az.system_subnet_cidr,
        gpu_subnet_cidr=az.gpu_subnet_cidr,
        api_server_subnet_cidr=az.api_server_subnet_cidr,
        # With a domain TF Serving's Service is ClusterIP: only the gateway's ports face the sources.
        public_serving_sources=(
            tuple(serving.source_cidrs) if serving.exposure == "public" and not serving.domain else ()
        ),
        # A domain requires public exposure and source CIDRs (infra/config/checks.py).
        gateway_sources=tuple(serving.source_cidrs) if serving.domain else (),
    )


def _keys_args(context: AzureContext, cfg: StackConfig) -> KeyVaultArgs:
    az = cfg.section(AzureConfig)
    return KeyVaultArgs(
        context=context,
        vault_name=az.key_vault_name,
        tenant_id=az.tenant_id,
        # ST-12 (storage CMK) may be waived per stack, with a reason in config; KMS for etcd never is.
        storage_cmk=cfg.waived("ST-12", CLOUD) is None,
        protect=cfg.protect,
    )


def _registry_args(
    context: AzureContext, cfg: StackConfig, network: Network, cluster: GpuCluster, caller: Deployer
) -> RegistryArgs:
    az = cfg.section(AzureConfig)
    return RegistryArgs(
        context=context,
        registry_name=az.registry_name,
        retention_days=az.registry_retention_days,
        # Nodes pull through the NAT gateway's address; operators and CI push from their own CIDRs.
        allowed_cidrs=[network.egress_ip, *az.api_access.authorized_cidrs],
        kubelet_principal_id=cluster.kubelet_principal_id,
        deployer=caller,
        tenant_id=az.tenant_id,
        protect=cfg.protect,
        # RG-03 may be waived per stack, with a reason in config: a Basic registry without a firewall.
        locked_down=cfg.waived("RG-03", CLOUD) is None,
    )


def _cluster_args(
    context: AzureContext, args: PlatformArgs, network: Network, keys: KeyVault, caller: Deployer
) -> GpuClusterArgs:
    cfg = args.cfg
    az = cfg.section(AzureConfig)
    return GpuClusterArgs(
        context=context,
        cluster_name=naming.resource_name(cfg.stack, "aks"),
        tenant_id=az.tenant_id,
        config=az,
        gpu_pools=cfg.pools_on(CLOUD),
        vnet_id=network.vnet_id,
        system_subnet_id=network.system_subnet_id,
        gpu_subnet_id=network.gpu_subnet_id,
        api_server_subnet_id=network.api_server_subnet_id,
        vault_id=keys.vault_id,
        kms_key=keys.aks_key,
        deployer=caller,
        protect=cfg.protect,
        # The MultiKueue manager's NAT on a worker: its refresher and controller call this API server.
        api_admit=args.api_admit,
    )


def _store_args(
    context: AzureContext, args: PlatformArgs, network: Network, keys: KeyVault
) -> ObjectStoreArgs:
    cfg = args.cfg
    az = cfg.section(AzureConfig)
    return ObjectStoreArgs(
        context=context,
        account_name=az.storage_account_name,
        sku=az.storage_sku,
        container_name=CONTAINER,
        node_subnet_ids=[network.system_subnet_id, network.gpu_subnet_id],
        # The storage firewall is the only one in the way of another cloud's replicator: it lets the
        # home cluster's NAT addresses through (the grant `federate` makes does the rest).
        admit=args.admit,
        soft_delete_days=cfg.storage.soft_delete_days,
        noncurrent_version_days=cfg.storage.noncurrent_version_days,
        customer_key=(
            CustomerKey(vault_uri=keys.vault_uri, key=keys.storage_key) if keys.storage_key else None
        ),
        protect=cfg.protect,
    )


def _identity_args(
    context: AzureContext, cfg: StackConfig, cluster: GpuCluster, store: ObjectStore
) -> WorkloadIdentityArgs:
    return WorkloadIdentityArgs(
        context=context,
        namespace=cfg.namespace,
        oidc_issuer_url=cluster.oidc_issuer_url,
        container_id=store.container_id,
        account_name=store.account_name,
        replica_prefix=model_prefix(cfg.serving.model_name),
    )
