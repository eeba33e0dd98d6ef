"""The EKS cluster: API-only access entries, a restricted or private endpoint, KMS-encrypted secrets,
every control-plane log type into a pre-created encrypted log group, pinned managed add-ons, the node
groups, and the Kubernetes provider on the kubeconfig (`kubeconfig.py`) that the workloads deploy through.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.clouds.aws import kubeconfig, policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.aws.nodepools import NodePools, NodePoolsArgs, PoolSpec
from infra.config.aws import EksAddons
from infra.config.types import ApiAccess

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
PUBLIC_ACCESS_CIDRS_MAX = 40
"""EKS's quota of public endpoint CIDR blocks per cluster, which cannot be raised
(docs.aws.amazon.com/general/latest/gr/eks.html#limits_eks)."""


@dataclass(frozen=True, kw_only=True)
class GpuClusterArgs:
    context: AwsContext
    cluster_name: str
    version: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    subnet_zones: pulumi.Input[list[str]]
    node_egress: Sequence[pulumi.Resource]
    """The private subnets' NAT routes: nodes pull images and reach AWS APIs through them."""
    api_access: ApiAccess
    api_admit: pulumi.Input[Sequence[str]] = ()
    """Single addresses the public endpoint admits beside `api_access.authorized_cidrs`: the MultiKueue
    manager's NAT egress on a worker cluster."""
    deployer_principal_arn: str
    addons: EksAddons
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    disks_key_arn: pulumi.Input[str]
    log_retention_days: int
    system_pool: PoolSpec
    gpu_pools: Sequence[PoolSpec]
    protect: bool


def public_access_cidrs(authorized: Sequence[str], admitted: Sequence[str]) -> list[str]:
    """The public endpoint's access list: the authorized CIDRs, then each admitted address as a /32 block
    (once). An IPv4 cluster's endpoint takes IPv4 blocks only, and at most `PUBLIC_ACCESS_CIDRS_MAX`;
    EKS then answers only requests from these blocks (docs.aws.amazon.com/eks/latest/userguide/
    config-cluster-endpoint.html)."""
    cidrs = list(authorized)
    for address in admitted:
        ip = ipaddress.ip_address(address)
        if ip.version != 4:
            raise ValueError(f"the EKS public endpoint of an IPv4 cluster admits IPv4 only, not {address}")
        if (cidr := f"{ip}/32") not in cidrs:
            cidrs.append(cidr)
    if len(cidrs) > PUBLIC_ACCESS_CIDRS_MAX:
        raise ValueError(f"EKS takes at most {PUBLIC_ACCESS_CIDRS_MAX} public access CIDRs, not {len(cidrs)}")
    return cidrs


def token_issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The issuer of the cluster's service-account tokens, `https://oidc.eks.<region>.amazonaws.com/id/<id>`:
    what other clouds trust for its workloads. EKS gives every cluster one."""
    for identity in identities:
        for oidc in identity.oidcs or ():
            if oidc.issuer:
                return str(oidc.issuer)
    raise ValueError("the EKS cluster reports no OIDC issuer")


class GpuCluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:GpuCluster", name, None, opts)
        self._name, self._args, context = name, args, args.context
        self.cluster = self._cluster()
        self.cluster_name: pulumi.Output[str] = self.cluster.name
        self.oidc_issuer: pulumi.Output[str] = self.cluster.identities.apply(token_issuer)
        admin = self._deployer_access()
        self.node_pools = NodePools(
            f"{name}-nodes",
            NodePoolsArgs(
                context=context,
                cluster_name=self.cluster.name,
                cluster_version=self.cluster.version,
                subnet_ids=args.subnet_ids,
                subnet_zones=args.subnet_zones,
                disks_key_arn=args.disks_key_arn,
                system=args.system_pool,
                gpu=args.gpu_pools,
                autoscaled_cluster=args.cluster_name,
                # Nodes join only once the CNI can give them pod addresses and a route out pulls its
                # image, or their group never turns healthy.
                after=[*self._node_addons(), *args.node_egress],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # CoreDNS and metrics-server stay degraded (and their create times out) until a node can run them.
        self._addon("coredns", args.addons.coredns, depends_on=[self.node_pools.system])
        self._addon("metrics-server", args.addons.metrics_server, depends_on=[self.node_pools.system])
        self.kubeconfig = kubeconfig.of(self.cluster, context.region)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Kubernetes objects wait for the deployer's access and for the system nodes, not for CoreDNS:
            # no object needs DNS to be created, and the rollouts Pulumi awaits outlast CoreDNS's minute.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[admin, self.node_pools.system]),
        )
        self.register_outputs(
            {"clusterName": self.cluster_name, "clusterArn": self.cluster.arn, "kubeconfig": self.kubeconfig}
        )

    def _role(
        self, role: str, service: str, policies_: tuple[str, ...]
    ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        context, child = self._args.context, pulumi.ResourceOptions(parent=self)
        created = aws.iam.Role(
            f"{self._name}-{role}-role",
            assume_role_policy=policies.service_trust(service, ("sts:AssumeRole", "sts:TagSession")),
            tags=context.tags("cluster"),
            opts=child,
        )
        attached = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{role}-{policy}",
                role=created.name,
                policy_arn=context.managed_policy(policy),
                opts=child,
            )
            for policy in policies_
        ]
        return created, attached

    def _cluster(self) -> aws.eks.Cluster:
        args, context = self._args, self._args.context
        role, grants = self._role("cluster", "eks.amazonaws.com", ("AmazonEKSClusterPolicy",))
        # Created first: EKS would otherwise create `/aws/eks/<name>/cluster` itself, unencrypted and
        # kept forever.
        logs = aws.cloudwatch.LogGroup(
            f"{self._name}-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=context.tags("cluster"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        public = not args.api_access.private_endpoint
        api_groups = [] if public else [self._private_api_clients().id]
        authorized = args.api_access.authorized_cidrs
        public_cidrs = pulumi.Output.from_input(args.api_admit).apply(
            lambda admitted: public_access_cidrs(authorized, admitted)
        )
        return aws.eks.Cluster(
            f"{self._name}-eks",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            access_config={
                "authentication_mode": "API",
                # The deployer gets an explicit access entry below; a bootstrap entry would clash with it.
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            # The managed add-ons below replace the unmanaged defaults EKS would otherwise install.
            bootstrap_self_managed_addons=False,
            vpc_config={
                "subnet_ids": args.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": public,
                "public_access_cidrs": public_cidrs if public else None,
                "security_group_ids": api_groups or None,
            },
            encryption_config={"provider": {"key_arn": args.secrets_key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(LOG_TYPES),
            # STANDARD: at the end of standard support EKS upgrades instead of billing extended support.
            upgrade_policy={"support_type": "STANDARD"},
            deletion_protection=args.protect,
            tags=context.tags("cluster"),
            # The role's policy too: EKS uses it while it creates the cluster's network interfaces and,
            # on destroy, while it deletes them, so it must come before and go after the cluster.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[logs, role, *grants]),
        )

    def _private_api_clients(self) -> aws.ec2.SecurityGroup:
        """With only the private endpoint, the API admits the cluster security group alone (its nodes):
        this group, on the control plane's interfaces, admits HTTPS from the authorized private networks
        (docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html)."""
        args = self._args
        return aws.ec2.SecurityGroup(
            f"{self._name}-api-clients",
            vpc_id=args.vpc_id,
            description="Kubernetes API clients on the authorized private networks",
            ingress=[
                {
                    "description": "Kubernetes API",
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_blocks": list(args.api_access.authorized_cidrs),
                }
            ],
            egress=[],
            tags=args.context.tags("cluster"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _deployer_access(self) -> aws.eks.AccessPolicyAssociation:
        args, child = self._args, pulumi.ResourceOptions(parent=self)
        entry = aws.eks.AccessEntry(
            f"{self._name}-deployer",
            cluster_name=self.cluster.name,
            principal_arn=args.deployer_principal_arn,
            type="STANDARD",
            tags=args.context.tags("cluster"),
            opts=child,
        )
        return aws.eks.AccessPolicyAssociation(
            f"{self._name}-deployer-admin",
            cluster_name=self.cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat(
                "arn:", args.context.partition, f":eks::aws:cluster-access-policy/{ADMIN_POLICY}"
            ),
            access_scope={"type": "cluster"},
            opts=child,
        )

    def _node_addons(self) -> list[pulumi.Resource]:
        """The add-ons a node needs to turn Ready: Pod Identity agent, VPC CNI, kube-proxy.

        Created side by side: they are DaemonSets, which run nothing before the first node joins, and on a
        new node the CNI retries until the agent beside it hands out its Pod Identity credentials."""
        addons = self._args.addons
        agent = self._addon("eks-pod-identity-agent", addons.eks_pod_identity_agent)
        role, policy = self._cni_role()
        cni = self._addon(
            "vpc-cni",
            addons.vpc_cni,
            configuration={"enableNetworkPolicy": "true"},
            pod_identity=[{"role_arn": role.arn, "service_account": "aws-node"}],
            # Without its policy the CNI cannot attach a pod address, and no node turns Ready.
            depends_on=[policy],
        )
        return [agent, cni, self._addon("kube-proxy", addons.kube_proxy)]

    def _cni_role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        context, child = self._args.context, pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{self._name}-cni-role",
            assume_role_policy=context.pod_identity_trust(self._args.cluster_name, "kube-system", "aws-node"),
            tags=context.tags("cluster"),
            opts=child,
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{self._name}-cni-AmazonEKS_CNI_Policy",
            role=role.name,
            policy_arn=context.managed_policy("AmazonEKS_CNI_Policy"),
            opts=child,
        )
        return role, policy

    def _addon(
        self,
        addon: str,
        version: str,
        configuration: dict[str, str] | None = None,
        pod_identity: list[dict[str, pulumi.Input[str]]] | None = None,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            addon_version=version,
            configuration_values=json.dumps(configuration) if configuration else None,
            pod_identity_associations=pod_identity,
            # The program owns these add-ons' configuration; drift made by hand is overwritten.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=self._args.context.tags("cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )
