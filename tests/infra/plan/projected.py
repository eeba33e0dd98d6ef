"""Hand-built stand-ins for what the AWS (issue 3) and Azure (issue 5) platforms and the workloads (issue
7) will register, from a stack's config: the priced resources and the dependency chains that matter for
time, with the wire names of pulumi_aws 7.x, pulumi_azure_native 3.x and pulumi_kubernetes 4.x.

They let the cost and critical-path tests run on all three clouds before those issues merge; once they
have, the real plan supersedes these and `projected_plan` should give way to `planned`.
"""

from __future__ import annotations

from typing import Any

from infra import catalog
from infra.config import StackConfig
from infra.config_types import SystemPool
from infra.plan.runner import Plan, PlannedResource

K8S_PROVIDER = "pulumi:providers:kubernetes"


class Builder:
    """Registers resources of one cloud under a stand-in platform component."""

    def __init__(self, stack: str, cloud: str, root: str = "Platform", prefix: str = "") -> None:
        self.stack, self.cloud, self.prefix = stack, cloud, prefix or f"{stack}-{cloud}"
        self.resources: list[PlannedResource] = []
        self.root = self.add(f"gpu-platform:{cloud}:{root}", "", {}, custom=False, parent=None)

    def add(
        self,
        type_: str,
        role: str,
        inputs: dict[str, Any],
        deps: tuple[PlannedResource, ...] = (),
        *,
        custom: bool = True,
        parent: PlannedResource | str | None = "root",
    ) -> PlannedResource:
        name = self.prefix + (f"-{role}" if role else "")
        owner = self.root if parent == "root" else parent
        res = PlannedResource(
            type=type_,
            name=name,
            urn=f"urn:pulumi:{self.stack}::gpu-platform::{type_}::{name}",
            parent=owner.urn if isinstance(owner, PlannedResource) else None,
            provider=None,
            cloud=self.cloud,
            custom=custom,
            inputs=inputs,
            depends_on=[d.urn for d in deps],
            protect=False,
            retain_on_delete=False,
        )
        self.resources.append(res)
        return res


def _offer(cfg: StackConfig, cloud: catalog.Cloud, pool_name: str) -> catalog.MachineOffer:
    pool = cfg.pool(pool_name)
    assert pool is not None
    section = getattr(cfg, cloud)
    region = section.location if cloud == "azure" else section.region
    offer = catalog.pick(pool.gpu_for(cloud), cloud, region, pool.gpus_per_node)
    assert offer is not None
    return offer


def _aws_network(b: Builder, a: Any) -> tuple[list[PlannedResource], PlannedResource]:
    """The VPC's private subnets, and the route through the NAT gateway(s) that nodes wait for."""
    vpc = b.add("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": a.vpc_cidr})
    zones = range(a.availability_zones)
    public = [
        b.add("aws:ec2/subnet:Subnet", f"public-{z}", {"tags": {"kubernetes.io/role/elb": "1"}}, (vpc,))
        for z in zones
    ]
    private = [b.add("aws:ec2/subnet:Subnet", f"private-{z}", {}, (vpc,)) for z in zones]
    nats = []
    for z in zones if a.nat_gateways == "perZone" else range(1):
        eip = b.add("aws:ec2/eip:Eip", f"nat-ip-{z}", {"domain": "vpc"})
        nats.append(b.add("aws:ec2/natGateway:NatGateway", f"nat-{z}", {}, (eip, public[z])))
    routes = b.add("aws:ec2/route:Route", "private-default", {}, tuple(nats))
    return private, routes


def aws(cfg: StackConfig) -> list[PlannedResource]:
    a = cfg.aws
    assert a is not None
    b = Builder(cfg.stack, "aws")
    private, routes = _aws_network(b, a)
    keys = [
        b.add("aws:kms/key:Key", f"{use}-key", {"enableKeyRotation": True})
        for use in ("eks", "s3", "ecr", "logs")
    ]
    logs = b.add(
        "aws:cloudwatch/logGroup:LogGroup",
        "cluster-logs",
        {"retentionInDays": a.log_retention_days},
        (keys[3],),
    )
    b.add(
        "aws:cloudwatch/logGroup:LogGroup", "flow-logs", {"retentionInDays": a.log_retention_days}, (keys[3],)
    )
    role = b.add("aws:iam/role:Role", "cluster-role", {})
    cluster = b.add(
        "aws:eks/cluster:Cluster",
        "eks",
        {"version": a.kubernetes_version, "upgradePolicy": {"supportType": "STANDARD"}},
        (role, keys[0], logs, *private),
    )
    groups = [_aws_group(b, "system", a.system_pool, None, after=(cluster, routes))]
    for pool in cfg.pools_on("aws"):
        offer = _offer(cfg, "aws", pool.name)
        sp = SystemPool(
            machine_type=offer.machine_type, min_nodes=max(pool.min_nodes, 1), max_nodes=pool.max_nodes
        )
        groups.append(_aws_group(b, pool.name, sp, pool, after=(cluster, routes)))
    b.add("aws:s3/bucket:Bucket", "bucket", {"bucket": a.bucket_name}, (keys[1],))
    b.add("aws:ecr/repository:Repository", "registry", {"name": a.registry_name}, (keys[2],))
    b.add(K8S_PROVIDER, "k8s", {}, (cluster, *groups))
    return b.resources


def _aws_group(
    b: Builder, name: str, sp: SystemPool, pool: Any, *, after: tuple[PlannedResource, ...]
) -> PlannedResource:
    disk = pool.disk_gb if pool is not None else sp.disk_gb
    template = b.add(
        "aws:ec2/launchTemplate:LaunchTemplate",
        f"{name}-template",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"volumeSize": disk, "volumeType": "gp3"}}
            ]
        },
    )
    low = pool.min_nodes if pool is not None else sp.min_nodes
    inputs = {
        "instanceTypes": [sp.machine_type],
        "capacityType": "SPOT" if pool is not None and pool.spot else "ON_DEMAND",
        "scalingConfig": {"minSize": low, "maxSize": sp.max_nodes, "desiredSize": max(low, 1)},
        "launchTemplate": {"id": template.urn, "version": "1"},
        "labels": {"nvidia.com/gpu.present": "true"} if pool is not None else {},
    }
    return b.add("aws:eks/nodeGroup:NodeGroup", f"{name}-nodes", inputs, (*after, template))


def _aks_pool(sp: SystemPool, name: str, mode: str) -> dict[str, Any]:
    return {
        "name": name,
        "mode": mode,
        "vmSize": sp.machine_type,
        "enableAutoScaling": True,
        "minCount": sp.min_nodes,
        "maxCount": sp.max_nodes,
        "osDiskType": "Managed",
        "osDiskSizeGB": sp.disk_gb,
    }


def _azure_network(b: Builder, group: PlannedResource) -> list[PlannedResource]:
    """The node subnets, each associated with the NAT gateway (AKS's user-assigned outbound)."""
    vnet = b.add("azure-native:network:VirtualNetwork", "vnet", {}, (group,))
    ip = b.add("azure-native:network:PublicIPAddress", "nat-ip", {"sku": {"name": "Standard"}}, (group,))
    nat = b.add("azure-native:network:NatGateway", "nat", {"sku": {"name": "Standard"}}, (ip,))
    return [b.add("azure-native:network:Subnet", f"{s}-subnet", {}, (vnet, nat)) for s in ("system", "gpu")]


def azure(cfg: StackConfig) -> list[PlannedResource]:
    z = cfg.azure
    assert z is not None
    b = Builder(cfg.stack, "azure")
    group = b.add("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": z.resource_group_name})
    subnets = _azure_network(b, group)
    vault = b.add(
        "azure-native:keyvault:Vault", "vault", {"properties": {"sku": {"name": "standard"}}}, (group,)
    )
    key = b.add("azure-native:keyvault:Key", "aks-key", {"properties": {"kty": "RSA"}}, (vault,))
    grant = b.add("azure-native:authorization:RoleAssignment", "aks-key-grant", {}, (key,))
    logs = b.add(
        "azure-native:operationalinsights:Workspace", "logs", {"sku": {"name": "PerGB2018"}}, (group,)
    )
    cluster = b.add(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {
            "sku": {"name": "Base", "tier": z.sku_tier},
            "agentPoolProfiles": [_aks_pool(z.system_pool, "system", "System")],
            "networkProfile": {"outboundType": "userAssignedNATGateway"},
        },
        (*subnets, grant, logs),
    )
    pools = _aks_pools(b, cfg, cluster)
    b.add("azure-native:storage:StorageAccount", "storage", {"sku": {"name": "Standard_LRS"}}, (group,))
    acr = "Basic" if cfg.environment == "dev" else "Premium"
    b.add("azure-native:containerregistry:Registry", "acr", {"sku": {"name": acr}}, (group,))
    b.add(K8S_PROVIDER, "k8s", {}, (cluster, *pools))
    return b.resources


def _aks_pools(b: Builder, cfg: StackConfig, cluster: PlannedResource) -> list[PlannedResource]:
    """The general CPU pool and one AgentPool per GPU pool, GPU nodes on ephemeral OS disks."""
    assert cfg.azure is not None
    general = _aks_pool(cfg.azure.general_pool, "general", "User")
    pools = [b.add("azure-native:containerservice:AgentPool", "general", general, (cluster,))]
    for pool in cfg.pools_on("azure"):
        offer = _offer(cfg, "azure", pool.name)
        sp = SystemPool(
            machine_type=offer.machine_type, min_nodes=1, max_nodes=pool.max_nodes, disk_gb=pool.disk_gb
        )
        inputs = {**_aks_pool(sp, pool.name, "User"), "minCount": pool.min_nodes, "osDiskType": "Ephemeral"}
        inputs["scaleSetPriority"] = "Spot" if pool.spot else "Regular"
        pools.append(b.add("azure-native:containerservice:AgentPool", pool.name, inputs, (cluster,)))
    return pools


INTERNAL_LB = {"aws": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}


def workloads(cfg: StackConfig, cloud: str, provider: str) -> list[PlannedResource]:
    """Issue 7's objects on one cluster, each through the cluster's Kubernetes provider."""
    b = Builder(cfg.stack, cloud, root="Workloads", prefix=f"{cfg.stack}-{cloud}-workloads")
    ns = b.add("kubernetes:core/v1:Namespace", "ns", {})
    b.add("kubernetes:apps/v1:Deployment", "serving", {}, (ns,))
    internal = INTERNAL_LB.get(cloud, {}) if cfg.serving.exposure == "internal" else {}
    service = {"metadata": {"annotations": internal}, "spec": {"type": "LoadBalancer"}}
    b.add("kubernetes:core/v1:Service", "serving-svc", service, (ns,))
    b.add("kubernetes:batch/v1:Job", "train", {}, (ns,))
    for res in b.resources[1:]:
        res.provider = provider
    return b.resources


def projected_plan(real: Plan, cfg: StackConfig) -> Plan:
    """The real plan (GCP) plus the stand-ins for AWS and Azure, and workloads on every cluster."""
    resources = list(real.resources)
    for build in (aws, azure):
        resources += build(cfg)
    for cloud in ("aws", "gcp", "azure"):
        provider = next(r for r in resources if r.type == K8S_PROVIDER and r.cloud == cloud)
        resources += workloads(cfg, cloud, provider.urn)
    return Plan(real.project, real.stack, resources, {}, [])
