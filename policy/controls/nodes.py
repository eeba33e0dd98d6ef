"""Node controls, part one: instance metadata (ND-01, ND-02), shielded and dedicated nodes (ND-03, ND-04),
node image and repair (ND-05), and no public node IPs or SSH (ND-06)."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import (
    Props,
    as_list,
    equals,
    explicitly_true,
    get,
    is_true,
    number,
    present,
    unknown,
)
from policy.model.stack import Stack, Violation

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SUBNET = "aws:ec2/subnet:Subnet"
GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
AKS = "azure-native:containerservice:ManagedCluster"
AKS_POOL = "azure-native:containerservice:AgentPool"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
COMPUTE_DEFAULT_SUFFIX = "-compute@developer.gserviceaccount.com"

ND01 = control(
    "ND-01",
    "IMDSv2 only, hop limit 1",
    "EKS nodes boot from a launch template of this stack that requires IMDSv2 tokens with a hop limit of 1, "
    "so pods cannot reach the node role's credentials.",
)
ND02 = control(
    "ND-02",
    "Metadata concealment (GKE)",
    "GKE node pools run the GKE metadata server (workloadMetadataConfig.mode GKE_METADATA).",
)
ND03 = control(
    "ND-03",
    "Shielded nodes (GKE)",
    "The GKE cluster enables shielded nodes, and every pool has secure boot and integrity monitoring.",
)
ND04 = control(
    "ND-04",
    "Dedicated node service account; no default pool (GKE)",
    "GKE pools run as a dedicated service account (never the Compute Engine default) with the "
    "cloud-platform scope, and the default pool is removed.",
)
ND05 = control(
    "ND-05",
    "COS, auto-repair, auto-upgrade (GKE)",
    "GKE pools use Container-Optimized OS with containerd, and auto-repair and auto-upgrade.",
)
ND06 = control(
    "ND-06",
    "No public node IPs, no SSH",
    "AKS pools have no public node IPs; EKS node groups have no SSH remote access and sit in subnets that "
    "assign no public IPs.",
)


@resource_rule(ND01, LAUNCH_TEMPLATE)
def imdsv2(_: str, props: Props) -> Iterator[str]:
    if not equals(get(props, "metadataOptions.httpTokens"), "required"):
        yield 'metadataOptions.httpTokens must be "required" (IMDSv2 only)'
    hops = get(props, "metadataOptions.httpPutResponseHopLimit")
    if not unknown(hops) and number(hops) != 1:
        yield "metadataOptions.httpPutResponseHopLimit must be 1"


@stack_rule(ND01)
def node_groups_use_template(stack: Stack) -> list[Violation]:
    found = []
    for group in stack.of(NODE_GROUP):
        if not present(group.props.get("launchTemplate")):
            found.append(group.violation(ND01, "needs a launchTemplate (IMDSv2, hop limit 1)"))
        elif not stack.deps(group, LAUNCH_TEMPLATE, via="launchTemplate"):
            found.append(group.violation(ND01, "launchTemplate must point to a LaunchTemplate of this stack"))
    return found


@resource_rule(ND02, GKE_POOL)
def gke_metadata(_: str, props: Props) -> Iterator[str]:
    if not equals(get(props, "nodeConfig.workloadMetadataConfig.mode"), "GKE_METADATA"):
        yield 'nodeConfig.workloadMetadataConfig.mode must be "GKE_METADATA"'


@resource_rule(ND03, GKE, GKE_POOL)
def shielded(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        if not is_true(props.get("enableShieldedNodes")):
            yield "enableShieldedNodes must be true"
        return
    for key in ("enableSecureBoot", "enableIntegrityMonitoring"):
        if not is_true(get(props, f"nodeConfig.shieldedInstanceConfig.{key}")):
            yield f"nodeConfig.shieldedInstanceConfig.{key} must be true"


@resource_rule(ND04, GKE, GKE_POOL)
def node_service_account(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == GKE.lower():
        if not is_true(props.get("removeDefaultNodePool")):
            yield "removeDefaultNodePool must be true"
        return
    account = get(props, "nodeConfig.serviceAccount")
    default = account == "default" or str(account).endswith(COMPUTE_DEFAULT_SUFFIX)
    if not present(account) or default:
        yield "nodeConfig.serviceAccount must be a dedicated service account, not the Compute Engine default"
    scopes = get(props, "nodeConfig.oauthScopes")
    if not unknown(scopes) and as_list(scopes) != [CLOUD_PLATFORM]:
        yield f"nodeConfig.oauthScopes must be [{CLOUD_PLATFORM}] (IAM roles limit the nodes)"


@resource_rule(ND05, GKE_POOL)
def node_image(_: str, props: Props) -> Iterator[str]:
    image = get(props, "nodeConfig.imageType")
    if not unknown(image) and str(image or "").upper() != "COS_CONTAINERD":
        yield 'nodeConfig.imageType must be "COS_CONTAINERD"'
    for key in ("autoRepair", "autoUpgrade"):
        if not is_true(get(props, f"management.{key}")):
            yield f"management.{key} must be true"


@resource_rule(ND06, AKS, AKS_POOL, NODE_GROUP, LAUNCH_TEMPLATE)
def no_public_nodes(type_: str, props: Props) -> Iterator[str]:
    token = type_.lower()
    if token == AKS.lower():
        for profile in as_list(props.get("agentPoolProfiles")):
            if explicitly_true(profile.get("enableNodePublicIP")):
                yield f"agentPoolProfiles '{profile.get('name', '?')}' must not set enableNodePublicIP"
    elif token == AKS_POOL.lower():
        if explicitly_true(props.get("enableNodePublicIP")):
            yield "enableNodePublicIP must be false"
    elif token == NODE_GROUP.lower():
        if present(props.get("remoteAccess")):
            yield "remoteAccess (SSH to nodes) must not be set"
    else:
        for nic in as_list(props.get("networkInterfaces")):
            if explicitly_true(nic.get("associatePublicIpAddress")):
                yield "networkInterfaces must not set associatePublicIpAddress"


@stack_rule(ND06)
def node_subnets_private(stack: Stack) -> list[Violation]:
    found = []
    for group in stack.of(NODE_GROUP):
        for subnet in stack.deps(group, SUBNET, via="subnetIds"):
            if explicitly_true(subnet.props.get("mapPublicIpOnLaunch")):
                found.append(
                    subnet.violation(
                        ND06, f"hosts node group {group.name}; mapPublicIpOnLaunch must be false"
                    )
                )
    return found
