"""The type tokens, property names and enum values the pricing rules read, checked against the installed
provider SDKs, so the rules fit the resources the cloud code will register."""

from __future__ import annotations

import pytest

from infra.gateway import crds
from plan.cost.estimate import FREE, RULES, is_free
from tests.plan import sdk


def _vendored_kinds() -> set[str]:
    """The type tokens of the vendored CRDs' served versions (`kubernetes:<group>/<version>:<Kind>`)."""
    return {
        f"kubernetes:{crd['spec']['group']}/{version['name']}:{crd['spec']['names']['kind']}"
        for crd in crds.every()
        for version in crd["spec"]["versions"]
        if version.get("served")
    }


@pytest.mark.parametrize("token", sorted(RULES))
def test_rule_tokens_exist_in_the_sdks(token: str) -> None:
    """A custom resource's kind has no SDK module: it must be one the vendored CRDs serve."""
    if token in _vendored_kinds():
        return
    sdk.source(token)
    assert not is_free(token) or token.startswith(("kubernetes:", "aws:s3/bucketV2"))


PROPERTIES = {
    "aws:eks/cluster:Cluster": ["upgradePolicy", "supportType", "version"],
    "aws:eks/nodeGroup:NodeGroup": [
        "instanceTypes",
        "scalingConfig",
        "minSize",
        "maxSize",
        "capacityType",
        "diskSize",
        "labels",
    ],
    "aws:ec2/launchTemplate:LaunchTemplate": [
        "blockDeviceMappings",
        "ebs",
        "volumeSize",
        "volumeType",
        "instanceType",
    ],
    "aws:ec2/subnet:Subnet": ["tags"],
    "aws:kms/key:Key": ["enableKeyRotation"],
    "aws:lb/loadBalancer:LoadBalancer": ["loadBalancerType", "internal"],
    "aws:ec2/vpcEndpoint:VpcEndpoint": ["vpcEndpointType", "subnetIds"],
    "gcp:container/cluster:Cluster": ["location", "nodeLocations", "loggingConfig", "enableComponents"],
    "gcp:container/nodePool:NodePool": [
        "nodeConfig",
        "machineType",
        "spot",
        "diskSizeGb",
        "diskType",
        "guestAccelerators",
        "autoscaling",
        "totalMinNodeCount",
        "totalMaxNodeCount",
        "minNodeCount",
        "maxNodeCount",
        "nodeCount",
        "initialNodeCount",
    ],
    "gcp:compute/routerNat:RouterNat": ["natIpAllocateOption", "natIps"],
    "gcp:kms/cryptoKey:CryptoKey": ["versionTemplate", "protectionLevel", "rotationPeriod"],
    "gcp:storage/bucket:Bucket": ["storageClass"],
    "azure-native:containerservice:ManagedCluster": [
        "sku",
        "tier",
        "agentPoolProfiles",
        "vmSize",
        "count",
        "minCount",
        "maxCount",
        "enableAutoScaling",
        "scaleSetPriority",
        "osDiskType",
        "osDiskSizeGB",
        "mode",
        "networkProfile",
        "outboundType",
    ],
    "azure-native:containerservice:AgentPool": [
        "vmSize",
        "count",
        "minCount",
        "maxCount",
        "enableAutoScaling",
        "scaleSetPriority",
        "osDiskType",
        "osDiskSizeGB",
        "nodeLabels",
    ],
    "azure-native:network:PublicIPAddress": ["sku", "name"],
    "azure-native:keyvault:Key": ["properties", "kty"],
    "azure-native:storage:StorageAccount": ["sku", "name"],
    "azure-native:containerregistry:Registry": ["sku", "name"],
    "kubernetes:core/v1:Service": ["spec", "type", "metadata", "annotations"],
}
VALUES = {
    "aws:ec2/vpcEndpoint:VpcEndpoint": ["Gateway", "Interface"],
    "azure-native:containerservice:ManagedCluster": [
        "Free",
        "Standard",
        "Premium",
        "System",
        "Spot",
        "Ephemeral",
        "Managed",
        "loadBalancer",
        "managedNATGateway",
        "userAssignedNATGateway",
    ],
    "azure-native:containerregistry:Registry": ["Basic", "Standard", "Premium"],
    "azure-native:storage:StorageAccount": [
        "Standard_LRS",
        "Standard_ZRS",
        "Standard_GRS",
        "Standard_RAGZRS",
    ],
    "azure-native:keyvault:Key": ["RSA", "RSA-HSM"],
}


@pytest.mark.parametrize("token", sorted(PROPERTIES))
def test_rules_read_properties_the_sdks_define(token: str) -> None:
    missing = [p for p in PROPERTIES[token] if not sdk.has_property(token, p)]
    missing += [v for v in VALUES.get(token, []) if not sdk.has_value(token, v)]
    assert not missing, f"{token}: {missing}"


def test_free_patterns_do_not_hide_a_priced_type() -> None:
    shadowed = [t for t in RULES if is_free(t) and not t.startswith(("kubernetes:", "aws:s3/bucketV2"))]
    assert not shadowed
    assert all(p.count(":") >= 1 for p in FREE)
