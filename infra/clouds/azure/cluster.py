"""The AKS cluster: user-assigned identities for the control plane and the kubelet, the role assignments
AKS needs before it starts, the ManagedCluster with the system pool, the general and GPU pools, Container
insights with kube-audit diagnostic logs, the maintenance schedules, and the kubeconfig with its
Kubernetes provider, which waits for the deployer's Kubernetes access.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
from pulumi_azure_native import containerservice as cs
from pulumi_azure_native import managedidentity

from infra.clouds.azure import kubeconfig, maintenance, monitoring, nodepools
from infra.clouds.azure.context import AzureContext, Deployer, Grant, assign
from infra.clouds.settle import settle
from infra.config.azure import AzureConfig
from infra.config.types import GpuPool


@dataclass(frozen=True, kw_only=True)
class GpuClusterArgs:
    """What the AKS cluster is built from: the stack's Azure section and GPU pools, the subnets it joins and
    the key vault and key KMS uses."""

    context: AzureContext
    cluster_name: str
    tenant_id: str
    config: AzureConfig
    gpu_pools: tuple[GpuPool, ...]
    vnet_id: pulumi.Input[str]
    system_subnet_id: pulumi.Input[str]
    gpu_subnet_id: pulumi.Input[str]
    api_server_subnet_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    kms_key: azure_native.keyvault.Key
    deployer: Deployer
    """Who runs `pulumi up`: it creates the Kubernetes objects, so it gets cluster-admin by Azure RBAC."""
    protect: bool
    api_admit: pulumi.Input[Sequence[str]] = ()
    """Single addresses the API server admits beside `config.api_access.authorized_cidrs` (the MultiKueue
    manager's NAT on a worker), each as a /32."""


class GpuCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubelet_principal_id: pulumi.Output[str]
    control_plane_principal_id: pulumi.Output[str]
    """The cluster identity, which AKS's cloud provider acts as when it builds load balancers."""
    kubeconfig: pulumi.Output[str]
    api_server: pulumi.Output[str]
    """The API server's public URL: `https://<fqdn>:443`, as the user kubeconfig names it."""
    ca_data: pulumi.Output[str]
    """The cluster CA (base64 PEM) from the user kubeconfig: a certificate, not a secret."""
    provider: k8s.Provider
    gpu_pools: dict[str, cs.AgentPool]

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:azure:GpuCluster", name, None, opts)
        self._name, self._args, context = name, args, args.context
        control_plane = self._identity("control-plane")
        kubelet = self._identity("kubelet")
        # AKS checks these grants while it creates the cluster (KMS fails with
        # AzureKeyVaultKmsValidateIdentityPermission while they propagate).
        grants = [settle(f"{name}-grants-settle", self._prerequisites(control_plane, kubelet), "2m", self)]
        logs = monitoring.workspace(
            f"{name}-logs", context, args.config.log_retention_days, self, args.protect
        )
        cluster = self._cluster(control_plane, kubelet, logs.id, grants)
        monitoring.audit_logs(f"{name}-audit", cluster.id, logs.id, args.config.audit_log, self)
        monitoring.container_insights(f"{name}-insights", context, cluster.id, logs.id, self)
        target = nodepools.PoolTarget(context=context, cluster=cluster, parent=self)
        # One pool after another, then the schedules: AKS refuses a write to a cluster's agent pools while
        # another is in progress (409 OperationNotAllowed).
        last: cs.AgentPool = nodepools.general_pool(name, args.config, args.system_subnet_id, target)
        self.gpu_pools = {}
        for p in args.gpu_pools:
            last = nodepools.gpu_pool(name, p, args.config, args.gpu_subnet_id, target, after=last)
            self.gpu_pools[p.name] = last
        maintenance.schedules(
            f"{name}-maintenance", context, cluster.name, args.config.maintenance_window, self, after=last
        )
        # Local accounts are off, so without this the deployer could create nothing in the cluster unless
        # it happened to be in adminGroupObjectIds.
        admin = assign(
            f"{name}-deployer-admin",
            context,
            args.deployer.grant("Azure Kubernetes Service RBAC Cluster Admin", cluster.id),
            self,
        )
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else "")
        self.kubelet_principal_id = kubelet.principal_id
        self.control_plane_principal_id = control_plane.principal_id
        user_kubeconfig = self._user_kubeconfig(cluster)
        self.kubeconfig = pulumi.Output.secret(user_kubeconfig.apply(kubeconfig.exec_kubeconfig))
        # The kubeconfig is secret as a whole; the CA in it is public (every client of the API server is
        # handed it to verify the server), so it leaves unmarked, for kubeconfigs made elsewhere.
        self.ca_data = pulumi.Output.unsecret(user_kubeconfig.apply(kubeconfig.ca_data))
        self.api_server = pulumi.Output.concat("https://", cluster.fqdn, ":443")
        # "New role assignments can take up to five minutes to propagate" to the cluster's authorizer
        # (learn.microsoft.com/azure/aks/manage-azure-rbac); until then every object is refused (403).
        access = settle(f"{name}-admin-settle", [admin], "5m", self)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access]),
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _identity(self, role: str) -> managedidentity.UserAssignedIdentity:
        return managedidentity.UserAssignedIdentity(
            f"{self._name}-{role}",
            resource_name_=f"{self._name}-{role}",
            resource_group_name=self._args.context.resource_group_name,
            location=self._args.context.location,
            tags=self._args.context.tags("cluster"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _prerequisites(
        self,
        control_plane: managedidentity.UserAssignedIdentity,
        kubelet: managedidentity.UserAssignedIdentity,
    ) -> list[pulumi.Resource]:
        """What the control-plane identity must hold before AKS creates anything with it."""
        a, cp = self._args, control_plane.principal_id
        grants = {
            # Joins node pools and the API server to our subnets, which carry our NAT gateway.
            "network": Grant("Network Contributor", cp, a.vnet_id),
            # Attaches the kubelet identity we bring to the node VMs.
            "kubelet-operator": Grant("Managed Identity Operator", cp, kubelet.id),
            # KMS wraps and unwraps the etcd data-encryption keys with this one key only.
            "kms-crypto": Grant("Key Vault Crypto User", cp, a.kms_key.id),
            # A private key vault: AKS creates the private endpoint KMS talks through.
            "kms-private-link": Grant("Key Vault Contributor", cp, a.vault_id),
        }
        return [assign(f"{self._name}-{key}", a.context, g, self) for key, g in grants.items()]

    def _cluster(
        self,
        control_plane: managedidentity.UserAssignedIdentity,
        kubelet: managedidentity.UserAssignedIdentity,
        workspace_id: pulumi.Output[str],
        grants: Sequence[pulumi.Resource],
    ) -> cs.ManagedCluster:
        a, c = self._args, self._args.config
        return cs.ManagedCluster(
            f"{self._name}-aks",
            resource_name_=a.cluster_name,
            resource_group_name=a.context.resource_group_name,
            location=a.context.location,
            dns_prefix=a.cluster_name,
            kubernetes_version=c.kubernetes_version,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier=c.sku_tier),
            identity=cs.ManagedClusterIdentityArgs(
                type="UserAssigned", user_assigned_identities=[control_plane.id]
            ),
            identity_profile={"kubeletidentity": _kubelet_identity(kubelet)},
            agent_pool_profiles=[nodepools.system_profile(c, a.system_subnet_id)],
            api_server_access_profile=self._api_access(),
            aad_profile=self._aad(),
            disable_local_accounts=True,
            enable_rbac=True,
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=self._security(),
            network_profile=self._network_profile(),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=c.upgrade_channel, node_os_upgrade_channel=c.node_os_upgrade_channel
            ),
            addon_profiles=_addons(workspace_id),
            tags=a.context.tags("cluster"),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=a.protect,
                depends_on=list(grants),
                # The autoscaler owns the system pool's node count after creation.
                ignore_changes=["agentPoolProfiles[0].count"],
            ),
        )

    def _aad(self) -> cs.ManagedClusterAADProfileArgs:
        return cs.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            admin_group_object_ids=list(self._args.config.admin_group_object_ids),
            tenant_id=self._args.tenant_id,
        )

    def _api_access(self) -> cs.ManagedClusterAPIServerAccessProfileArgs:
        access = self._args.config.api_access
        return cs.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=access.private_endpoint,
            authorized_ip_ranges=(
                None
                if access.private_endpoint
                else authorized_ranges(access.authorized_cidrs, self._args.api_admit)
            ),
            # VNet integration puts the API server in our delegated subnet: nodes reach it privately and
            # KMS can use a key vault without public access.
            enable_vnet_integration=True,
            subnet_id=self._args.api_server_subnet_id,
        )

    def _security(self) -> cs.ManagedClusterSecurityProfileArgs:
        return cs.ManagedClusterSecurityProfileArgs(
            workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            azure_key_vault_kms=cs.AzureKeyVaultKmsArgs(
                enabled=True,
                # AKS KMS needs the versioned key id; a rotated key is picked up on the next `pulumi up`.
                key_id=self._args.kms_key.key_uri_with_version,
                key_vault_network_access="Private",
                key_vault_resource_id=self._args.vault_id,
            ),
        )

    def _network_profile(self) -> cs.ContainerServiceNetworkProfileArgs:
        c = self._args.config
        return cs.ContainerServiceNetworkProfileArgs(
            network_plugin="azure",
            network_plugin_mode="overlay",
            network_policy=c.network_policy,
            network_dataplane="cilium" if c.network_policy == "cilium" else "azure",
            pod_cidr=c.pod_cidr,
            service_cidr=c.service_cidr,
            dns_service_ip=dns_service_ip(c.service_cidr),
            outbound_type="userAssignedNATGateway",
            load_balancer_sku="standard",
        )

    def _user_kubeconfig(self, cluster: cs.ManagedCluster) -> pulumi.Output[str]:
        """The user kubeconfig AKS returns (base64 YAML): its server and CA, no credential (`exec`)."""
        creds = cs.list_managed_cluster_user_credentials_output(
            resource_group_name=self._args.context.resource_group_name,
            resource_name=cluster.name,
            format="exec",
            opts=self._args.context.invoke_opts(depends_on=[cluster]),
        )
        value: pulumi.Output[str] = creds.apply(lambda r: r.kubeconfigs[0].value)
        return value


