"""Control-plane controls, part two: network policy (CP-08), managed upgrades (CP-09), no local or legacy
auth (CP-10), workload identity (CP-11) and VPC-native networking (CP-12). Trusted-image admission (CP-13)
is in `admission.py`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import (
    Props,
    as_json,
    equals,
    explicitly_true,
    get,
    is_true,
    present,
    unknown,
)
from policy.model.stack import Stack, Violation

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"
EKS_ADDON = "aws:eks/addon:Addon"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
NETWORK_POLICIES = ("azure", "calico", "cilium")
RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE")
MIN_EKS_VERSION = (1, 32)
"""Oldest EKS version still in standard or extended support this pack accepts (docs.aws.amazon.com/eks/
latest/userguide/kubernetes-versions.html); raise it as versions retire."""

CP08 = control(
    "CP-08",
    "Network-policy enforcement on",
    "NetworkPolicy is enforced: the EKS vpc-cni add-on with enableNetworkPolicy, GKE network policy or "
    "Dataplane V2, AKS networkPolicy azure, calico or cilium.",
)
CP09 = control(
    "CP-09",
    "Managed upgrades",
    "GKE follows a release channel; AKS has an auto-upgrade and a node OS upgrade channel; EKS pins a "
    "supported version.",
)
CP10 = control(
    "CP-10",
    "No local or legacy auth",
    "No client certificates or legacy ABAC on GKE; AKS without local accounts, with Entra ID and Azure RBAC; "
    "EKS access entries only (authenticationMode API).",
)
CP11 = control(
    "CP-11",
    "Workload identity enabled on the cluster",
    "GKE workload pool <project>.svc.id.goog; AKS OIDC issuer and workload identity; EKS Pod Identity agent "
    "or an IAM OIDC provider.",
)
CP12 = control(
    "CP-12",
    "VPC-native / Azure CNI",
    "GKE uses alias IPs (ipAllocationPolicy); AKS uses the azure network plugin.",
)


@resource_rule(CP08, GKE, AKS, EKS_ADDON)
def network_policy(type_: str, props: Props) -> Iterator[str]:
    token = type_.lower()
    if token == GKE.lower():
        dataplane_v2 = props.get("datapathProvider") == "ADVANCED_DATAPATH"
        if not dataplane_v2 and not is_true(get(props, "networkPolicy.enabled")):
            yield 'networkPolicy.enabled must be true, or datapathProvider "ADVANCED_DATAPATH"'
    elif token == AKS.lower():
        if not equals(get(props, "networkProfile.networkPolicy"), *NETWORK_POLICIES):
            yield f"networkProfile.networkPolicy must be one of {', '.join(NETWORK_POLICIES)}"
    elif props.get("addonName") == "vpc-cni":
        values = as_json(props.get("configurationValues"))
        if unknown(props.get("configurationValues")):
            return
        if not isinstance(values, dict) or str(values.get("enableNetworkPolicy")).lower() != "true":
            yield 'configurationValues must set enableNetworkPolicy to "true"'


@stack_rule(CP08)
def eks_vpc_cni(stack: Stack) -> list[Violation]:
    addons = stack.of(EKS_ADDON)
    found = []
    for cluster in stack.of(EKS):
        mine = [
            a
            for a in addons
            if cluster.urn in a.linked("clusterName")
            or a.props.get("clusterName") == cluster.props.get("name")
        ]
        if not any(a.props.get("addonName") == "vpc-cni" for a in mine):
            found.append(cluster.violation(CP08, "needs the vpc-cni add-on with network policy enabled"))
    return found


def _eks_version(value: object) -> Iterator[str]:
    if unknown(value):
        return
    match = re.fullmatch(r"1\.(\d+)", str(value)) if value else None
    if match is None:
        yield f'version must pin a Kubernetes minor version like "1.33", got {value!r}'
    elif (1, int(match.group(1))) < MIN_EKS_VERSION:
        yield f"version {value} is past EKS support; use 1.{MIN_EKS_VERSION[1]} or later"


@resource_rule(CP09, EKS, GKE, AKS)
def managed_upgrades(type_: str, props: Props) -> Iterator[str]:
    token = type_.lower()
    if token == EKS.lower():
        yield from _eks_version(props.get("version"))
    elif token == GKE.lower():
        if not equals(get(props, "releaseChannel.channel"), *RELEASE_CHANNELS):
            yield f"releaseChannel.channel must be one of {', '.join(RELEASE_CHANNELS)}"
    else:
        channel = get(props, "autoUpgradeProfile.upgradeChannel")
        if not present(channel) or channel == "none":
            yield "autoUpgradeProfile.upgradeChannel must be set (not none)"
        os_channel = get(props, "autoUpgradeProfile.nodeOSUpgradeChannel")
        if not present(os_channel) or os_channel == "None":
            yield "autoUpgradeProfile.nodeOSUpgradeChannel must be set (not None)"


@resource_rule(CP10, EKS, GKE, AKS)
def no_local_auth(type_: str, props: Props) -> Iterator[str]:
    token = type_.lower()
    if token == EKS.lower():
        if not equals(get(props, "accessConfig.authenticationMode"), "API"):
            yield 'accessConfig.authenticationMode must be "API" (access entries, no aws-auth ConfigMap)'
    elif token == GKE.lower():
        # Both default to off in GKE; the rule refuses turning them on.
        if explicitly_true(get(props, "masterAuth.clientCertificateConfig.issueClientCertificate")):
            yield "masterAuth.clientCertificateConfig.issueClientCertificate must be false"
        if explicitly_true(props.get("enableLegacyAbac")):
            yield "enableLegacyAbac must be false"
    else:
        required = {
            "disableLocalAccounts": props.get("disableLocalAccounts"),
            "aadProfile.managed": get(props, "aadProfile.managed"),
            "aadProfile.enableAzureRBAC": get(props, "aadProfile.enableAzureRBAC"),
            "enableRBAC": props.get("enableRBAC"),
        }
        for key, value in required.items():
            if not is_true(value):
                yield f"{key} must be true"


@resource_rule(CP11, GKE, AKS)
def cluster_workload_identity(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        pool = get(props, "workloadIdentityConfig.workloadPool")
        project = props.get("project")
        if unknown(pool):
            return
        if not (isinstance(pool, str) and pool.endswith(".svc.id.goog")):
            yield 'workloadIdentityConfig.workloadPool must be "<project>.svc.id.goog"'
        elif isinstance(project, str) and not unknown(project) and pool != f"{project}.svc.id.goog":
            yield f"workloadIdentityConfig.workloadPool must be {project}.svc.id.goog, got {pool}"
        return
    if not is_true(get(props, "oidcIssuerProfile.enabled")):
        yield "oidcIssuerProfile.enabled must be true"
    if not is_true(get(props, "securityProfile.workloadIdentity.enabled")):
        yield "securityProfile.workloadIdentity.enabled must be true"


@stack_rule(CP11)
def eks_pod_identity(stack: Stack) -> list[Violation]:
    agent = any(a.props.get("addonName") == "eks-pod-identity-agent" for a in stack.of(EKS_ADDON))
    if agent or stack.of(OIDC_PROVIDER):
        return []
    return [
        cluster.violation(CP11, "needs the eks-pod-identity-agent add-on or an IAM OIDC provider")
        for cluster in stack.of(EKS)
    ]


@resource_rule(CP12, GKE, AKS)
def vpc_native(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        if not present(props.get("ipAllocationPolicy")):
            yield "ipAllocationPolicy must be set (VPC-native)"
        if props.get("networkingMode") == "ROUTES":
            yield 'networkingMode must be "VPC_NATIVE"'
    elif not equals(get(props, "networkProfile.networkPlugin"), "azure"):
        yield 'networkProfile.networkPlugin must be "azure"'