def _kubelet_identity(kubelet: managedidentity.UserAssignedIdentity) -> cs.UserAssignedIdentityArgs:
    return cs.UserAssignedIdentityArgs(
        resource_id=kubelet.id, client_id=kubelet.client_id, object_id=kubelet.principal_id
    )


def _addons(workspace_id: pulumi.Input[str]) -> dict[str, cs.ManagedClusterAddonProfileArgs]:
    return {
        # Azure Policy's Gatekeeper admission: the trusted-image and pod-security policies (CP-13).
        "azurepolicy": cs.ManagedClusterAddonProfileArgs(enabled=True),
        # Container insights, authenticating with its managed identity instead of the workspace key.
        "omsagent": cs.ManagedClusterAddonProfileArgs(
            enabled=True, config={"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"}
        ),
    }


def authorized_ranges(
    cidrs: Sequence[str], admit: pulumi.Input[Sequence[str]]
) -> pulumi.Input[Sequence[str]]:
    """The API server's authorized ranges: `cidrs`, then each admitted address as a single-address CIDR
    (/32; `authorizedIPRanges` takes CIDRs) unless a range already there holds it. With nothing to admit,
    `cidrs` alone, as a plain list: the plan is then what it was before `api_admit`."""
    if isinstance(admit, Sequence) and not admit:
        return list(cidrs)
    return pulumi.Output.from_input(admit).apply(lambda ips: _with_hosts(cidrs, ips))


def _with_hosts(cidrs: Sequence[str], addresses: Sequence[str]) -> list[str]:
    ranges = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    out = list(cidrs)
    for address in addresses:
        host = ipaddress.ip_address(address)  # a bare address: ValueError on a range or a name
        if not any(host in r for r in ranges):
            single = ipaddress.ip_network(host)  # /32 (a NAT's IPv4 address)
            out.append(str(single))
            ranges.append(single)
    return out


def dns_service_ip(service_cidr: str) -> str:
    """The cluster DNS address: the service CIDR's .10, as AKS's own default does."""
    return str(ipaddress.IPv4Network(service_cidr)[10])
